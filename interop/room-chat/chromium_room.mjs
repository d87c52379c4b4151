// Chromium (Debian /usr/bin/chromium through playwright-core) on room-server's page, as one
// member of a room. Run inside the isolated namespace:
//   node chromium_room.mjs PAGE_URL EXPECT_LINE SEND_TEXT [EXPECT_LINE...]
// The page joins the room with the fake camera and microphone. Checks, in order: a chat data
// channel to another member opens; the camera reaches that member (outbound-rtp video
// packetsSent >= 100, so the renegotiation that added the tracks succeeded); the page
// receives every EXPECT_LINE ("NAME: TEXT") over the data channels; SEND_TEXT goes out on
// them.
// Prints what it measured; exit 0 when every check passes, 1 otherwise (60 s limit).
import { chromium } from 'playwright-core';

const [url, expectLine, sendText, ...moreLines] = process.argv.slice(2);
if (!url || !expectLine || !sendText) {
  console.log('usage: node chromium_room.mjs PAGE_URL EXPECT_LINE SEND_TEXT [EXPECT_LINE...]');
  process.exit(2);
}
const started = Date.now();
const ms = () => Date.now() - started;
const timer = setTimeout(() => {
  console.log('chromium room: FAILED: timed out after 60 s');
  process.exit(1);
}, 60000);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--allow-loopback-in-peer-connection',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ],
});
let code = 1;
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.text().startsWith('room: ') || m.type() === 'error') console.log('page ' + m.text());
  });
  page.on('pageerror', (e) => console.log('page error: ' + e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.openChannels && window.openChannels() >= 1, null, { timeout: 30000 });
  console.log(`chromium room: chat channel open after ${ms()} ms`);
  // waitForFunction does not await a promise: poll getStats from here.
  let packets = 0;
  while (packets < 100) {
    if (ms() > 45000) throw new Error(`camera not sent: ${packets} video packets`);
    await new Promise((r) => setTimeout(r, 200));
    packets = await page.evaluate(async () => {
      let n = 0;
      for (const pc of window.rtcPeers()) {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video') n += s.packetsSent || 0;
        });
      }
      return n;
    });
  }
  console.log(`chromium room: camera sent, ${packets} video packets after ${ms()} ms`);
  for (const line of [expectLine, ...moreLines]) {
    await page.waitForFunction((l) => window.chatLog.includes(l), line, { timeout: 30000 });
    console.log(`chromium room: received "${line}" after ${ms()} ms`);
  }
  const n = await page.evaluate((t) => window.sendChat(t), sendText);
  if (n < 1) throw new Error('no open channel to send on');
  console.log(`chromium room: sent "${sendText}" to ${n} peer(s)`);
  const pair = await page.evaluate(async () => {
    const out = [];
    for (const pc of window.rtcPeers()) {
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const p = byId.get(s.selectedCandidatePairId);
          const l = p && byId.get(p.localCandidateId);
          const r = p && byId.get(p.remoteCandidateId);
          out.push(`${s.tlsVersion || '?'} ${s.srtpCipher || '?'} ${l ? l.candidateType : '?'} -> ${r ? r.candidateType : '?'}`);
        }
      });
    }
    return out;
  });
  console.log(`chromium room: transport ${pair.join('; ')}`);
  // Let the line reach the peer before the page goes away.
  await new Promise((r) => setTimeout(r, 1500));
  console.log('chromium room: PASSED');
  code = 0;
} catch (err) {
  console.log('chromium room: FAILED: ' + err.message);
} finally {
  clearTimeout(timer);
  await browser.close();
}
process.exit(code);
