// What the Chromium media drivers (chromium_media.mjs, chromium_bwe.mjs,
// chromium_resilience.mjs) share: launching Debian's /usr/bin/chromium through
// playwright-core with a fake camera and microphone, serving a page from the peer's origin,
// and the in-page steps every test page takes (pick a video codec, play what arrives, offer
// by HTTP POST to media-peer and wait for the connection).
import { chromium } from 'playwright-core';

/** Chromium with fake capture devices. `camera`: a Y4M file to loop instead of the built-in
 *  pattern; `secureOrigin`: an origin that is not loopback but must count as secure for
 *  getUserMedia; `loopback`: allow loopback candidates (the peer is on 127.0.0.1). */
export async function launch({ camera = null, secureOrigin = null, loopback = true } = {}) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      ...(loopback ? ['--allow-loopback-in-peer-connection'] : []),
      ...(secureOrigin ? [`--unsafely-treat-insecure-origin-as-secure=${secureOrigin}`] : []),
      ...(camera ? [`--use-file-for-fake-video-capture=${camera}`] : [])],
  });
}

/** A page at `origin/name.html` whose body is `script` after the shared in-page helpers;
 *  its console goes to ours. */
export async function openPage(browser, origin, name, script) {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`chromium console: ${m.text()}`));
  const body = `<!doctype html><meta charset="utf-8"><title>${name}</title><script>${IN_PAGE}\n${script}</script>`;
  await page.route(`${origin}/${name}.html`, (route) => route.fulfill({ contentType: 'text/html', body }));
  await page.goto(`${origin}/${name}.html`);
  return page;
}

// Runs in the page (a string: template-literal escapes, hence the doubled backslashes).
const IN_PAGE = `
const VIDEO_MIME = { vp8: 'video/VP8', h264: 'video/H264', av1: 'video/AV1' };
// The codec preferences that allow only CODEC (and RTX), or { notOffered, offered }.
function videoCodecs(codec) {
  const caps = RTCRtpReceiver.getCapabilities('video').codecs;
  let wanted = caps.filter((c) => c.mimeType === VIDEO_MIME[codec]);
  if (codec === 'h264') {
    // The profile rtcweb answers: constrained baseline, packetization mode 1.
    wanted = wanted.filter((c) => /packetization-mode=1/.test(c.sdpFmtpLine || '') && /profile-level-id=42e01f/.test(c.sdpFmtpLine || ''));
  }
  const offered = caps.map((c) => c.mimeType).filter((m, i, a) => a.indexOf(m) === i);
  if (wanted.length === 0) return { notOffered: true, offered };
  return { preferences: [...wanted, ...caps.filter((c) => c.mimeType === 'video/rtx')], offered };
}
// Plays every incoming track in an element of its kind (decoding needs a sink).
function playIncoming(pc) {
  pc.ontrack = (e) => {
    const el = document.createElement(e.track.kind);
    // Video muted as a camera page would; audio not, so it is played out (and concealed).
    el.autoplay = true; el.muted = e.track.kind === 'video';
    el.srcObject = new MediaStream([e.track]);
    document.body.appendChild(el);
    el.play().catch((err) => console.log('play: ' + err));
  };
}
// Offers (the offer's SDP passed through munge), waits for every candidate, POSTs the offer
// to offerUrl, applies the answer and waits for the connection. Returns the answer.
async function offerAndConnect(pc, offerUrl, munge = (sdp) => sdp) {
  const connected = new Promise((resolve, reject) => {
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') resolve();
      if (pc.connectionState === 'failed') reject(new Error('connection failed'));
    };
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription({ type: 'offer', sdp: munge(offer.sdp) });
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
  });
  const res = await fetch(offerUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pc.localDescription) });
  if (!res.ok) throw new Error('POST: ' + res.status);
  const answer = await res.json();
  await pc.setRemoteDescription(answer);
  await connected;
  return answer;
}
// The SDP lines of a description that start with one of the prefixes.
const sdpLines = (sdp, ...prefixes) => sdp.split('\\r\\n').filter((l) => prefixes.some((p) => l.startsWith(p)));
`;
