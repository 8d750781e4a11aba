// The verifier in a real browser: headless Chromium loads the ES modules (and the vendored noble files)
// from a local HTTP server on 127.0.0.1 and runs verifyTask over a ledger built by the Python side, the
// draw-v1.json "joint" case, and Ed25519/SHA-256 on the browser's WebCrypto and on the noble fallback;
// ui.js renders the result (and renders hostile text as text).
// Skipped when chromium or the virtualenv is missing (.ci/run installs Debian's chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PYTHON_MISSING, buildLedgers } from './ledger-fixture.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = PYTHON_MISSING || (!CHROMIUM && 'no chromium');

const PAGE = `<!doctype html><meta charset="utf-8"><title>pending</title><div id="report"></div><div id="hostile"></div><pre id="out"></pre>
<script type="module">
import { verifyTask, recompute, outcomeDocument } from '/js/verify/index.js';
import { createReport } from '/js/verify/ui.js';
import { setHashBackend } from '/js/verify/hash.js';
import { setEd25519Backend, ed25519Backend, verifyEd25519 } from '/js/verify/ed25519.js';
import { fromHex, toHex } from '/js/verify/bytes.js';
import { encodeCanonical } from '/js/verify/canonical.js';
const out = {};
try {
  out.secure = window.isSecureContext;
  out.ed25519 = await ed25519Backend();
  const pk = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
  const sig = fromHex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00');
  out.rfc8032 = [await verifyEd25519(pk, Uint8Array.of(0x72), sig)];
  setEd25519Backend('noble');
  out.rfc8032.push(await verifyEd25519(pk, Uint8Array.of(0x72), sig));
  setEd25519Backend('auto');
  const ui = createReport(document.getElementById('report'));
  const r = await verifyTask('/site/honest/ledger/log/', '2026-07', { onStep: ui.step });
  ui.done(r);
  out.honest = { ok: r.ok, steps: r.steps.map((s) => [s.id, s.ok]) };
  out.ui = { items: document.querySelectorAll('#report li.verify-step').length, ok: document.querySelectorAll('#report li.is-ok').length,
    summary: document.querySelector('#report .verify-summary').textContent };
  const h = createReport(document.getElementById('hostile'));
  h.step({ id: 'x', label_zh: '<b>x</b>', ok: false, detail_zh: '<img src=x onerror="window.pwned=1">', detail: '<script>window.pwned=1<\\/script>' });
  out.hostile = { img: !!document.querySelector('#hostile img, #hostile b, #hostile script'), text: document.getElementById('hostile').textContent, pwned: !!window.pwned };
  const f = await verifyTask('site/forged/ledger/log/', '2026-07');
  out.forged = { ok: f.ok, failed: f.steps.filter((s) => s.ok === false).map((s) => [s.id, s.detail_zh]) };
  setHashBackend('noble');
  const doc = await (await fetch('/vectors/draw-v1.json')).json();
  const c = doc.cases.find((x) => x.name === 'joint');
  const enc = new TextEncoder();
  const o = await recompute(c.commit, c.randomness, async (ref) => enc.encode(c.blobs[ref]));
  out.joint = toHex(encodeCanonical(outcomeDocument(o))) === toHex(encodeCanonical(c.expected.outcome));
} catch (e) {
  out.error = String(e && e.stack || e);
}
document.getElementById('out').textContent = JSON.stringify(out);
document.title = 'done';
await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
</script>`;

let OUT;
let server;
let port;
let gotResult;
const result = new Promise((resolve) => { gotResult = resolve; });
before(async () => {
  if (skip) return;
  OUT = buildLedgers(['honest', 'forged']);
  const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.html': 'text/html' };
  server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    if (url === '/test.html') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); return res.end(PAGE); }
    if (url === '/result' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { res.writeHead(204); res.end(); gotResult(JSON.parse(body)); });
      return undefined;
    }
    if (url.startsWith('/js/')) file = path.join(ROOT, 'theme/static', url);
    else if (url.startsWith('/site/')) file = path.join(OUT, url.slice(6));
    else if (url === '/vectors/draw-v1.json') file = path.join(ROOT, 'tests/vectors/draw-v1.json');
    if (!file || file.includes('..') || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => {
  if (server) server.close();
  // Chromium's helper processes may still be closing files in its profile: retry, and never fail on it.
  try { if (OUT) rmSync(OUT, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); } catch { /* left in tmp */ }
});

// Opens the page in headless Chromium and waits (in real time, however slow the machine) for the page to
// POST its result; then stops the browser.
async function runPage(url) {
  const p = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--no-first-run', '--enable-logging=stderr', '--v=0', '--virtual-time-budget=600000', '--dump-dom',
    '--user-data-dir=' + path.join(OUT, 'chromium-profile'), url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err = (err + String(d).split('\n').filter((l) => /CONSOLE|Uncaught/.test(l)).join('\n')).slice(-4000); });
  p.on('close', (code) => { err += `\n(chromium exited with ${code})`; });
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no result from Chromium within 150 s\n' + err)), 150000); });
  const closed = new Promise((resolve) => p.on('close', resolve));
  try {
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
    p.kill('SIGKILL');
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}

test('headless Chromium: verifyTask, the draw vectors and both crypto backends', { skip, timeout: 170000 }, async () => {
  const r = await runPage(`http://127.0.0.1:${port}/test.html`);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.secure, true); // 127.0.0.1 is a secure context: WebCrypto is available
  assert.deepEqual(r.rfc8032, [true, true]);
  assert.equal(r.honest.ok, true, JSON.stringify(r.honest));
  assert.equal(r.forged.ok, false);
  assert.equal(r.forged.failed[0][0], 'draw');
  assert.match(r.forged.failed[0][1], /结果与锁定记录不一致/);
  assert.equal(r.joint, true);
  assert.equal(r.ui.items, 12);
  assert.equal(r.ui.ok, r.honest.steps.filter(([, ok]) => ok === true).length);
  assert.equal(r.ui.summary, '任务 2026-07 的抽取结果经独立重算验证无误。');
  assert.equal(r.hostile.img, false);
  assert.equal(r.hostile.pwned, false);
  assert.match(r.hostile.text, /<img src=x onerror/);
});
