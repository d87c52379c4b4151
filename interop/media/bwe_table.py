#!/usr/bin/env python3
"""Judges one cell of suite 71-bwe-chromium: Chromium and media-peer sending to each other at
the same time over interop/shaped-path, each direction through its own bottleneck of the
delay line. Reads the three records of the run and prints one table row (or the header).

  bwe_table.py header
  bwe_table.py row NAME CAPACITY_KBIT BASE_RTT_MS CHROMIUM.json PEER.json DELAY_LINE.jsonl
               --from SECONDS   (window start, seconds after the connection, or "step")

Utilisation and queueing delay come from the delay line, where the bottleneck is: bytes of
Ethernet frames that left in the window over capacity x window, and the time frames waited in
the rate limiter's queue (the queueing delay a sender adds to every RTT; with both directions
loaded at once, an endpoint's RTT sums both queues, so it cannot tell whose queue it is).
Direction ab is Chromium's (namespace A), ba is media-peer's. The rest comes from the
endpoints: Chromium's availableOutgoingBitrate and what it decoded of ours, our target.

Two verdicts per row (margins and the measured figures behind them: docs/bwe.md, "Side by
side with Chromium"):
  goal   issue 14's goal, printed, not enforced: our utilisation at least Chromium's (5 points
         of noise allowed) and our mean queueing delay no worse (at most 10 ms or half above);
  check  what the suite asserts (exit 1 when one fails):
  - Chromium decoded our video through the window (at least 10 frames/s) without a freeze,
    except in the first STEP_SETTLE seconds after a capacity step (the freezes there are
    printed);
  - our utilisation is at most UTIL_MARGIN below Chromium's;
  - our mean queueing delay is at most QUEUE_MARGIN_MS above Chromium's. This is looser than
    the goal because we do not meet it everywhere: at 400 kbit/s our sender keeps the
    bottleneck fuller than Chromium's (about 95 % against 88 %) with 18-22 ms more queueing.
"""
import json
import sys

UTIL_MARGIN = 0.05
QUEUE_MARGIN_MS = 30.0
GOAL_QUEUE_MS = 10.0
STEP_SETTLE = 5.0
MIN_DECODED_FPS = 10.0

COLUMNS = [
    ("cell", 14), ("link", 16), ("codec", 5),
    ("util C", 7), ("util us", 7), ("queue C", 12), ("queue us", 12),
    ("est C", 6), ("est us", 6), ("fps", 4), ("frz", 3), ("jb ms", 5), ("goal", 7), ("check", 5),
]


def fmt_row(values):
    return " | ".join(str(v).ljust(w) for v, (_, w) in zip(values, COLUMNS))


def delay_line_window(path, start, end):
    """Per direction: bytes, frames, dropped, mean and max wait within (start, end]."""
    out = {d: {"bytes": 0, "frames": 0, "dropped": 0, "queued": 0, "wait": 0.0, "max": 0.0}
           for d in ("ab", "ba")}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            # An interval is stamped at its end; it belongs to the window when it ends
            # inside it.
            if not (start < r["t"] <= end):
                continue
            o = out[r["dir"]]
            o["bytes"] += r["bytes"]
            o["frames"] += r["frames"]
            o["dropped"] += r["dropped"]
            o["queued"] += r["queued"]
            o["wait"] += r["waitMsSum"]
            o["max"] = max(o["max"], r["waitMsMax"])
    for o in out.values():
        o["mean"] = o["wait"] / o["queued"] if o["queued"] else 0.0
    return out


def at(samples, t):
    """The last sample taken at or before t (or the first)."""
    best = samples[0]
    for s in samples:
        if s["t"] <= t:
            best = s
    return best


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else 0.0


