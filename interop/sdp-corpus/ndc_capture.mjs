// Captures node-datachannel (libdatachannel) offers and answers. Run inside the namespace:
//   node ndc_capture.mjs OUTDIR WORKDIR [OUR_ANSWER_CMD...]
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import ndc from 'node-datachannel';

const [outDir, workDir, ...cmd] = process.argv.slice(2);
const write = (dir, name, sdp) => {
  fs.writeFileSync(`${dir}/${name}`, sdp);
  console.log(`captured ${name} (${sdp.length} bytes)`);
};
const config = { iceServers: [], bindAddress: '127.0.0.1' };
// Resolves with the local description once gathering is complete (or after 5 s).
const described = (pc) => new Promise((resolve) => {
  const done = () => resolve(pc.localDescription());
  const t = setTimeout(done, 5000);
  pc.onGatheringStateChange((s) => { if (s === 'complete') { clearTimeout(t); setTimeout(done, 50); } });
});
const addMedia = (pc) => {
  const audio = new ndc.Audio('0', 'SendRecv');
  audio.addOpusCodec(111);
  audio.addSSRC(1111, 'capture', 'stream', 'audio-track');
  const video = new ndc.Video('1', 'SendRecv');
  video.addVP8Codec(96);
  video.addH264Codec(102);
  video.addSSRC(2222, 'capture', 'stream', 'video-track');
  return [pc.addTrack(audio), pc.addTrack(video)];
};

let failed = false;
for (const [name, media] of [['offer-av-data', true], ['offer-data', false]]) {
  const pc = new ndc.PeerConnection('offerer', config);
  if (media) addMedia(pc);
  pc.createDataChannel('capture');
  const offer = (await described(pc)).sdp;
  write(outDir, `node-datachannel-${name}.sdp`, offer);

  const pc2 = new ndc.PeerConnection('answerer', config);
  pc2.setRemoteDescription(offer, 'offer');
  const answer = (await described(pc2)).sdp;
  write(outDir, `node-datachannel-${name.replace('offer', 'answer')}.sdp`, answer);
  pc2.close();

  if (cmd.length) {
    const ours = execFileSync(cmd[0], cmd.slice(1), { input: offer }).toString();
    write(workDir, `node-datachannel-${name}.our-answer.sdp`, ours);
    try {
      pc.setRemoteDescription(ours, 'answer');
      console.log(`check node-datachannel-${name}: accepted: signalingState=${pc.signalingState()}`);
    } catch (e) {
      console.log(`check node-datachannel-${name}: REJECTED: ${e}`);
      failed = true;
    }
  }
  pc.close();
}
// Our offers (examples/jsep-offer.rs), answered by libdatachannel and checked by our side.
const ourOffer = process.env.OUR_OFFER;
for (const kind of ourOffer ? ['av-data', 'data'] : []) {
  const offer = execFileSync(ourOffer, ['offer', kind]).toString();
  const pc = new ndc.PeerConnection('answerer', config);
  pc.setRemoteDescription(offer, 'offer');
  const answer = (await described(pc)).sdp;
  write(workDir, `node-datachannel-${kind}.our-offer-answer.sdp`, answer);
  try {
    const out = execFileSync(ourOffer, ['check', kind], { input: answer, stdio: ['pipe', 'pipe', 'pipe'] });
    console.log(`check node-datachannel-our-offer-${kind}: accepted: ${out.toString().trim()}`);
  } catch (e) {
    console.log(`check node-datachannel-our-offer-${kind}: REJECTED: ${(e.stderr || e.message).toString().trim()}`);
    failed = true;
  }
  pc.close();
}
// No ndc.cleanup(): with 0.33.4 it ends in a bus error here; process.exit is enough.
setTimeout(() => process.exit(failed ? 1 : 0), 500);
