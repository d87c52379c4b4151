// Chromium (Debian /usr/bin/chromium through playwright-core) as a webrtc-echoes client.
// Run inside the isolated namespace:
//   node chromium_client.mjs URL
// The page (served by playwright under URL's origin, so POSTing to URL is same-origin) takes
// the fake camera and microphone, sends both plus a data channel to the server, and checks:
// DTLS connects, a random string comes back on the channel, and the echoed tracks arrive and
// decode (inbound-rtp: video framesDecoded > 0, audio samples decoded beyond concealment).
// Prints one line per check and the stats; exit 0 when all pass, 1 otherwise (40 s limit).
import { chromium } from 'playwright-core';

const url = process.argv[2];
const origin = new URL(url).origin;
const timer = setTimeout(() => { console.log('chromium client: FAILED: timed out after 40 s'); process.exit(1); }, 40000);

const PAGE = `<!doctype html><meta charset="utf-8"><title>echo</title><script>
async function echoTest(offerUrl) {
  const result = { checks: {} };
  const pc = new RTCPeerConnection();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  const remote = {};
  pc.ontrack = (e) => {
    remote[e.track.kind] = e.track;
    // Chromium decodes remote audio only while something plays it out.
    const el = document.createElement(e.track.kind);
    el.autoplay = true;
    el.srcObject = new MediaStream([e.track]);
    document.body.appendChild(el);
    el.play().catch((err) => console.log('play ' + e.track.kind + ': ' + err));
  };
  const dc = pc.createDataChannel('echo');
  const text = 'chromium-' + Math.random().toString(16).slice(2);
  const echoed = new Promise((resolve) => {
    dc.onopen = () => dc.send(text);
    dc.onmessage = (e) => { if (e.data === text) resolve(e.data); };
  });
  const dtls = new Promise((resolve, reject) => {
    pc.onconnectionstatechange = () => {
      // connectionState 'connected' means ICE and DTLS are both up (W3C); the transport
      // stats below confirm the DTLS state (reading pc.sctp.transport.state in this event
      // races with Chromium creating the SCTP transport).
      if (pc.connectionState === 'connected') resolve('connected');
      if (pc.connectionState === 'failed') reject(new Error('connection failed'));
    };
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
  });
  const res = await fetch(offerUrl, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(pc.localDescription),
  });
  if (!res.ok) throw new Error('POST ' + offerUrl + ': ' + res.status + ' ' + await res.text());
  const answer = await res.json();
  await pc.setRemoteDescription(answer);
  result.answerDirections = answer.sdp.split('\\r\\n').filter((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l));
  const connected = (await dtls) === 'connected';
  const stats0 = await pc.getStats();
  stats0.forEach((s) => { if (s.type === 'transport') result.transport = { dtlsState: s.dtlsState, tlsVersion: s.tlsVersion, srtpCipher: s.srtpCipher, dtlsCipher: s.dtlsCipher }; });
  result.checks.dtls = connected && result.transport?.dtlsState === 'connected';
  result.checks.dataChannelEcho = (await echoed) === text;
  // Media: wait until the echoed video decodes and audio samples are more than concealment.
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const inbound = {};
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') inbound[s.kind] = s; });
    const v = inbound.video || {}, a = inbound.audio || {};
    result.inbound = {
      video: { packetsReceived: v.packetsReceived, framesDecoded: v.framesDecoded, keyFramesDecoded: v.keyFramesDecoded, frameWidth: v.frameWidth, frameHeight: v.frameHeight, codecId: v.codecId },
      audio: { packetsReceived: a.packetsReceived, totalSamplesReceived: a.totalSamplesReceived, concealedSamples: a.concealedSamples },
    };
    result.checks.videoDecoded = (v.framesDecoded || 0) > 10;
    result.checks.audioDecoded = (a.packetsReceived || 0) > 50 && (a.totalSamplesReceived || 0) > (a.concealedSamples || 0);
    if (result.checks.videoDecoded && result.checks.audioDecoded) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  result.remoteTracks = Object.keys(remote).sort();
  pc.close();
  return result;
}
</script>`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
});
let ok = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`chromium console: ${m.text()}`));
  await page.route(`${origin}/echo.html`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  await page.goto(`${origin}/echo.html`);
  console.log(`chromium client: ${await browser.version()}`);
  const r = await page.evaluate((u) => echoTest(u), url);
  console.log(`chromium client: answer directions ${r.answerDirections.join(' ')}; remote tracks ${r.remoteTracks.join(',')}`);
  console.log(`chromium client: transport ${JSON.stringify(r.transport)}`);
  console.log(`chromium client: inbound-rtp ${JSON.stringify(r.inbound)}`);
  for (const [name, passed] of Object.entries(r.checks)) console.log(`chromium client: ${name} ${passed ? 'passed' : 'FAILED'}`);
  ok = ['dtls', 'dataChannelEcho', 'videoDecoded', 'audioDecoded'].every((c) => r.checks[c] === true);
} catch (e) {
  console.log(`chromium client: FAILED: ${e.message}`);
} finally {
  await browser.close();
  clearTimeout(timer);
}
console.log(`chromium client: ${ok ? 'passed' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
