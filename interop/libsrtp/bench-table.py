#!/usr/bin/env python3
"""Turns the criterion results of the SRTP benches into the markdown tables of
docs/performance.md: median time per packet, packets per second, and our ratios.

    python3 interop/libsrtp/bench-table.py [CRITERION_DIR...]

CRITERION_DIR defaults to interop/libsrtp/target/criterion (the side-by-side run with
libsrtp2); pass target/criterion for the main workspace's `srtp` bench. With several
directories (copies of target/criterion from repeated runs) each cell is the median of the
runs' medians.
"""
import json
import os
import statistics
import sys

here = os.path.dirname(os.path.abspath(__file__))
roots = sys.argv[1:] or [os.path.join(here, "target", "criterion")]
profiles = [
    "SRTP_AES128_CM_HMAC_SHA1_80",
    "SRTP_AES128_CM_HMAC_SHA1_32",
    "SRTP_AEAD_AES_128_GCM",
    "SRTP_AEAD_AES_256_GCM",
]
impls = ["rtcweb-srtp", "libsrtp2", "webrtc-srtp", "aws-lc-rs floor"]


def median_ns(profile, direction, impl, size):
    found = []
    for root in roots:
        path = os.path.join(
            root, f"srtp_{profile}_{direction}", impl, str(size), "new", "estimates.json"
        )
        if os.path.exists(path):
            with open(path) as f:
                found.append(json.load(f)["median"]["point_estimate"])
    return statistics.median(found) if found else None


present = [i for i in impls if median_ns(profiles[0], "protect", i, 1200) is not None]
for size in (1200, 64):
    print(f"\n#### {size}-octet payload (median ns per packet, in brackets packets/s)\n")
    head = "| profile | direction | " + " | ".join(present)
    ratios = [i for i in ("libsrtp2", "webrtc-srtp") if i in present]
    head += "".join(f" | vs {r}" for r in ratios)
    head += " | over floor (ns) |" if "aws-lc-rs floor" in present else " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for p in profiles:
        for d in ("protect", "unprotect"):
            t = {i: median_ns(p, d, i, size) for i in present}
            cells = [f"{t[i]:.0f} ({1e9 / t[i] / 1e6:.2f} M)" if t[i] else "-" for i in present]
            ours = t["rtcweb-srtp"]
            row = f"| {p} | {d} | " + " | ".join(cells)
            if ours is None:
                continue
            row += "".join(f" | {t[r] / ours:.1f}x" if t[r] else " | -" for r in ratios)
            if "aws-lc-rs floor" in present:
                floor = t["aws-lc-rs floor"]
                row += f" | {ours - floor:+.0f}" if floor else " | -"
            print(row + " |")
