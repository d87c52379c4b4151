// Chromium (Debian /usr/bin/chromium through playwright-core) against `media-peer` through a
// lossy path (the suite drops UDP at random with iptables inside the namespace). Run inside
// the isolated namespace:
//   node chromium_resilience.mjs URL REPORT SECONDS OUT.json
// The page sends its fake microphone and camera, audio with RED for Opus preferred
// (`audio/red` first, as Chromium's own RED is negotiated) and video in VP8 with RED, ULPFEC
// and RTX allowed, without generic NACK (removed from its offer), POSTs the offer to URL and plays what comes back for SECONDS. It then
// writes OUT.json: the answer's codecs, Chromium's outbound-rtp and inbound-rtp for audio and
// video (packets, concealment, freezes, FEC), and media-peer's REPORT (JSON it rewrites every
// 500 ms) as it was at the end. The suite decides what passes; exit 0 when the run completed,
// 1 when it did not (no connection, no report, a timeout).
import { readFileSync, writeFileSync } from 'node:fs';
import { launch, openPage } from './chromium_common.mjs';

const [url, reportPath, secondsArg, outPath] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
const origin = new URL(url).origin;
const log = (s) => console.log(`chromium resilience: ${s}`);
const timer = setTimeout(() => { log('FAILED: timed out'); process.exit(1); }, (seconds + 60) * 1000);

const SCRIPT = `
async function stats(pc) {
  const out = { codecs: {} };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp') out['out_' + s.kind] = s;
    if (s.type === 'inbound-rtp') out['in_' + s.kind] = s;
    if (s.type === 'codec') out.codecs[s.id] = s.mimeType;
  });
  return out;
}
function prefer(kind, order) {
  const caps = RTCRtpReceiver.getCapabilities(kind).codecs;
  const out = [];
  for (const m of order) out.push(...caps.filter((c) => c.mimeType.toLowerCase() === m));
  return out;
}
async function resilienceTest(offerUrl, seconds) {
  const result = {};
  result.offeredAudio = RTCRtpReceiver.getCapabilities('audio').codecs.map((c) => c.mimeType);
  result.offeredVideo = RTCRtpReceiver.getCapabilities('video').codecs.map((c) => c.mimeType);
  const pc = new RTCPeerConnection();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480, frameRate: 30 } });
  const at = pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
  at.setCodecPreferences(prefer('audio', ['audio/red', 'audio/opus']));
  const vt = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendrecv', streams: [stream] });
  vt.setCodecPreferences(prefer('video', ['video/vp8', 'video/red', 'video/ulpfec', 'video/rtx']));
  playIncoming(pc);
  // No generic NACK from Chromium either (media-peer --no-nack leaves it out of its answer,
  // but Chromium's receiver takes it from its own offer): without it the loss stays lost
  // unless RED or FEC repairs it. PLI (nack pli) stays.
  const genericNack = /^a=rtcp-fb:\\d+ nack\\r\\n/gm;
  const answer = await offerAndConnect(pc, offerUrl, (sdp) => {
    result.offerNackLinesRemoved = (sdp.match(genericNack) || []).length;
    return sdp.replace(genericNack, '');
  });
  result.answerCodecs = sdpLines(answer.sdp, 'a=rtpmap:', 'a=rtcp-fb:');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s = await stats(pc);
  const pick = (o, keys) => o ? Object.fromEntries(keys.map((k) => [k, o[k]]).concat([['codec', s.codecs[o.codecId]]])) : null;
  result.outAudio = pick(s.out_audio, ['packetsSent', 'bytesSent', 'retransmittedPacketsSent', 'nackCount']);
  result.outVideo = pick(s.out_video, ['packetsSent', 'framesSent', 'keyFramesEncoded', 'retransmittedPacketsSent', 'nackCount', 'pliCount', 'fecPacketsSent']);
  result.inAudio = pick(s.in_audio, ['packetsReceived', 'packetsLost', 'totalSamplesReceived', 'concealedSamples', 'silentConcealedSamples', 'concealmentEvents', 'fecPacketsReceived', 'fecPacketsDiscarded', 'jitterBufferDelay', 'jitterBufferEmittedCount']);
  result.inVideo = pick(s.in_video, ['packetsReceived', 'packetsLost', 'framesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded', 'freezeCount', 'totalFreezesDuration', 'pliCount', 'nackCount', 'fecPacketsReceived', 'fecPacketsDiscarded']);
  pc.close();
  return result;
}
`;

const browser = await launch();
let code = 1;
try {
  const page = await openPage(browser, origin, 'resilience', SCRIPT);
  log(`${await browser.version()}, ${seconds} s`);
  const r = await page.evaluate(([u, n]) => resilienceTest(u, n), [url, seconds]);
  // media-peer rewrites its report every 500 ms: let it see the end of the stream.
  await new Promise((res) => setTimeout(res, 1200));
  r.mediaPeer = JSON.parse(readFileSync(reportPath, 'utf8'));
  writeFileSync(outPath, JSON.stringify(r, null, 1));
  log(`answer: ${r.answerCodecs.filter((l) => l.startsWith('a=rtpmap:')).join(' | ')}; ${r.offerNackLinesRemoved} generic NACK lines removed from the offer`);
  log(`chromium outbound audio ${JSON.stringify(r.outAudio)} video ${JSON.stringify(r.outVideo)}`);
  log(`chromium inbound audio ${JSON.stringify(r.inAudio)} video ${JSON.stringify(r.inVideo)}`);
  for (const s of r.mediaPeer.stats.inboundRtp || []) log(`media-peer inbound-rtp ${JSON.stringify(s)}`);
  for (const s of r.mediaPeer.stats.outboundRtp || []) log(`media-peer outbound-rtp ${JSON.stringify(s)}`);
  code = 0;
} catch (e) {
  log(`FAILED: ${e.message}`);
} finally {
  await browser.close();
  clearTimeout(timer);
}
process.exit(code);
