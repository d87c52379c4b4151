// dc-bench protocol (issue 9) with node-datachannel (libdatachannel): two PeerConnections in
// this process over UDP on 127.0.0.1, non-trickle in-process signaling, A offers one reliable
// ordered channel `bench`.
//   node benches/peers/ndc-bench.mjs throughput|smallmsg|setup [--seconds S] [--pairs N]
// Prints THROUGHPUT / SMALLMSG / SETUP lines like `dc-bench`, and CPU from process.cpuUsage()
// (user + system of every thread, libdatachannel's included).
// node-datachannel negotiates on its own: createDataChannel makes the offer, so setup is
// timed from createDataChannel (the createOffer of this API).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ndc = require(path.join(here, '../../interop/node_modules/node-datachannel'));

const [mode, ...rest] = process.argv.slice(2);
const opt = { seconds: 10, pairs: 20 };
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = Number(rest[i + 1]);
ndc.initLogger('Error', () => {});

const config = { iceServers: [], bindAddress: '127.0.0.1' };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// Resolves with the complete local description once gathering is done.
const described = (pc) => new Promise((resolve) => {
  const check = () => pc.gatheringState() === 'complete' && resolve(pc.localDescription());
  pc.onGatheringStateChange(() => check());
  check();
});

async function connect() {
  const a = new ndc.PeerConnection('a', config);
  const b = new ndc.PeerConnection('b', config);
  let remote;
  const bOpen = new Promise((resolve) => b.onDataChannel((dc) => { remote = dc; resolve(); }));
  const start = process.hrtime.bigint();
  const dc = a.createDataChannel('bench'); // reliable, ordered
  const aOpen = new Promise((resolve) => dc.onOpen(resolve));
  const offer = await described(a);
  b.setRemoteDescription(offer.sdp, offer.type);
  const answer = await described(b);
  a.setRemoteDescription(answer.sdp, answer.type);
  await Promise.all([aOpen, bOpen]);
  const setupMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { a, b, dc, remote, setupMs };
}

async function transfer(size, high, low, seconds) {
  const { a, b, dc, remote } = await connect();
  let bytes = 0; let messages = 0;
  remote.onMessage((m) => { bytes += m.length ?? m.byteLength; messages += 1; });
  const payload = Buffer.alloc(size, 0xa5);
  const cpu0 = cpu();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  dc.setBufferedAmountLowThreshold(low);
  const pump = () => {
    while (Date.now() < end && dc.bufferedAmount() < high) dc.sendMessageBinary(payload);
  };
  dc.onBufferedAmountLow(pump);
  pump();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = cpu() - cpu0;
  const result = { bytes, messages, wall, used };
  a.close(); b.close();
  return result;
}

if (mode === 'throughput') {
  const r = await transfer(64 * 1024, 1024 * 1024, 512 * 1024, opt.seconds);
  console.log(`THROUGHPUT node-datachannel ${(r.bytes * 8 / r.wall / 1e6).toFixed(1)}`);
  console.log(`CPU node-datachannel cores=${(r.used / r.wall).toFixed(2)} cpu_s=${r.used.toFixed(2)} wall_s=${r.wall.toFixed(2)} ns_per_byte=${(r.used * 1e9 / Math.max(r.bytes, 1)).toFixed(2)}`);
} else if (mode === 'smallmsg') {
  const r = await transfer(100, 4096, 2048, opt.seconds);
  console.log(`SMALLMSG node-datachannel ${(r.messages / r.wall).toFixed(0)}`);
  console.log(`CPU node-datachannel cores=${(r.used / r.wall).toFixed(2)} cpu_s=${r.used.toFixed(2)} wall_s=${r.wall.toFixed(2)} ns_per_message=${(r.used * 1e9 / Math.max(r.messages, 1)).toFixed(0)}`);
} else if (mode === 'setup') {
  const samples = [];
  let used = 0;
  for (let i = 0; i < opt.pairs; i++) {
    const c0 = cpu();
    const { a, b, setupMs } = await connect();
    used += cpu() - c0;
    samples.push(setupMs);
    a.close(); b.close();
  }
  samples.sort((x, y) => x - y);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`SETUP node-datachannel median_ms=${median.toFixed(2)} min_ms=${samples[0].toFixed(2)} max_ms=${samples[samples.length - 1].toFixed(2)}`);
  console.log(`CPU node-datachannel cpu_ms_per_pair=${(used * 1e3 / opt.pairs).toFixed(2)} (including new PeerConnection)`);
} else {
  console.error('usage: ndc-bench.mjs throughput|smallmsg|setup [--seconds S] [--pairs N]');
  process.exit(2);
}
ndc.cleanup();
process.exit(0);
