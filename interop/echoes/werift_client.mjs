// werift as a webrtc-echoes client. Run inside the isolated namespace:
//   node werift_client.mjs URL TEST
// Offers a data channel to URL (POST /offer, candidates in the offer). TEST 0 passes when
// DTLS connects, 1 when a random string comes back on the channel. Exit 0 / 1, 20 s limit.
import { randomBytes } from 'node:crypto';
import { RTCPeerConnection } from 'werift';

const [url, test] = process.argv.slice(2);
const finish = (ok, what) => {
  console.log(`werift client test ${test}: ${ok ? 'passed' : 'FAILED'}: ${what}`);
  process.exit(ok ? 0 : 1);
};
setTimeout(() => finish(false, 'timed out after 20 s'), 20000);

const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] });
const dc = pc.createDataChannel('echo');
const text = `werift-${randomBytes(8).toString('hex')}`;
dc.onopen = () => dc.send(text);
dc.onmessage = (e) => {
  const got = typeof e.data === 'string' ? e.data : e.data.toString();
  if (got === text) finish(true, `'${got}' came back on the data channel`);
};
pc.connectionStateChange.subscribe((s) => {
  if (s === 'connected' && test === '0') {
    const dtls = pc.dtlsTransports.map((t) => t.state).join(',');
    finish(dtls === 'connected', `DTLS ${dtls}`);
  }
  if (s === 'failed') finish(false, 'connection failed');
});

await pc.setLocalDescription(await pc.createOffer());
await new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.iceGatheringStateChange.subscribe((s) => { if (s === 'complete') resolve(); });
});
const res = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }),
});
if (!res.ok) finish(false, `POST ${url}: ${res.status} ${await res.text()}`);
await pc.setRemoteDescription(await res.json());
