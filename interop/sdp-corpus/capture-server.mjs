// Serves page.html on 127.0.0.1 and stores what the page POSTs (captured SDP into OUTDIR, our
// answers into WORKDIR). Runs inside the isolated namespace only.
// Usage: node capture-server.mjs PORT OUTDIR WORKDIR [OUR_ANSWER_CMD...]
// Exits when the page POSTs /done (status 0 if it said "ok"), or after 60 s (status 1).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const [port, outDir, workDir, ...answerCmd] = process.argv.slice(2);
// Our offerer (examples/jsep-offer.rs), if the page should also answer our offers.
const ourOffer = process.env.OUR_OFFER;
const page = fs.readFileSync(new URL('./page.html', import.meta.url));
const checks = [];
const timer = setTimeout(() => { console.error('capture-server: timed out'); process.exit(1); }, 60000);

http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/our-offer/')) {
      if (!ourOffer) { res.writeHead(404); return res.end(); }
      res.writeHead(200);
      return res.end(execFileSync(ourOffer, ['offer', path.basename(url.pathname)]));
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(page);
    }
    if (url.pathname.startsWith('/our-offer-check/')) {
      let verdict;
      try {
        const out = execFileSync(ourOffer, ['check', path.basename(url.pathname)], { input: body, stdio: ['pipe', 'pipe', 'pipe'] });
        verdict = `accepted: ${out.toString().trim()}`;
      } catch (e) {
        verdict = `REJECTED: ${(e.stderr || e.message).toString().trim()}`;
      }
      res.writeHead(200);
      return res.end(verdict);
    }
    if (url.pathname.startsWith('/result/')) {
      const name = path.basename(url.pathname);
      fs.writeFileSync(path.join(name.includes('.our-') ? workDir : outDir, name), body);
      console.log(`captured ${name} (${body.length} bytes)`);
    } else if (url.pathname === '/our-answer') {
      if (answerCmd.length === 0) { res.writeHead(404); return res.end(); }
      try {
        const out = execFileSync(answerCmd[0], answerCmd.slice(1), { input: body });
        res.writeHead(200);
        return res.end(out);
      } catch (e) {
        console.error(`our answerer failed: ${e.message}`);
        res.writeHead(500);
        return res.end();
      }
    } else if (url.pathname.startsWith('/check/')) {
      const line = `${path.basename(url.pathname)}: ${body}`;
      checks.push(line);
      console.log(`check ${line}`);
    } else if (url.pathname === '/done') {
      res.writeHead(200);
      res.end();
      clearTimeout(timer);
      console.log(`page finished: ${body}`);
      const failed = body !== 'ok' || checks.some((c) => c.includes('REJECTED'));
      setTimeout(() => process.exit(failed ? 1 : 0), 100);
      return;
    }
    res.writeHead(200);
    res.end();
  });
}).listen(Number(port), '127.0.0.1');
