"""Captures GStreamer webrtcbin offers and answers. Run with the system python3 (python3-gi)
inside the isolated namespace:
    /usr/bin/python3 gst_capture.py OUTDIR WORKDIR [OUR_ANSWER_CMD...]
"""
import os
import subprocess
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

OUT, WORK, CMD = sys.argv[1], sys.argv[2], sys.argv[3:]
Gst.init(None)

MEDIA = (
    "audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ! "
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! {name}. "
    "videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay pt=96 ! "
    "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! {name}. "
)


def write(directory, name, sdp):
    with open(f"{directory}/{name}", "w", newline="") as f:
        f.write(sdp)
    print(f"captured {name} ({len(sdp)} bytes)")


def wait_promise(reply):
    """`_promise` already waited; kept so call sites read as promise/wait pairs."""
    return reply


def desc(sdp_text, kind):
    _, msg = GstSdp.SDPMessage.new_from_text(sdp_text)
    return GstWebRTC.WebRTCSessionDescription.new(kind, msg)


def gathered(webrtc, loop_ctx):
    """Spins the main context until ICE gathering completes (or 5 s)."""
    deadline = GLib.get_monotonic_time() + 5_000_000
    while webrtc.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE:
        if GLib.get_monotonic_time() > deadline:
            break
        loop_ctx.iteration(False)
    return webrtc.get_property("local-description").sdp.as_text()


def make(name, media):
    desc_text = f"webrtcbin name={name} bundle-policy=max-bundle"
    if media:
        pipe = Gst.parse_launch(desc_text + " " + MEDIA.format(name=name))
    else:
        pipe = Gst.Pipeline.new(None)
        pipe.add(Gst.parse_launch(desc_text))
    webrtc = pipe.get_by_name(name)
    webrtc.needed = False

    def on_needed(_element):
        webrtc.needed = True

    webrtc.connect("on-negotiation-needed", on_needed)
    pipe.set_state(Gst.State.PLAYING)
    return pipe, webrtc


def spin_until(ctx, cond, seconds=5):
    deadline = GLib.get_monotonic_time() + seconds * 1_000_000
    while not cond() and GLib.get_monotonic_time() < deadline:
        ctx.iteration(False)


def main():
    ctx = GLib.MainContext.default()
    failed = False
    for name, media in (("offer-av-data", True), ("offer-data", False)):
        pipe, w1 = make("offerer", media)
        w1.emit("create-data-channel", "capture", None)
        spin_until(ctx, lambda: w1.needed)
        offer = wait_promise(_promise(w1, "create-offer")).get_value("offer")
        wait_promise(_promise(w1, "set-local-description", offer))
        offer_text = gathered(w1, ctx)
        write(OUT, f"gstreamer-{name}.sdp", offer_text)

        pipe2, w2 = make("answerer", media)
        wait_promise(_promise(w2, "set-remote-description", desc(offer_text, GstWebRTC.WebRTCSDPType.OFFER)))
        answer = wait_promise(_promise(w2, "create-answer")).get_value("answer")
        wait_promise(_promise(w2, "set-local-description", answer))
        write(OUT, f"gstreamer-{name.replace('offer', 'answer')}.sdp", gathered(w2, ctx))
        pipe2.set_state(Gst.State.NULL)

        if CMD:
            ours = subprocess.run(CMD, input=offer_text.encode(), capture_output=True, check=True).stdout.decode()
            write(WORK, f"gstreamer-{name}.our-answer.sdp", ours)
            res, msg = GstSdp.SDPMessage.new_from_text(ours)
            reply = wait_promise(
                _promise(w1, "set-remote-description", GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg))
            )
            err = reply.get_value("error") if reply is not None and reply.has_field("error") else None
            state = w1.get_property("signaling-state")
            if err is None and state == GstWebRTC.WebRTCSignalingState.STABLE:
                print(f"check gstreamer-{name}: accepted: signalingState=stable")
            else:
                print(f"check gstreamer-{name}: REJECTED: {err} state={state.value_nick}")
                failed = True
        pipe.set_state(Gst.State.NULL)
    # Our offers (examples/jsep-offer.rs), answered by webrtcbin and checked by our side.
    our = os.environ.get("OUR_OFFER")
    for kind, media in (("av-data", True), ("data", False)) if our else ():
        offer = subprocess.run([our, "offer", kind], capture_output=True, check=True).stdout.decode()
        pipe, w = make("answerer", media)
        wait_promise(_promise(w, "set-remote-description", desc(offer, GstWebRTC.WebRTCSDPType.OFFER)))
        answer = wait_promise(_promise(w, "create-answer")).get_value("answer")
        wait_promise(_promise(w, "set-local-description", answer))
        text = gathered(w, ctx)
        write(WORK, f"gstreamer-{kind}.our-offer-answer.sdp", text)
        res = subprocess.run([our, "check", kind], input=text.encode(), capture_output=True)
        if res.returncode == 0:
            print(f"check gstreamer-our-offer-{kind}: accepted: {res.stdout.decode().strip()}")
        else:
            print(f"check gstreamer-our-offer-{kind}: REJECTED: {res.stderr.decode().strip()}")
            failed = True
        pipe.set_state(Gst.State.NULL)
    return 1 if failed else 0


def _promise(webrtc, signal, *args):
    """Emits a promise-taking signal and runs the main loop until it is answered (5 s max).
    Returns the reply structure (the change-func form is the one that works from Python
    here; waiting on a plain promise gave a NULL offer)."""
    loop = GLib.MainLoop()
    box = {}

    def on_change(promise, *_):
        box["reply"] = promise.get_reply()
        box["promise"] = promise
        loop.quit()

    p = Gst.Promise.new_with_change_func(on_change, None, None)
    if signal in ("create-offer", "create-answer"):
        webrtc.emit(signal, None, p)
    else:
        webrtc.emit(signal, *args, p)
    GLib.timeout_add_seconds(5, loop.quit)
    loop.run()
    return box.get("reply")


sys.exit(main())
