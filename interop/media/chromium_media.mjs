// Chromium (Debian /usr/bin/chromium through playwright-core) against `media-peer`, the Rust
// media endpoint on rtcweb's RTP session. Run inside the isolated namespace:
//   node chromium_media.mjs URL CODEC REPORT SECONDS [--expect-video-back] [--bitrate-only]
// The page sends its fake camera (640x480) with only CODEC allowed (vp8, h264 or av1, by
// setCodecPreferences), POSTs the offer to URL and plays what comes back. For SECONDS it
// samples the selected candidate pair's availableOutgoingBitrate, then stops its camera and
// compares, once media-peer's REPORT (JSON it rewrites every 500 ms) has caught up:
//   received: media-peer assembled as many whole frames as Chromium's outbound-rtp says it
//     sent (framesSent, within 2 %), counted the same number of key frames
//     (keyFramesEncoded, +-1), and for VP8 the last key frame header's resolution equals
//     outbound-rtp frameWidth x frameHeight;
//   sent (--expect-video-back): Chromium decoded what media-peer sent (inbound-rtp
//     framesDecoded > 30, keyFramesDecoded >= 1) without a PLI storm (pliCount <= 3);
//   bitrate: availableOutgoingBitrate at the start and the end, printed (the suite decides).
// Exit 0 when every check passes, 1 when one fails, 3 when Chromium does not offer CODEC.
import { readFileSync } from 'node:fs';
import { launch, openPage } from './chromium_common.mjs';

const [url, codec, reportPath, secondsArg] = process.argv.slice(2);
const expectBack = process.argv.includes('--expect-video-back');
const bitrateOnly = process.argv.includes('--bitrate-only');
const seconds = Number(secondsArg || 15);
const origin = new URL(url).origin;
const log = (s) => console.log(`chromium media: ${s}`);
const timer = setTimeout(() => { log('FAILED: timed out'); process.exit(1); }, (seconds + 40) * 1000);

const SCRIPT = `
async function stats(pc) {
  const out = { samples: [] };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.outbound = s;
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.inbound = s;
    if (s.type === 'transport') out.transport = s;
    if (s.type === 'candidate-pair') (out.pairs = out.pairs || {})[s.id] = s;
    if (s.type === 'codec') (out.codecs = out.codecs || {})[s.id] = s.mimeType;
  });
  const id = out.transport && out.transport.selectedCandidatePairId;
  out.pair = id && out.pairs ? out.pairs[id] : undefined;
  return out;
}
async function mediaTest(offerUrl, codec, seconds) {
  const result = { checks: {}, bitrate: [] };
  const codecs = videoCodecs(codec);
  result.offered = codecs.offered;
  if (codecs.notOffered) return codecs;
  const pc = new RTCPeerConnection();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 } });
  const track = stream.getVideoTracks()[0];
  const tr = pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
  tr.setCodecPreferences(codecs.preferences);
  playIncoming(pc);
  const answer = await offerAndConnect(pc, offerUrl);
  result.answerCodecs = sdpLines(answer.sdp, 'a=rtpmap:');
  result.answerExtmaps = sdpLines(answer.sdp, 'a=extmap:', 'a=rtcp-rsize').length;
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    const s = await stats(pc);
    result.bitrate.push({ t: (Date.now() - t0) / 1000, availableOutgoingBitrate: s.pair && s.pair.availableOutgoingBitrate, targetBitrate: s.outbound && s.outbound.targetBitrate, bytesSent: s.outbound && s.outbound.bytesSent });
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Stop the camera: outbound counters stop moving, media-peer catches up.
  await tr.sender.replaceTrack(null);
  await new Promise((r) => setTimeout(r, 1500));
  const s = await stats(pc);
  const o = s.outbound || {}, i = s.inbound || {};
  result.outbound = { codec: s.codecs && s.codecs[o.codecId], framesEncoded: o.framesEncoded, framesSent: o.framesSent, keyFramesEncoded: o.keyFramesEncoded, frameWidth: o.frameWidth, frameHeight: o.frameHeight, packetsSent: o.packetsSent, retransmittedPacketsSent: o.retransmittedPacketsSent, nackCount: o.nackCount, pliCount: o.pliCount, firCount: o.firCount, qualityLimitationReason: o.qualityLimitationReason };
  result.inbound = { codec: s.codecs && s.codecs[i.codecId], packetsReceived: i.packetsReceived, packetsLost: i.packetsLost, framesReceived: i.framesReceived, framesDecoded: i.framesDecoded, keyFramesDecoded: i.keyFramesDecoded, frameWidth: i.frameWidth, frameHeight: i.frameHeight, pliCount: i.pliCount, nackCount: i.nackCount, firCount: i.firCount, jitter: i.jitter };
  result.transport = s.transport && { srtpCipher: s.transport.srtpCipher, tlsVersion: s.transport.tlsVersion };
  pc.close();
  return result;
}
`;

