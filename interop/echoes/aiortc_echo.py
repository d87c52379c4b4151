"""aiortc as a webrtc-echoes peer. Run inside the isolated namespace with the interop venv.

    python aiortc_echo.py client URL TEST   offer a data channel to URL (POST /offer); TEST 0
                                            passes when DTLS connects, 1 when a random string
                                            comes back on the channel. Exit 0 / 1, 20 s limit.
    python aiortc_echo.py server PORT       answer POST /offer on 127.0.0.1:PORT and echo every
                                            data channel message (non-trickle: candidates in
                                            the answer).
"""
import asyncio
import json
import secrets
import sys
import urllib.request

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

# Only loopback exists in the namespace; aiortc would otherwise enumerate host addresses.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def new_pc():
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def post(url, body):
    req = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


async def client(url, test):
    loop = asyncio.get_running_loop()
    pc = new_pc()
    dc = pc.createDataChannel("echo")
    done = loop.create_future()
    text = "aiortc-" + secrets.token_hex(8)

    def finish(ok, what):
        if not done.done():
            done.set_result((ok, what))

    @dc.on("open")
    def on_open():
        dc.send(text)

    @dc.on("message")
    def on_message(message):
        if message == text:
            finish(True, f"{message!r} came back on the data channel")

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected" and test == "0":
            dtls = pc.sctp.transport
            finish(dtls.state == "connected", f"DTLS {dtls.state}, ICE {dtls.transport.state}")
        elif pc.connectionState == "failed":
            finish(False, "connection failed")

    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before returning
    body = json.dumps({"type": "offer", "sdp": pc.localDescription.sdp})
    answer = await loop.run_in_executor(None, post, url, body)
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    try:
        ok, what = await asyncio.wait_for(done, 20)
    except asyncio.TimeoutError:
        ok, what = False, "timed out after 20 s"
    await pc.close()
    print(f"aiortc client test {test}: {'passed' if ok else 'FAILED'}: {what}", flush=True)
    return 0 if ok else 1


async def server(port):
    peers = set()

    async def answer(offer):
        pc = new_pc()
        peers.add(pc)

        @pc.on("datachannel")
        def on_datachannel(channel):
            @channel.on("message")
            def on_message(message):
                channel.send(message)

        @pc.on("connectionstatechange")
        async def on_state():
            print(f"aiortc server: connection {pc.connectionState}", flush=True)
            if pc.connectionState in ("failed", "closed"):
                peers.discard(pc)
                await pc.close()

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        return {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}

    async def handle(reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
            if method == "POST" and path == "/offer":
                status, payload = "200 OK", json.dumps(await answer(json.loads(body)))
            else:
                status, payload = "404 Not Found", "POST /offer"
        except Exception as e:  # noqa: BLE001 - report any failure to the client
            status, payload = "400 Bad Request", f"{type(e).__name__}: {e}"
        data = payload.encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n\r\n".encode() + data
        )
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", port)
    print(f"aiortc server: POST http://127.0.0.1:{port}/offer", flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "client":
        sys.exit(asyncio.run(client(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "server":
        asyncio.run(server(int(sys.argv[2])))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
