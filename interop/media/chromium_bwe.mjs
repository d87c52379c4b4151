// Chromium (Debian /usr/bin/chromium through playwright-core) against `media-peer
// --send-test-pattern` on a shaped path (interop/shaped-path), for suite 71-bwe-chromium:
//   node chromium_bwe.mjs URL CODEC RESULT SECONDS [--at SECONDS COMMAND] [--camera FILE.y4m]
// The page sends its fake camera (640x480, 30 fps; with --camera, the Y4M file looped: the
// suite gives it media-peer's own test pattern, so both encoders have the same content) with only CODEC allowed (vp8 or h264, by
// setCodecPreferences) on one sendrecv transceiver, POSTs the offer to URL and plays what
// media-peer sends back. From the moment the connection is up it samples getStats() every
// 500 ms for SECONDS: the selected pair's availableOutgoingBitrate and RTT, outbound-rtp
// (what Chromium sends: bytes, target bitrate, encoder state) and inbound-rtp (what it
// receives from media-peer: bytes, framesDecoded, freezeCount, jitterBufferDelay, ...), each
// sample stamped with Unix time. `--at S COMMAND` runs COMMAND (a shell line) S seconds into
// the sampling, e.g. a capacity step (`interop/shaped-path set --rate-kbit 600`); its time is
// recorded. Everything goes to RESULT as JSON; the suite judges it (interop/media/bwe_table.py).
// Exit 0 when the sampling ran, 1 when it could not, 3 when Chromium does not offer CODEC.
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { launch, openPage } from './chromium_common.mjs';

const [url, codec, resultPath, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
const atIndex = process.argv.indexOf('--at');
const at = atIndex > 0 ? { seconds: Number(process.argv[atIndex + 1]), command: process.argv[atIndex + 2] } : null;
const cameraIndex = process.argv.indexOf('--camera');
const camera = cameraIndex > 0 ? process.argv[cameraIndex + 1] : null;
const origin = new URL(url).origin;
const log = (s) => console.log(`chromium bwe: ${s}`);
const timer = setTimeout(() => { log('FAILED: timed out'); process.exit(1); }, (seconds + 60) * 1000);

const SCRIPT = `
let pc, transceiver;
async function start(offerUrl, codec) {
  const codecs = videoCodecs(codec);
  if (codecs.notOffered) return codecs;
  pc = new RTCPeerConnection();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 } });
  transceiver = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendrecv', streams: [stream] });
  transceiver.setCodecPreferences(codecs.preferences);
  playIncoming(pc);
  const answer = await offerAndConnect(pc, offerUrl);
  return { answerCodecs: sdpLines(answer.sdp, 'a=rtpmap:') };
}
const pick = (s, keys) => Object.fromEntries(keys.map((k) => [k, s ? s[k] : undefined]));
async function sample() {
  const out = { t: Date.now() / 1000 };
  let transport, pairs = {}, codecs = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.outbound = pick(s, ['bytesSent', 'headerBytesSent', 'retransmittedBytesSent', 'packetsSent', 'targetBitrate', 'framesEncoded', 'framesSent', 'keyFramesEncoded', 'frameWidth', 'frameHeight', 'framesPerSecond', 'qualityLimitationReason', 'pliCount', 'nackCount', 'codecId']);
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.inbound = pick(s, ['bytesReceived', 'headerBytesReceived', 'packetsReceived', 'packetsLost', 'framesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded', 'freezeCount', 'totalFreezesDuration', 'jitterBufferDelay', 'jitterBufferEmittedCount', 'pliCount', 'nackCount', 'frameWidth', 'frameHeight', 'framesPerSecond', 'codecId']);
    if (s.type === 'remote-inbound-rtp' && s.kind === 'video') out.remoteInbound = pick(s, ['roundTripTime', 'fractionLost', 'packetsLost']);
    if (s.type === 'transport') transport = s;
    if (s.type === 'candidate-pair') pairs[s.id] = s;
    if (s.type === 'codec') codecs[s.id] = s.mimeType;
  });
  const pair = transport && pairs[transport.selectedCandidatePairId];
  out.pair = pick(pair, ['availableOutgoingBitrate', 'currentRoundTripTime', 'bytesSent', 'bytesReceived']);
  if (out.outbound) out.outbound.codec = codecs[out.outbound.codecId];
  if (out.inbound) out.inbound.codec = codecs[out.inbound.codecId];
  return out;
}
`;

// media-peer is not on loopback: its origin must count as secure for getUserMedia.
const browser = await launch({ camera, secureOrigin: origin, loopback: false });
let code = 1;
const result = { codec, seconds, samples: [] };
try {
  const page = await openPage(browser, origin, 'bwe', SCRIPT);
  result.version = await browser.version();
  log(`${result.version}, codec ${codec}, ${seconds} s`);
  const r = await page.evaluate(([u, c]) => start(u, c), [url, codec]);
  if (r.notOffered) {
    log(`${codec} is not offered (Chromium has ${r.offered.join(' ')})`);
    code = 3;
  } else {
    result.answerCodecs = r.answerCodecs;
    result.connectedAt = Date.now() / 1000;
    const t0 = Date.now();
    let stepped = false;
    for (let n = 0; Date.now() - t0 < seconds * 1000; n++) {
      if (at && !stepped && Date.now() - t0 >= at.seconds * 1000) {
        result.stepAt = Date.now() / 1000;
        execSync(at.command, { stdio: 'inherit' });
        stepped = true;
        log(`ran ${JSON.stringify(at.command)} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      result.samples.push(await page.evaluate(() => sample()));
      const next = t0 + (n + 1) * 500;
      await new Promise((res) => setTimeout(res, Math.max(0, next - Date.now())));
    }
    result.endedAt = Date.now() / 1000;
    const last = result.samples[result.samples.length - 1] || {};
    log(`sent ${JSON.stringify(last.outbound)}`);
    log(`received ${JSON.stringify(last.inbound)}`);
    log(`pair ${JSON.stringify(last.pair)}`);
    code = 0;
  }
} catch (e) {
  log(`FAILED: ${e.message}`);
  result.error = e.message;
} finally {
  writeFileSync(resultPath, JSON.stringify(result));
  await browser.close();
  clearTimeout(timer);
}
log(code === 0 ? 'sampled' : code === 3 ? 'codec not offered' : 'FAILED');
process.exit(code);
