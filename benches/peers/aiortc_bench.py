"""dc-bench protocol (issue 9) with aiortc: two RTCPeerConnections in this process over UDP on
127.0.0.1, non-trickle in-process signaling, A offers one reliable ordered channel `bench`.

    interop/.venv/bin/python benches/peers/aiortc_bench.py throughput|smallmsg|setup \
        [--seconds S] [--pairs N]

Prints THROUGHPUT / SMALLMSG / SETUP lines like `dc-bench`, and the CPU time of the process
(getrusage, user + system) over the measured interval.
"""
import asyncio
import resource
import sys
import time

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection

# aiortc would otherwise look for every host address (and skips 127.0.0.1).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


async def connect():
    a = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    b = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    loop = asyncio.get_running_loop()
    remote = loop.create_future()
    opened = loop.create_future()

    @b.on("datachannel")
    def on_datachannel(channel):
        if not remote.done():
            remote.set_result(channel)

    start = time.perf_counter()
    dc = a.createDataChannel("bench")

    @dc.on("open")
    def on_open():
        if not opened.done():
            opened.set_result(True)

    # aiortc gathers inside setLocalDescription: the description then has every candidate.
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    channel = await remote
    await opened
    return a, b, dc, channel, time.perf_counter() - start


async def transfer(size, high, low, seconds):
    a, b, dc, remote, _ = await connect()
    counts = {"bytes": 0, "messages": 0}

    @remote.on("message")
    def on_message(message):
        counts["bytes"] += len(message)
        counts["messages"] += 1

    payload = bytes([0xA5]) * size
    drained = asyncio.Event()
    dc.bufferedAmountLowThreshold = low

    @dc.on("bufferedamountlow")
    def on_low():
        drained.set()

    cpu0 = cpu()
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        while dc.bufferedAmount < high:
            dc.send(payload)
        drained.clear()
        try:
            await asyncio.wait_for(drained.wait(), max(end - time.perf_counter(), 0.001))
        except asyncio.TimeoutError:
            break
    result = (counts["bytes"], counts["messages"], time.perf_counter() - start, cpu() - cpu0)
    await a.close()
    await b.close()
    return result


async def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode = sys.argv[1]
    opts = {"--seconds": 10, "--pairs": 20}
    for flag, value in zip(sys.argv[2::2], sys.argv[3::2]):
        opts[flag] = int(value)
    if mode == "throughput":
        nbytes, _, wall, used = await transfer(64 * 1024, 1024 * 1024, 512 * 1024, opts["--seconds"])
        print(f"THROUGHPUT aiortc {nbytes * 8 / wall / 1e6:.1f}")
        print(f"CPU aiortc cores={used / wall:.2f} cpu_s={used:.2f} wall_s={wall:.2f} "
              f"ns_per_byte={used * 1e9 / max(nbytes, 1):.2f}")
    elif mode == "smallmsg":
        _, messages, wall, used = await transfer(100, 4096, 2048, opts["--seconds"])
        print(f"SMALLMSG aiortc {messages / wall:.0f}")
        print(f"CPU aiortc cores={used / wall:.2f} cpu_s={used:.2f} wall_s={wall:.2f} "
              f"ns_per_message={used * 1e9 / max(messages, 1):.0f}")
    elif mode == "setup":
        samples, used = [], 0.0
        for _ in range(opts["--pairs"]):
            c0 = cpu()
            a, b, _, _, setup = await connect()
            used += cpu() - c0
            samples.append(setup * 1e3)
            await a.close()
            await b.close()
        samples.sort()
        print(f"SETUP aiortc median_ms={samples[len(samples) // 2]:.2f} min_ms={samples[0]:.2f} "
              f"max_ms={samples[-1]:.2f}")
        print(f"CPU aiortc cpu_ms_per_pair={used * 1e3 / opts['--pairs']:.2f} "
              "(including new RTCPeerConnection)")
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        sys.exit(2)


asyncio.run(main())