def row(argv):
    name, kbit, base_rtt, chromium_path, peer_path, dl_path = argv[:6]
    window_from = argv[argv.index("--from") + 1]
    kbit, base_rtt = float(kbit), float(base_rtt)
    chromium = json.load(open(chromium_path))
    peer = json.load(open(peer_path))
    samples = chromium["samples"]
    if not samples:
        print(f"{name}: Chromium took no samples ({chromium.get('error', 'no error recorded')})")
        return 1
    if window_from == "step":
        start = chromium["stepAt"]
    else:
        start = chromium["connectedAt"] + float(window_from)
    end = chromium["endedAt"]
    span = end - start
    dl = delay_line_window(dl_path, start, end)
    capacity = kbit * 1000 * span
    util_c = dl["ab"]["bytes"] * 8 / capacity
    util_us = dl["ba"]["bytes"] * 8 / capacity
    q_c, q_us = dl["ab"]["mean"], dl["ba"]["mean"]

    a, b = at(samples, start), at(samples, end)
    ia, ib = a.get("inbound") or {}, b.get("inbound") or {}
    decoded = (ib.get("framesDecoded") or 0) - (ia.get("framesDecoded") or 0)
    freezes = (ib.get("freezeCount") or 0) - (ia.get("freezeCount") or 0)
    emitted = (ib.get("jitterBufferEmittedCount") or 0) - (ia.get("jitterBufferEmittedCount") or 0)
    jb = ((ib.get("jitterBufferDelay") or 0) - (ia.get("jitterBufferDelay") or 0)) / emitted * 1000 if emitted else 0.0
    fps = decoded / (b["t"] - a["t"]) if b["t"] > a["t"] else 0.0
    in_window = [s for s in samples if start <= s["t"] <= end]
    est_c = mean([(s.get("pair") or {}).get("availableOutgoingBitrate") for s in in_window]) / 1000
    ours = [s for s in peer["bwe"]["samples"] if start <= s["t"] <= end and s.get("estimate")]
    est_us = mean([s["estimate"]["target"] for s in ours]) / 1000
    limits = sorted({s["estimate"]["limit"] for s in ours})
    rtt_c = mean([(s.get("pair") or {}).get("currentRoundTripTime") for s in in_window]) * 1000

    # Freezes after the step has settled (all of the window when there is no step).
    settled = start + STEP_SETTLE if window_from == "step" else start
    sa = at(samples, settled)
    isa = sa.get("inbound") or {}
    freezes_settled = (ib.get("freezeCount") or 0) - (isa.get("freezeCount") or 0)
    frozen_s = (ib.get("totalFreezesDuration") or 0) - (ia.get("totalFreezesDuration") or 0)

    failures = []
    if decoded == 0 or fps < MIN_DECODED_FPS:
        failures.append(f"Chromium decoded {decoded} frames of ours ({fps:.1f}/s)")
    if freezes_settled > 0:
        failures.append(f"Chromium froze {freezes_settled} times on our video"
                        + (f" after the first {STEP_SETTLE:g} s of the step" if window_from == "step" else ""))
    if util_us < util_c - UTIL_MARGIN:
        failures.append(f"our utilisation {util_us:.0%} is more than {UTIL_MARGIN:.0%} below Chromium's {util_c:.0%}")
    if q_us > q_c + QUEUE_MARGIN_MS:
        failures.append(f"our queueing delay {q_us:.1f} ms is more than {QUEUE_MARGIN_MS:g} ms above Chromium's {q_c:.1f} ms")
    goal = util_us >= util_c - UTIL_MARGIN and q_us <= max(q_c + GOAL_QUEUE_MS, 1.5 * q_c)
    link = f"{kbit:g}k {base_rtt:g}ms"
    print(fmt_row([
        name, link, chromium.get("codec", "?"),
        f"{util_c:.0%}", f"{util_us:.0%}",
        f"{q_c:.1f}/{dl['ab']['max']:.0f}", f"{q_us:.1f}/{dl['ba']['max']:.0f}",
        f"{est_c:.0f}", f"{est_us:.0f}", f"{fps:.0f}", freezes, f"{jb:.0f}",
        "met" if goal else "NOT MET", "FAIL" if failures else "pass",
    ]))
    print(f"  {name}: window {span:.1f} s; dropped (full queue or random loss): Chromium {dl['ab']['dropped']}, us "
          f"{dl['ba']['dropped']}; our estimate limited by {', '.join(limits) or '-'}; Chromium's "
          f"RTT {rtt_c:.0f} ms (base {base_rtt:g}, both queues); Chromium received "
          f"{decoded} frames of ours, {peer.get('keyFrameRequests', 0)} key frame requests; frozen "
          f"{frozen_s:.2f} s in all")
    for f in failures:
        print(f"  {name}: FAIL: {f}")
    return 1 if failures else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "header":
        print(fmt_row([c for c, _ in COLUMNS]))
        print("-+-".join("-" * w for _, w in COLUMNS))
        return 0
    if len(sys.argv) >= 9 and sys.argv[1] == "row":
        return row(sys.argv[2:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
