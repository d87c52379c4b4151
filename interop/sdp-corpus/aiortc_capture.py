"""Captures aiortc's offers and answers. Run inside the isolated namespace with the interop venv:
    python aiortc_capture.py OUTDIR WORKDIR [OUR_ANSWER_CMD...]
"""
import asyncio
import os
import subprocess
import sys

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

# aiortc would otherwise look for every host address; only loopback exists here.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

OUT, WORK, CMD = sys.argv[1], sys.argv[2], sys.argv[3:]


def write(directory, name, sdp):
    with open(f"{directory}/{name}", "w", newline="") as f:
        f.write(sdp)
    print(f"captured {name} ({len(sdp)} bytes)")


def new_pc(media):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if media:
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(VideoStreamTrack())
    return pc


async def main():
    failed = False
    for name, media in (("offer-av-data", True), ("offer-data", False)):
        pc = new_pc(media)
        pc.createDataChannel("capture")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        write(OUT, f"aiortc-{name}.sdp", offer)

        pc2 = new_pc(media)
        await pc2.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc2.setLocalDescription(await pc2.createAnswer())
        write(OUT, f"aiortc-{name.replace('offer', 'answer')}.sdp", pc2.localDescription.sdp)
        await pc2.close()

        if CMD:
            ours = subprocess.run(CMD, input=offer.encode(), capture_output=True, check=True).stdout.decode()
            write(WORK, f"aiortc-{name}.our-answer.sdp", ours)
            try:
                await pc.setRemoteDescription(RTCSessionDescription(ours, "answer"))
                print(f"check aiortc-{name}: accepted: signalingState={pc.signalingState}")
            except Exception as e:  # noqa: BLE001 - report any rejection
                print(f"check aiortc-{name}: REJECTED: {type(e).__name__}: {e}")
                failed = True
        await pc.close()
    # Our offers (examples/jsep-offer.rs), answered by aiortc and checked by our side.
    our = os.environ.get("OUR_OFFER")
    for kind, media in (("av-data", True), ("data", False)) if our else ():
        offer = subprocess.run([our, "offer", kind], capture_output=True, check=True).stdout.decode()
        pc = new_pc(media)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = pc.localDescription.sdp
        write(WORK, f"aiortc-{kind}.our-offer-answer.sdp", answer)
        res = subprocess.run([our, "check", kind], input=answer.encode(), capture_output=True)
        if res.returncode == 0:
            print(f"check aiortc-our-offer-{kind}: accepted: {res.stdout.decode().strip()}")
        else:
            print(f"check aiortc-our-offer-{kind}: REJECTED: {res.stderr.decode().strip()}")
            failed = True
        await pc.close()
    return 1 if failed else 0


sys.exit(asyncio.run(main()))
