#!/usr/bin/env bash
# Coverage of the fuzz corpora, per crate: runs every target's corpus (fuzz/corpus/<target>)
# through a coverage build (`cargo fuzz coverage`), merges the profiles of all targets and
# prints, for each crate under crates/, the lines and regions of crates/<crate>/src that
# some corpus input reaches. Per-file figures go to fuzz/coverage/files.tsv (least covered
# first) and per-target ones to fuzz/coverage/targets.tsv.
#
#   bash fuzz/coverage.sh               every target that has a corpus
#   bash fuzz/coverage.sh T1 T2 ...     these targets only
#   FUZZ_COVERAGE_SKIP_BUILD=1 ...      reuse the profiles of the last run (table only)
#   FUZZ_CORPUS=DIR ...                 corpora in DIR/<target> instead of fuzz/corpus
#
# Build corpora first, e.g. `bash fuzz/corpus.sh 180` (3 min per target).
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
host=$(rustc -vV | sed -n 's/^host: //p')
tools="$(rustc --print sysroot)/lib/rustlib/$host/bin"
if [ ! -x "$tools/llvm-cov" ]; then
  rustup component add llvm-tools-preview
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
corpus=${FUZZ_CORPUS:-corpus}
mkdir -p coverage
objects=()
profiles=()
for t in "${targets[@]}"; do
  if [ -z "$(ls -A "$corpus/$t" 2>/dev/null)" ]; then
    echo "no corpus for $t: skipped (run fuzz/corpus.sh first)" >&2
    continue
  fi
  if [ -z "${FUZZ_COVERAGE_SKIP_BUILD:-}" ]; then
    echo "coverage of $t ($(ls "$corpus/$t" | wc -l) inputs)" >&2
    cargo fuzz coverage "$t" "$corpus/$t" >"coverage/$t.log" 2>&1 \
      || { tail -20 "coverage/$t.log" >&2; exit 1; }
  fi
  objects+=("target/$host/coverage/$host/release/$t")
  profiles+=("coverage/$t/coverage.profdata")
done
if [ ${#objects[@]} -eq 0 ]; then
  echo "no target has a corpus" >&2
  exit 1
fi
"$tools/llvm-profdata" merge -sparse "${profiles[@]}" -o coverage/all.profdata
args=("${objects[0]}")
for o in "${objects[@]:1}"; do args+=(-object "$o"); done
"$tools/llvm-cov" export -summary-only -instr-profile=coverage/all.profdata "${args[@]}" \
  >coverage/all.json
: >coverage/targets.tsv
for i in "${!objects[@]}"; do
  t=$(basename "${objects[$i]}")
  "$tools/llvm-cov" export -summary-only -instr-profile="${profiles[$i]}" "${objects[$i]}" \
    >"coverage/$t.json"
done
python3 - "$PWD/.." "${objects[@]}" <<'EOF'
import json, os, sys
root = os.path.realpath(sys.argv[1])
targets = [os.path.basename(o) for o in sys.argv[2:]]

def crates(path):
    out = {}
    files = []
    for data in json.load(open(path))["data"]:
        for f in data["files"]:
            name = os.path.realpath(f["filename"])
            rel = os.path.relpath(name, root)
            parts = rel.split(os.sep)
            if len(parts) < 4 or parts[0] != "crates" or parts[2] != "src":
                continue
            s = f["summary"]
            c = out.setdefault(parts[1], [0, 0, 0, 0])
            c[0] += s["lines"]["covered"]; c[1] += s["lines"]["count"]
            c[2] += s["regions"]["covered"]; c[3] += s["regions"]["count"]
            files.append((rel, s["lines"]["covered"], s["lines"]["count"]))
    return out, files

def pct(a, b):
    return f"{100 * a / b:.1f} %" if b else "-"

total, files = crates("coverage/all.json")
with open("coverage/files.tsv", "w") as f:
    f.write("file\tlines covered\tlines\tuncovered\n")
    for rel, cov, cnt in sorted(files, key=lambda x: x[1] - x[2]):
        f.write(f"{rel}\t{cov}\t{cnt}\t{cnt - cov}\n")
with open("coverage/targets.tsv", "w") as f:
    f.write("target\tcrate\tlines covered\tlines\n")
    for t in targets:
        per, _ = crates(f"coverage/{t}.json")
        for crate, c in sorted(per.items()):
            if c[0]:
                f.write(f"{t}\t{crate}\t{c[0]}\t{c[1]}\n")
print(f"Coverage of the corpora of {len(targets)} fuzz targets, files under crates/<crate>/src:\n")
print("| crate | lines covered | lines | line coverage | regions covered | regions | region coverage |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for crate, c in sorted(total.items()):
    print(f"| {crate} | {c[0]} | {c[1]} | {pct(c[0], c[1])} | {c[2]} | {c[3]} | {pct(c[2], c[3])} |")
EOF
