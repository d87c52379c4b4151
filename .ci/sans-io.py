#!/usr/bin/env python3
"""The sans-IO rule, checked: no protocol crate reaches an async runtime or socket library
through its normal dependencies, and none reads a clock, opens a socket, starts a thread,
sleeps or reads the environment in its library code.

Protocol crates are every workspace member under crates/ except the I/O crates named below.
Any failure to read the workspace (cargo metadata failing, no crate found) is a failure of
this check, never a pass.
"""

import json
import pathlib
import re
import subprocess
import sys

# Crates that do I/O by design (docs/architecture.md): everything else under crates/ is a
# protocol crate.
IO_CRATES = {"rtcweb-tokio"}
# Runtimes, socket and OS-interface libraries a state machine must not pull in.
FORBIDDEN_DEPS = {"tokio", "async-std", "smol", "mio", "socket2", "if-addrs", "mdns-sd", "hyper"}
# Library code (outside `#[cfg(test)]` modules and comments) must not contain these.
FORBIDDEN_CODE = [
    (re.compile(r"\bInstant::now\s*\("), "reads the clock"),
    (re.compile(r"\bSystemTime::now\s*\("), "reads the wall clock"),
    (re.compile(r"\b(UdpSocket|TcpStream|TcpListener)\b"), "opens a socket"),
    (re.compile(r"\bthread::(spawn|sleep)\b|\bstd::thread\b"), "uses a thread or sleeps"),
    (re.compile(r"\bstd::env\b|\benv::var"), "reads the environment"),
]


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            cwd=root, check=True, capture_output=True, text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    crates_dir = root / "crates"
    protocol = [
        packages[i] for i in meta["workspace_members"]
        if pathlib.Path(packages[i]["manifest_path"]).parent.parent == crates_dir
        and packages[i]["name"] not in IO_CRATES
    ]
    if len(protocol) < 10:
        print(f"sans-io: found only {len(protocol)} protocol crates under crates/: the workspace was not read")
        return 1

    failures = []
    for pkg in sorted(protocol, key=lambda p: p["name"]):
        # Walk normal (non-dev, non-build) dependencies.
        seen, stack, bad = set(), [pkg["id"]], []
        while stack:
            node = nodes[stack.pop()]
            for dep in node["deps"]:
                if not any(k["kind"] is None for k in dep["dep_kinds"]):
                    continue
                if dep["pkg"] in seen:
                    continue
                seen.add(dep["pkg"])
                name = packages[dep["pkg"]]["name"]
                if name in FORBIDDEN_DEPS:
                    bad.append(name)
                stack.append(dep["pkg"])
        for name in bad:
            failures.append(f"{pkg['name']} depends on {name} (cargo tree -e normal -i {name} -p {pkg['name']})")

        src = pathlib.Path(pkg["manifest_path"]).parent / "src"
        files = sorted(src.rglob("*.rs"))
        if not files:
            failures.append(f"{pkg['name']}: no source found under {src}")
        test_files = test_module_files(files)
        for path in files:
            if path in test_files:
                continue
            for lineno, line in library_lines(path):
                for pattern, what in FORBIDDEN_CODE:
                    if pattern.search(line):
                        failures.append(f"{path.relative_to(root)}:{lineno}: {what}: {line.strip()}")

    for f in failures:
        print(f"sans-io: {f}")
    if failures:
        return 1
    print(f"sans-io: {len(protocol)} protocol crates checked: " + ", ".join(sorted(p["name"] for p in protocol)))
    return 0


def test_module_files(files):
    """Files that are whole test modules: declared as `#[cfg(test)] mod name;`, with or
    without a `#[path = "..."]` attribute."""
    out = set()
    for path in files:
        lines = [l.strip() for l in path.read_text().splitlines()]
        for i, line in enumerate(lines):
            if line != "#[cfg(test)]":
                continue
            explicit = None
            for nxt in lines[i + 1 : i + 4]:
                p = re.match(r'#\[path\s*=\s*"([^"]+)"\]', nxt)
                if p:
                    explicit = path.parent / p.group(1)
                    continue
                m = re.match(r"(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", nxt)
                if m:
                    if explicit is not None:
                        out.add(explicit)
                    else:
                        base = (
                            path.parent
                            if path.name in ("mod.rs", "lib.rs", "main.rs")
                            else path.with_suffix("")
                        )
                        out.add(base / f"{m.group(1)}.rs")
                        out.add(base / m.group(1) / "mod.rs")
                break
    return out


def library_lines(path: pathlib.Path):
    """Lines of library code: up to the first `#[cfg(test)]` (test modules sit at the end of
    a file in this project), without comment lines."""
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#[cfg(test)]"):
            return
        if stripped.startswith("//"):
            continue
        yield lineno, line


if __name__ == "__main__":
    sys.exit(main())
