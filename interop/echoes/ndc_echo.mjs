// node-datachannel (libdatachannel) as a webrtc-echoes peer. Run inside the namespace:
//   node ndc_echo.mjs client URL TEST   offer a data channel to URL (POST /offer); TEST 0 passes
//                                       when DTLS connects, 1 when a random string comes back.
//                                       Exit 0 / 1, 20 s limit.
//   node ndc_echo.mjs server PORT       answer POST /offer on 127.0.0.1:PORT, echo every data
//                                       channel message (candidates in the answer).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import ndc from 'node-datachannel';

const config = { iceServers: [], bindAddress: '127.0.0.1' };
const [mode, arg, test] = process.argv.slice(2);

// Resolves with the local description once gathering is complete.
const gathered = (pc) => new Promise((resolve) => {
  const done = () => resolve(pc.localDescription());
  if (pc.gatheringState() === 'complete') return done();
  pc.onGatheringStateChange((s) => { if (s === 'complete') done(); });
});

async function client(url) {
  const finish = (ok, what) => {
    console.log(`node-datachannel client test ${test}: ${ok ? 'passed' : 'FAILED'}: ${what}`);
    process.exit(ok ? 0 : 1);
  };
  setTimeout(() => finish(false, 'timed out after 20 s'), 20000);
  const pc = new ndc.PeerConnection('client', config);
  const text = `ndc-${randomBytes(8).toString('hex')}`;
  pc.onStateChange((s) => {
    // libdatachannel reports "connected" once DTLS is up.
    if (s === 'connected' && test === '0') finish(true, 'DTLS connected (state connected)');
    if (s === 'failed') finish(false, 'connection failed');
  });
  const dc = pc.createDataChannel('echo');
  dc.onOpen(() => dc.sendMessage(text));
  dc.onMessage((m) => {
    const got = typeof m === 'string' ? m : Buffer.from(m).toString();
    if (got === text) finish(true, `'${got}' came back on the data channel`);
  });
  const offer = await gathered(pc);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'offer', sdp: offer.sdp }),
  });
  if (!res.ok) finish(false, `POST ${url}: ${res.status} ${await res.text()}`);
  const answer = await res.json();
  pc.setRemoteDescription(answer.sdp, answer.type);
}

function server(port) {
  const peers = new Set();
  http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; if (body.length > 65536) req.destroy(); });
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/offer') {
        res.writeHead(404).end('POST /offer');
        return;
      }
      try {
        const offer = JSON.parse(body);
        const pc = new ndc.PeerConnection('server', config);
        peers.add(pc);
        pc.onStateChange((s) => {
          console.log(`node-datachannel server: connection ${s}`);
          if (s === 'failed' || s === 'closed') { peers.delete(pc); pc.close(); }
        });
        pc.onDataChannel((dc) => {
          dc.onMessage((m) => (typeof m === 'string' ? dc.sendMessage(m) : dc.sendMessageBinary(m)));
        });
        pc.setRemoteDescription(offer.sdp, offer.type);
        const answer = await gathered(pc);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ type: answer.type, sdp: answer.sdp }));
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  }).listen(Number(port), '127.0.0.1', () => {
    console.log(`node-datachannel server: POST http://127.0.0.1:${port}/offer`);
  });
}

if (mode === 'client' && arg && test) await client(arg);
else if (mode === 'server' && arg) server(arg);
else { console.error('usage: ndc_echo.mjs client URL TEST | server PORT'); process.exit(2); }
