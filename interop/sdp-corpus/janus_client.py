"""Drives a local Janus over its HTTP API to capture its answers and offers.
    python3 janus_client.py OUTDIR WORKDIR [OUR_ANSWER_CMD...]
Janus answers through the EchoTest plugin (to the Chromium offers already in OUTDIR) and
offers through the Streaming plugin (mountpoint 1: audio+video+data, 2: data only).
Uses only the standard library; talks to 127.0.0.1:8088 inside the isolated namespace.
"""
import json
import os
import random
import subprocess
import sys
import urllib.request

OUT, WORK, CMD = sys.argv[1], sys.argv[2], sys.argv[3:]
BASE = "http://127.0.0.1:8088/janus"


def call(path, body):
    body = dict(body, transaction=str(random.random()))
    req = urllib.request.Request(BASE + path, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def next_event(session, need_jsep=True):
    """Long-polls until a plugin event arrives (with a jsep if `need_jsep`, or an error)."""
    for _ in range(20):
        with urllib.request.urlopen(f"{BASE}/{session}?maxev=1", timeout=35) as r:
            ev = json.load(r)
        if ev.get("janus") == "event":
            if need_jsep and "jsep" not in ev and "error" not in json.dumps(ev):
                continue
            return ev
    raise RuntimeError("no event from Janus")


def attach(session, plugin):
    return call(f"/{session}", {"janus": "attach", "plugin": plugin})["data"]["id"]


def write(directory, name, sdp):
    with open(f"{directory}/{name}", "w", newline="") as f:
        f.write(sdp)
    print(f"captured {name} ({len(sdp)} bytes)")


def main():
    failed = False
    session = call("", {"janus": "create"})["data"]["id"]
    # Janus as answerer: EchoTest answers the Chromium offers.
    for what in ("av-data", "data"):
        with open(f"{OUT}/chromium-offer-{what}.sdp", newline="") as f:
            offer = f.read()
        handle = attach(session, "janus.plugin.echotest")
        call(f"/{session}/{handle}", {
            "janus": "message",
            "body": {"audio": True, "video": True, "data": True},
            "jsep": {"type": "offer", "sdp": offer},
        })
        ev = next_event(session)
        if "jsep" not in ev:
            raise RuntimeError(f"Janus did not answer: {json.dumps(ev)}")
        write(OUT, f"janus-answer-{what}.sdp", ev["jsep"]["sdp"])
        call(f"/{session}/{handle}", {"janus": "detach"})
    # Janus as offerer: Streaming plugin offers its mountpoints.
    for what, mp in (("av-data", 1), ("data", 2)):
        handle = attach(session, "janus.plugin.streaming")
        call(f"/{session}/{handle}", {"janus": "message", "body": {"request": "watch", "id": mp}})
        ev = next_event(session)
        offer = ev["jsep"]["sdp"]
        write(OUT, f"janus-offer-{what}.sdp", offer)
        if CMD:
            ours = subprocess.run(CMD, input=offer.encode(), capture_output=True, check=True).stdout.decode()
            write(WORK, f"janus-offer-{what}.our-answer.sdp", ours)
            call(f"/{session}/{handle}", {
                "janus": "message",
                "body": {"request": "start"},
                "jsep": {"type": "answer", "sdp": ours},
            })
            ev = next_event(session, need_jsep=False)
            data = ev.get("plugindata", {}).get("data", {})
            if "error" in data or "error" in ev:
                print(f"check janus-offer-{what}: REJECTED: {data.get('error') or ev.get('error')}")
                failed = True
            else:
                print(f"check janus-offer-{what}: accepted: {json.dumps(data.get('result', data))}")
        call(f"/{session}/{handle}", {"janus": "detach"})
    # Our offers (examples/jsep-offer.rs), answered by EchoTest and checked by our side.
    our = os.environ.get("OUR_OFFER")
    for kind in ("av-data", "data") if our else ():
        offer = subprocess.run([our, "offer", kind], capture_output=True, check=True).stdout.decode()
        handle = attach(session, "janus.plugin.echotest")
        call(f"/{session}/{handle}", {
            "janus": "message",
            "body": {"audio": True, "video": True, "data": True},
            "jsep": {"type": "offer", "sdp": offer},
        })
        ev = next_event(session)
        if "jsep" not in ev:
            print(f"check janus-our-offer-{kind}: REJECTED: {json.dumps(ev)}")
            failed = True
        else:
            answer = ev["jsep"]["sdp"]
            write(WORK, f"janus-{kind}.our-offer-answer.sdp", answer)
            res = subprocess.run([our, "check", kind], input=answer.encode(), capture_output=True)
            if res.returncode == 0:
                print(f"check janus-our-offer-{kind}: accepted: {res.stdout.decode().strip()}")
            else:
                print(f"check janus-our-offer-{kind}: REJECTED: {res.stderr.decode().strip()}")
                failed = True
        call(f"/{session}/{handle}", {"janus": "detach"})
    call(f"/{session}", {"janus": "destroy"})
    return 1 if failed else 0


sys.exit(main())
