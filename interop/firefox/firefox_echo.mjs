// Headless Firefox ESR as a webrtc-echoes peer, driven without WebDriver: this harness serves
// a page on http://127.0.0.1 (pages.mjs), starts Firefox on it with its own profile
// (profile.mjs) and relays the signaling; the page reports back over HTTP. Run inside
// `interop/isolated --veth`.
//
//   node firefox_echo.mjs client OFFER_URL CHECKS WORK [PREF=VALUE]...
//       Firefox offers to OFFER_URL (an echo server), checks CHECKS (comma separated: dtls,
//       echo, video, audio; see pages.mjs; hold=SECONDS keeps the call up that long after
//       them) and exits 0 when all pass, 1 otherwise (60 s).
//   node firefox_echo.mjs server PORT WORK [PREF=VALUE]...
//       Firefox answers each JSON offer POSTed to http://127.0.0.1:PORT/offer (the
//       webrtc-echoes server), echoing data and media; runs until SIGTERM.
//
// PREF=VALUE sets a Firefox pref (a number or true/false, otherwise a string), e.g.
// media.peerconnection.dtls.version.max=771 for DTLS 1.2 only. WORK holds the profile and
// Firefox's own output (firefox.log).
import http from 'node:http';
import path from 'node:path';
import { CLIENT_PAGE, SERVER_PAGE } from './pages.mjs';
import { writeProfile, startFirefox, stopFirefox, firefoxVersion } from './profile.mjs';

const [mode, target, ...rest] = process.argv.slice(2);
const usage = () => {
  console.log('usage: firefox_echo.mjs client OFFER_URL CHECKS WORK [PREF=VALUE]... | server PORT WORK [PREF=VALUE]...');
  process.exit(2);
};
if (!['client', 'server'].includes(mode) || !target) usage();
const checks = mode === 'client' ? rest.shift() : null;
const work = rest.shift();
if (!work || (mode === 'client' && !checks)) usage();
const prefs = Object.fromEntries(rest.map((kv) => {
  const i = kv.indexOf('=');
  if (i < 1) usage();
  const v = kv.slice(i + 1);
  return [kv.slice(0, i), v === 'true' ? true : v === 'false' ? false : /^-?\d+$/.test(v) ? Number(v) : v];
}));

const tag = `firefox ${mode}`;
const say = (line) => console.log(`${tag}: ${line}`);
const body = (req) => new Promise((resolve, reject) => {
  let s = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { s += d; if (s.length > 1 << 20) reject(new Error('body too large')); });
  req.on('end', () => resolve(s));
  req.on('error', reject);
});
const reply = (res, status, type, text) => {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(text);
};

const profileDir = path.join(work, `profile-${mode}`);
writeProfile(profileDir, prefs);
say(`${await firefoxVersion()}; prefs ${JSON.stringify(prefs)}`);
let firefox = null;
let done = false;
const finish = (code) => {
  if (done) return;
  done = true;
  (firefox ? stopFirefox(firefox, profileDir) : Promise.resolve()).finally(() => process.exit(code));
};
process.on('SIGTERM', () => finish(0));
process.on('SIGINT', () => finish(0));

// Offers waiting for the server page, and the HTTP responses waiting for their answers.
const offers = [];
const pollers = [];
const answers = new Map();
let nextId = 0;

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/page.html') {
    return reply(res, 200, 'text/html; charset=utf-8', mode === 'client' ? CLIENT_PAGE : SERVER_PAGE);
  }
  if (req.method === 'POST' && url.pathname === '/log') {
    say(`page: ${JSON.parse(await body(req)).text}`);
    return reply(res, 204, 'text/plain', '');
  }
  if (mode === 'client' && req.method === 'POST' && url.pathname === '/offer') {
    // Passed on to the echo server (the page cannot post cross-origin to it).
    const r = await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: await body(req) });
    return reply(res, r.status, 'application/json', await r.text());
  }
  if (mode === 'client' && req.method === 'POST' && url.pathname === '/result') {
    const r = JSON.parse(await body(req));
    reply(res, 204, 'text/plain', '');
    if (r.error) {
      say(`FAILED: ${r.error}`);
      return finish(1);
    }
    say(`offer with ${r.offerCandidates} candidates; answer candidates: ${r.answerCandidates.join(' | ')}`);
    say(`selected pair ${r.selectedPair}`);
    if (r.inbound) say(`inbound-rtp ${JSON.stringify(r.inbound)}`);
    for (const [name, ok] of Object.entries(r.checks)) say(`${name} ${ok ? 'passed' : 'FAILED'}`);
    const ok = Object.values(r.checks).every((v) => v === true);
    say(ok ? 'passed' : 'FAILED');
    return finish(ok ? 0 : 1);
  }
  if (mode === 'server' && req.method === 'POST' && url.pathname === '/offer') {
    const id = ++nextId;
    const offer = JSON.parse(await body(req));
    const answered = new Promise((resolve) => answers.set(id, resolve));
    const waiting = pollers.shift();
    if (waiting) waiting({ id, offer }); else offers.push({ id, offer });
    const timeout = new Promise((resolve) => setTimeout(() => resolve({ error: 'no answer within 30 s' }), 30000));
    const answer = await Promise.race([answered, timeout]);
    answers.delete(id);
    if (answer.error) {
      say(`offer ${id}: ${answer.error}`);
      return reply(res, 500, 'text/plain', answer.error);
    }
    say(`offer ${id} answered with ${answer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).length} candidates`);
    return reply(res, 200, 'application/json', JSON.stringify(answer));
  }
  if (mode === 'server' && req.method === 'GET' && url.pathname === '/next-offer') {
    const ready = offers.shift();
    const next = ready ? Promise.resolve(ready) : new Promise((resolve) => {
      pollers.push(resolve);
      setTimeout(() => { const i = pollers.indexOf(resolve); if (i >= 0) { pollers.splice(i, 1); resolve(null); } }, 20000);
    });
    const o = await next;
    return o ? reply(res, 200, 'application/json', JSON.stringify(o)) : reply(res, 204, 'text/plain', '');
  }
  if (mode === 'server' && req.method === 'POST' && url.pathname === '/answer') {
    const resolve = answers.get(Number(url.searchParams.get('id')));
    if (resolve) resolve(JSON.parse(await body(req)));
    return reply(res, 204, 'text/plain', '');
  }
  reply(res, 404, 'text/plain', 'not found');
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    say(`${req.method} ${req.url}: ${e.message}`);
    if (!res.headersSent) reply(res, 500, 'text/plain', e.message);
  });
});
server.keepAliveTimeout = 1000;
const port = mode === 'server' ? Number(target) : 0;
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const pageUrl = `${origin}/page.html${mode === 'client' ? `?checks=${checks}` : ''}`;
firefox = startFirefox(profileDir, pageUrl, path.join(work, `firefox-${mode}.log`));
// Firefox gone before we stop it is a failure in both modes: the server stops answering
// (its port closes, so clients fail at once instead of waiting for answers).
firefox.on('exit', (code, signal) => {
  say(`Firefox exited (${code ?? signal})`);
  finish(1);
});
if (mode === 'client') {
  setTimeout(() => { say('FAILED: no result within 60 s'); finish(1); }, 60000);
}
