#!/usr/bin/env python3
"""Captures the first DTLS flight (the ClientHello) that Chromium sends.

Plays a minimal ICE-lite peer on one UDP port: answers Chromium's STUN Binding requests
(RFC 8489, short-term credential RFC 8445 section 7.2.2: MESSAGE-INTEGRITY keyed with our
ice-pwd, FINGERPRINT), so that Chromium's ICE succeeds and it starts DTLS, then records every
DTLS datagram (first byte 20..63, RFC 7983) it receives for a few seconds. Standard library
only. Run by capture.sh inside a loopback-only network namespace.

usage: capture.py PORT UFRAG PWD OUTDIR
"""
import hmac, hashlib, os, socket, struct, sys, time, zlib

MAGIC = 0x2112A442


def stun_attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def binding_success(req, addr, pwd):
    txid = req[8:20]
    ip = socket.inet_aton(addr[0])
    xport = addr[1] ^ (MAGIC >> 16)
    xip = struct.unpack("!I", ip)[0] ^ MAGIC
    attrs = stun_attr(0x0020, struct.pack("!BBHI", 0, 1, xport, xip))
    # MESSAGE-INTEGRITY over the message whose length already counts the MI attribute.
    head = struct.pack("!HHI", 0x0101, len(attrs) + 24, MAGIC) + txid
    mi = hmac.new(pwd.encode(), head + attrs, hashlib.sha1).digest()
    attrs += stun_attr(0x0008, mi)
    head = struct.pack("!HHI", 0x0101, len(attrs) + 8, MAGIC) + txid
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    attrs += stun_attr(0x8028, struct.pack("!I", crc))
    return head + attrs


def request_is_authentic(req, ufrag, pwd):
    """Checks USERNAME starts with our ufrag and MESSAGE-INTEGRITY is keyed with our pwd."""
    pos, username, mi_at = 20, None, None
    while pos + 4 <= len(req):
        t, length = struct.unpack("!HH", req[pos:pos + 4])
        if t == 0x0006:
            username = req[pos + 4:pos + 4 + length]
        if t == 0x0008:
            mi_at = pos
            break
        pos += 4 + length + (4 - length % 4) % 4
    if username is None or mi_at is None:
        return False
    if not username.decode(errors="replace").startswith(ufrag + ":"):
        return False
    head = req[:2] + struct.pack("!H", mi_at + 24 - 20) + req[4:mi_at]
    want = hmac.new(pwd.encode(), head, hashlib.sha1).digest()
    return hmac.compare_digest(want, req[mi_at + 4:mi_at + 24])


def main():
    port, ufrag, pwd, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    os.makedirs(outdir, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(0.2)
    print(f"capture: listening on 127.0.0.1:{port}", flush=True)
    start, first_dtls, dtls, stun_ok = time.time(), None, [], 0
    while time.time() - start < 60:
        if first_dtls and time.time() - first_dtls > 3:
            break
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        if data and data[0] < 4 and len(data) >= 20 and data[0:2] == b"\x00\x01":
            if request_is_authentic(data, ufrag, pwd):
                sock.sendto(binding_success(data, addr, pwd), addr)
                stun_ok += 1
            else:
                print("capture: STUN request failed authentication", flush=True)
        elif data and 20 <= data[0] <= 63:
            first_dtls = first_dtls or time.time()
            dtls.append((time.time() - first_dtls, data))
            print(f"capture: DTLS datagram {len(dtls)}: {len(data)} bytes "
                  f"at +{dtls[-1][0]:.3f} s", flush=True)
    print(f"capture: answered {stun_ok} STUN binding requests", flush=True)
    if not dtls:
        print("capture: no DTLS received", flush=True)
        sys.exit(1)
    for i, (t, data) in enumerate(dtls, 1):
        with open(os.path.join(outdir, f"datagram-{i}.bin"), "wb") as f:
            f.write(data)
    print(f"capture: wrote {len(dtls)} datagrams to {outdir}", flush=True)


if __name__ == "__main__":
    main()
