// Captures werift's offers and answers. Run inside the isolated namespace:
//   node werift_capture.mjs OUTDIR WORKDIR [OUR_ANSWER_CMD...]
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { RTCPeerConnection } from 'werift';

const [outDir, workDir, ...cmd] = process.argv.slice(2);
const write = (dir, name, sdp) => {
  fs.writeFileSync(`${dir}/${name}`, sdp);
  console.log(`captured ${name} (${sdp.length} bytes)`);
};
const config = { iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] };
const gathered = (pc) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  const t = setTimeout(resolve, 5000);
  pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') { clearTimeout(t); resolve(); } });
});

let failed = false;
for (const [name, media] of [['offer-av-data', true], ['offer-data', false]]) {
  const pc = new RTCPeerConnection(config);
  if (media) {
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    pc.addTransceiver('video', { direction: 'sendrecv' });
  }
  pc.createDataChannel('capture');
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const offer = pc.localDescription.sdp;
  write(outDir, `werift-${name}.sdp`, offer);

  const pc2 = new RTCPeerConnection(config);
  await pc2.setRemoteDescription({ type: 'offer', sdp: offer });
  for (const t of pc2.getTransceivers()) t.setDirection('sendrecv');
  await pc2.setLocalDescription(await pc2.createAnswer());
  await gathered(pc2);
  write(outDir, `werift-${name.replace('offer', 'answer')}.sdp`, pc2.localDescription.sdp);
  await pc2.close();

  if (cmd.length) {
    const ours = execFileSync(cmd[0], cmd.slice(1), { input: offer }).toString();
    write(workDir, `werift-${name}.our-answer.sdp`, ours);
    try {
      await pc.setRemoteDescription({ type: 'answer', sdp: ours });
      console.log(`check werift-${name}: accepted: signalingState=${pc.signalingState}`);
    } catch (e) {
      console.log(`check werift-${name}: REJECTED: ${e}`);
      failed = true;
    }
  }
  await pc.close();
}
// Our offers (examples/jsep-offer.rs), answered by werift and checked by our side.
const ourOffer = process.env.OUR_OFFER;
for (const kind of ourOffer ? ['av-data', 'data'] : []) {
  const offer = execFileSync(ourOffer, ['offer', kind]).toString();
  const pc = new RTCPeerConnection(config);
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  for (const t of pc.getTransceivers()) t.setDirection('sendrecv');
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  const answer = pc.localDescription.sdp;
  write(workDir, `werift-${kind}.our-offer-answer.sdp`, answer);
  try {
    const out = execFileSync(ourOffer, ['check', kind], { input: answer, stdio: ['pipe', 'pipe', 'pipe'] });
    console.log(`check werift-our-offer-${kind}: accepted: ${out.toString().trim()}`);
  } catch (e) {
    console.log(`check werift-our-offer-${kind}: REJECTED: ${(e.stderr || e.message).toString().trim()}`);
    failed = true;
  }
  await pc.close();
}
process.exit(failed ? 1 : 0);
