// Headless Firefox ESR on room-server's page as one member of a room, driven without
// WebDriver. Run inside `interop/isolated --veth`:
//   node firefox_room.mjs ROOM_URL WORK SEND_TEXT EXPECT_LINE...
// This harness stands in front of room-server (ROOM_URL, e.g. http://127.0.0.1:8092/mesh?name=
// firefox): it passes every request and the WebSocket on to it, and adds to the room page a
// probe script that reports to the harness (same origin). The probe checks, in order: chat
// channels open to as many members as EXPECT_LINEs are given; Firefox's camera goes out
// (outbound-rtp video packetsSent >= 100 summed over its connections, while the others are
// still there: they may leave once they have Firefox's line); SEND_TEXT goes out on the
// channels; every EXPECT_LINE ("NAME: TEXT") arrives; then it reports each connection's
// selected pair and inbound video. Exit 0 when every check passes, 1 otherwise (75 s).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { writeProfile, startFirefox, stopFirefox, firefoxVersion } from './profile.mjs';

const [roomUrl, work, sendText, ...expect] = process.argv.slice(2);
if (!roomUrl || !work || !sendText || expect.length === 0) {
  console.log('usage: node firefox_room.mjs ROOM_URL WORK SEND_TEXT EXPECT_LINE...');
  process.exit(2);
}
const upstream = new URL(roomUrl);
const say = (line) => console.log(`firefox room: ${line}`);
const started = Date.now();
const ms = () => Date.now() - started;

const PROBE = `(async () => {
  const post = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const say = (text) => post('/__log', { text });
  const sleep = (t) => new Promise((r) => setTimeout(r, t));
  const until = async (what, test, limit) => {
    const end = Date.now() + limit;
    while (!(await test())) {
      if (Date.now() > end) throw new Error('timed out waiting for ' + what);
      await sleep(200);
    }
  };
  const stats = async (pc) => { const m = new Map(); (await pc.getStats()).forEach((s) => m.set(s.id, s)); return m; };
  const expect = ${JSON.stringify(expect)};
  try {
    await until(expect.length + ' chat channels', () => window.openChannels && window.openChannels() >= expect.length, 40000);
    await say('chat channels open: ' + window.openChannels());
    let packets = 0;
    await until('100 video packets sent', async () => {
      packets = 0;
      for (const pc of window.rtcPeers()) (await stats(pc)).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') packets += s.packetsSent || 0; });
      return packets >= 100;
    }, 30000);
    await say('camera sent: ' + packets + ' video packets');
    const n = window.sendChat(${JSON.stringify(sendText)});
    await say('sent ' + JSON.stringify(${JSON.stringify(sendText)}) + ' to ' + n + ' peer(s)');
    for (const line of expect) {
      await until(JSON.stringify(line), () => window.chatLog.includes(line), 30000);
      await say('received ' + JSON.stringify(line));
    }
    for (const pc of window.rtcPeers()) {
      const m = await stats(pc);
      let pair = '?', video = 'no inbound video';
      m.forEach((s) => {
        if (s.type === 'candidate-pair' && s.selected) {
          const l = m.get(s.localCandidateId) || {}, r = m.get(s.remoteCandidateId) || {};
          pair = l.address + ':' + l.port + '/' + l.protocol + ' ' + l.candidateType + ' <-> ' + r.address + ':' + r.port + '/' + r.protocol + ' ' + r.candidateType;
        }
        if (s.type === 'inbound-rtp' && s.kind === 'video') video = 'inbound video ' + (s.packetsReceived || 0) + ' packets, ' + (s.framesDecoded || 0) + ' frames decoded';
      });
      await say('connection ' + pc.connectionState + ': ' + pair + '; ' + video);
    }
    await sleep(1500); // let the line reach the others before the page goes away
    await post('/__result', { ok: true, decoded: await (async () => {
      const out = {};
      for (const pc of window.rtcPeers()) (await stats(pc)).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') out[s.id] = s.framesDecoded || 0; });
      return out;
    })() });
  } catch (e) {
    await post('/__result', { ok: false, error: String(e && e.message || e) });
  }
})();`;

const body = (req) => new Promise((resolve) => {
  let s = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { s += d; });
  req.on('end', () => resolve(s));
});

let firefox = null;
let done = false;
const finish = (code) => {
  if (done) return;
  done = true;
  say(code === 0 ? 'PASSED' : 'FAILED');
  (firefox ? stopFirefox(firefox, profileDir) : Promise.resolve()).finally(() => process.exit(code));
};

const server = http.createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/__log') {
    say(`${JSON.parse(await body(req)).text} (${ms()} ms)`);
    return res.writeHead(204).end();
  }
  if (req.method === 'POST' && req.url === '/__result') {
    const r = JSON.parse(await body(req));
    res.writeHead(204).end();
    if (!r.ok) say(`FAILED: ${r.error}`);
    return finish(r.ok ? 0 : 1);
  }
  if (req.method === 'GET' && req.url === '/__probe.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    return res.end(PROBE);
  }
  // Everything else comes from room-server; its room page gets the probe after room.js.
  try {
    const r = await fetch(new URL(req.url, upstream.origin), { method: req.method });
    let text = await r.text();
    const type = r.headers.get('content-type') || 'application/octet-stream';
    if (type.startsWith('text/html')) text = text.replace('</body>', '<script src="/__probe.js"></script>\n</body>');
    res.writeHead(r.status, { 'Content-Type': type });
    res.end(text);
  } catch (e) {
    res.writeHead(502).end(String(e));
  }
});
// The room's WebSocket, passed through byte for byte.
server.on('upgrade', (req, socket, head) => {
  const up = net.connect(Number(upstream.port || 80), upstream.hostname, () => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    up.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    socket.pipe(up).pipe(socket);
  });
  up.on('error', () => socket.destroy());
  socket.on('error', () => up.destroy());
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const profileDir = path.join(work, 'profile-room');
writeProfile(profileDir);
say(await firefoxVersion());
const url = `http://127.0.0.1:${server.address().port}${upstream.pathname}${upstream.search}`;
firefox = startFirefox(profileDir, url, path.join(work, 'firefox-room.log'));
firefox.on('exit', (code, signal) => { say(`Firefox exited (${code ?? signal})`); finish(1); });
setTimeout(() => { say('FAILED: no result within 75 s'); finish(1); }, 75000);