const browser = await launch();
let code = 1;
try {
  const page = await openPage(browser, origin, 'media', SCRIPT);
  log(`${await browser.version()}, codec ${codec}, ${seconds} s`);
  const r = await page.evaluate(([u, c, n]) => mediaTest(u, c, n), [url, codec, seconds]);
  if (r.notOffered) {
    log(`${codec} is not offered (Chromium has ${r.offered.join(' ')})`);
    code = 3;
  } else {
    // media-peer rewrites its report every 500 ms: let it see the end of the stream.
    await new Promise((res) => setTimeout(res, 1200));
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    const ours = Object.values(report.received).reduce((a, x) => ({ frames: a.frames + x.frames, keyFrames: a.keyFrames + x.keyFrames }), { frames: 0, keyFrames: 0 });
    const first = r.bitrate.find((b) => b.availableOutgoingBitrate) || {};
    const last = r.bitrate[r.bitrate.length - 1] || {};
    log(`answer: ${r.answerCodecs.join(' | ')}; ${r.answerExtmaps} extmap/rtcp-rsize lines`);
    log(`chromium outbound-rtp ${JSON.stringify(r.outbound)}`);
    log(`media-peer received ${JSON.stringify(report.received)}, VP8 key frame resolutions ${JSON.stringify(report.vp8KeyFrameResolutions)}, key frame requests from chromium ${report.keyFrameRequests}`);
    const ourIn = (report.stats.inboundRtp || []).find((s) => s.kind === 'video') || {};
    log(`media-peer inbound-rtp ${JSON.stringify(ourIn)}`);
    log(`chromium inbound-rtp ${JSON.stringify(r.inbound)}; media-peer sent ${report.framesSent} frames`);
    log(`availableOutgoingBitrate ${r.bitrate.map((b) => `${b.t.toFixed(0)}s:${b.availableOutgoingBitrate ? Math.round(b.availableOutgoingBitrate / 1000) : '-'}k`).join(' ')}`);
    log(`bitrate start ${first.availableOutgoingBitrate} end ${last.availableOutgoingBitrate}`);
    const o = r.outbound;
    if (!bitrateOnly) {
      r.checks.framesWhole = o.framesSent > 100 && ours.frames >= 0.98 * o.framesSent && ours.frames <= o.framesSent;
      r.checks.keyFrames = ours.keyFrames >= 1 && Math.abs(ours.keyFrames - o.keyFramesEncoded) <= 1;
      if (codec === 'vp8') {
        const lr = report.lastKeyFrameResolution || [];
        r.checks.vp8Resolution = lr[0] === o.frameWidth && lr[1] === o.frameHeight;
      }
    }
    if (expectBack) {
      const i = r.inbound;
      r.checks.decodedOurs = (i.framesDecoded || 0) > 30 && (i.keyFramesDecoded || 0) >= 1;
      r.checks.noPliStorm = (i.pliCount || 0) <= 3;
    }
    for (const [name, passed] of Object.entries(r.checks)) log(`${name} ${passed ? 'passed' : 'FAILED'}`);
    console.log(`BITRATE ${first.availableOutgoingBitrate || 0} ${last.availableOutgoingBitrate || 0}`);
    code = Object.values(r.checks).every((x) => x) ? 0 : 1;
  }
} catch (e) {
  log(`FAILED: ${e.message}`);
} finally {
  await browser.close();
  clearTimeout(timer);
}
log(code === 0 ? 'passed' : code === 3 ? 'codec not offered' : 'FAILED');
process.exit(code);
