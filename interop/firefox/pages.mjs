// The pages Firefox runs for firefox_echo.mjs. Firefox is driven without WebDriver: the page
// does the whole test by itself and reports to the harness that served it (POST /log, POST
// /result), on the same origin (http://127.0.0.1, a secure context for getUserMedia).

// What both pages share: reporting, waiting for gathering, and the selected pair and inbound
// media from getStats (Firefox has no "transport" stats; its candidate-pair has `selected`).
const COMMON = `
function post(path, body) {
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}
function log(text) { return post('/log', { text }); }
window.onerror = (m) => { log('page error: ' + m); };
window.onunhandledrejection = (e) => { log('page error: ' + (e.reason && e.reason.message || e.reason)); };
function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
  });
}
function connected(pc) {
  return new Promise((resolve) => {
    const check = () => {
      if (pc.connectionState === 'connected') resolve(true);
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') resolve(false);
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}
async function selectedPair(pc) {
  const stats = await pc.getStats();
  const byId = new Map();
  stats.forEach((s) => byId.set(s.id, s));
  let out = null;
  stats.forEach((s) => {
    if (s.type === 'candidate-pair' && s.selected) {
      const l = byId.get(s.localCandidateId) || {}, r = byId.get(s.remoteCandidateId) || {};
      const addr = (c) => (c.address || c.ipAddress) + ':' + c.port + '/' + c.protocol + ' ' + c.candidateType;
      out = addr(l) + ' <-> ' + addr(r);
    }
  });
  return out;
}
async function inbound(pc) {
  const out = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') {
      out[s.kind] = { packetsReceived: s.packetsReceived, framesDecoded: s.framesDecoded,
        frameWidth: s.frameWidth, frameHeight: s.frameHeight };
    }
  });
  return out;
}
`;

/// Firefox as the webrtc-echoes client: offers (fake camera and microphone when asked, a data
/// channel when asked), posts the offer to /offer (which the harness passes on), applies the
/// answer, and checks what the query string `checks` names: dtls (connected), echo (a random
/// string comes back on the channel), video (the video that comes back decodes: framesDecoded
/// > 10), audio (> 50 audio packets come back). hold=SECONDS among them keeps the call
/// up that long after the checks.
export const CLIENT_PAGE = `<!doctype html><meta charset="utf-8"><title>firefox echo client</title><script>
${COMMON}
async function run() {
  const words = new URLSearchParams(location.search).get('checks').split(',');
  const checks = words.filter((w) => !w.startsWith('hold='));
  const hold = Number((words.find((w) => w.startsWith('hold=')) || 'hold=0').slice(5)) * 1000;
  const result = { checks: {} };
  const pc = new RTCPeerConnection();
  if (checks.includes('video') || checks.includes('audio')) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: checks.includes('audio'), video: checks.includes('video') ? { width: 320, height: 240 } : false });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
  }
  pc.ontrack = (e) => {
    const el = document.createElement(e.track.kind);
    el.autoplay = true;
    el.srcObject = new MediaStream([e.track]);
    document.body.appendChild(el);
  };
  let echoed = null;
  const text = 'firefox-' + Math.random().toString(16).slice(2);
  if (checks.includes('echo')) {
    const dc = pc.createDataChannel('echo');
    echoed = new Promise((resolve) => {
      dc.onopen = () => dc.send(text);
      dc.onmessage = (e) => { if (e.data === text) resolve(true); };
    });
  }
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  result.offerCandidates = pc.localDescription.sdp.split('\\r\\n').filter((l) => l.startsWith('a=candidate:')).length;
  const res = await post('/offer', pc.localDescription);
  if (!res.ok) throw new Error('POST /offer: ' + res.status + ' ' + await res.text());
  const answer = await res.json();
  result.answerCandidates = answer.sdp.split('\\r\\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
  await pc.setRemoteDescription(answer);
  result.checks.dtls = await connected(pc);
  result.selectedPair = await selectedPair(pc);
  if (echoed) result.checks.echo = await Promise.race([echoed, new Promise((r) => setTimeout(() => r(false), 10000))]);
  const media = checks.filter((c) => c === 'video' || c === 'audio');
  const deadline = Date.now() + 20000;
  while (media.length && result.checks.dtls && Date.now() < deadline) {
    result.inbound = await inbound(pc);
    const v = result.inbound.video || {}, a = result.inbound.audio || {};
    if (media.includes('video')) result.checks.video = (v.framesDecoded || 0) > 10;
    if (media.includes('audio')) result.checks.audio = (a.packetsReceived || 0) > 50;
    if (media.every((c) => result.checks[c])) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const c of checks) if (result.checks[c] === undefined) result.checks[c] = false;
  // hold=SECONDS: the call goes on that long after the checks, for a peer that counts what
  // it receives (media-peer's report).
  if (hold > 0 && result.checks.dtls) {
    await new Promise((r) => setTimeout(r, hold));
    result.inbound = await inbound(pc);
  }
  pc.close();
  return result;
}
run().then((r) => post('/result', r), (e) => post('/result', { error: String(e && e.message || e) }));
</script>`;

/// Firefox as the webrtc-echoes server: takes each offer the harness holds (GET /next-offer),
/// answers it with every candidate in the SDP (POST /answer), echoes every data channel
/// message back on its channel and every received track back on its own transceiver
/// (replaceTrack: Firefox decodes and encodes it again), and logs, for each connection, the
/// selected pair and the media it decoded.
export const SERVER_PAGE = `<!doctype html><meta charset="utf-8"><title>firefox echo server</title><script>
${COMMON}
let next = 0;
async function answer(id, offer) {
  const n = ++next;
  const pc = new RTCPeerConnection();
  pc.ondatachannel = ({ channel }) => {
    channel.onmessage = (e) => channel.send(e.data);
  };
  pc.onconnectionstatechange = async () => {
    log('connection ' + n + ': ' + pc.connectionState);
    if (pc.connectionState === 'connected') log('connection ' + n + ': selected pair ' + await selectedPair(pc));
  };
  await pc.setRemoteDescription(offer);
  for (const t of pc.getTransceivers()) {
    if (t.receiver && t.receiver.track) {
      t.direction = 'sendrecv';
      await t.sender.replaceTrack(t.receiver.track);
    }
  }
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  await post('/answer?id=' + id, pc.localDescription);
  // Report decoded media five times a second while the connection lives: echo-client's
  // video test lasts about a second, and a report once a second raced its end.
  const timer = setInterval(async () => {
    if (pc.connectionState === 'closed' || pc.connectionState === 'failed') return clearInterval(timer);
    const media = await inbound(pc);
    if (Object.keys(media).length) log('connection ' + n + ': inbound ' + JSON.stringify(media));
  }, 200);
}
async function loop() {
  for (;;) {
    const res = await fetch('/next-offer');
    if (res.status !== 200) { await new Promise((r) => setTimeout(r, 100)); continue; }
    const { id, offer } = await res.json();
    answer(id, offer).catch((e) => { log('answer ' + id + ' failed: ' + e); post('/answer?id=' + id, { error: String(e) }); });
  }
}
log('server page ready');
loop();
</script>`;
