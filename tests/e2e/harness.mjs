// What the console tests share: a real `chronoconf serve` on a free loopback
// port (SQLite in a temp dir), Debian's chromium driven by playwright-core,
// and the checks every test ends with (no console error, no request to
// another origin).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const bin = process.env.CHRONOCONF_BIN || path.join(root, 'build/chronoconf');
// scripts/e2e.sh --screenshots writes them into docs/screenshots (the
// README shows them); ordinary runs keep them out of the work tree.
export const shots = process.env.CHRONOCONF_SCREENSHOT_DIR || path.join(here, 'artifacts');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export const sha256 = (t) => createHash('sha256').update(t).digest('hex');

// Starts `chronoconf serve`; resolves once /readyz answers 200.
export async function startServer({ tokens, dir, port } = {}) {
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'cc-e2e-'));
  port = port || await freePort();
  const args = ['serve', '--store', `sqlite:${path.join(dir, 'events.db')}`,
                '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
  if (tokens) {
    const file = path.join(dir, 'auth.json');
    fs.writeFileSync(file, JSON.stringify({ tokens: tokens.map((t) => ({
      name: t.name, sha256: sha256(t.token), role: t.role,
      ...(t.prefixes ? { prefixes: t.prefixes } : {}) })) }));
    args.push('--auth-file', file);
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`chronoconf serve exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error('serve did not get ready'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) { resolve(); return; }
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
  return { url, port, dir, proc, stop };
}

// A second writer, outside the browser.
export async function put(url, key, value, { actor = 'bob', reason, token, expected } = {}) {
  const body = { value };
  if (reason) body.reason = reason;
  if (expected !== undefined) body.expected_version = expected;
  const headers = { 'Content-Type': 'application/json', 'X-Actor': actor };
  if (token) headers.Authorization = `Bearer ${token}`;
  // The key encoded as a whole (`/` as %2F, which the server decodes), so
  // that any key of SPEC §1 (spaces, `%`, a leading `/`, `..`) arrives as is.
  const r = await fetch(`${url}/v1/kv/${encodeURIComponent(key)}`,
                        { method: 'PUT', headers, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`PUT ${key}: ${r.status} ${await r.text()}`);
  return r.json();
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A fresh page that records console errors, page errors and every request
// to an origin other than the server's. `done({allow})` asserts none
// happened (allow: regexps of expected console errors, e.g. a 409 the test
// provoked — Chromium logs each non-2xx response as a console error).
export async function openPage(browser, server, { width = 1280, height = 860 } = {}) {
  const context = await browser.newContext({
    viewport: { width, height }, timezoneId: 'UTC', locale: 'en-GB',
  });
  if (process.env.CHRONOCONF_UI_DIR) await serveUiFrom(context, server, process.env.CHRONOCONF_UI_DIR);
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  const origin = new URL(server.url).origin;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:')) return;
    if (new URL(u).origin !== origin) foreign.push(u);
  });
  const done = async ({ allow = [] } = {}) => {
    await context.close();
    const unexpected = errors.filter((e) => !allow.some((re) => re.test(e)));
    if (unexpected.length) throw new Error(`console errors: ${unexpected.join(' | ')}`);
    if (foreign.length) throw new Error(`requests to another origin: ${foreign.join(' ')}`);
  };
  return { page, context, errors, foreign, done };
}

// CHRONOCONF_UI_DIR=ui (scripts/e2e.sh --ui-from-tree): the console's files
// come from that folder instead of the ones compiled into the binary, with
// the server's own status and headers (CSP…), so a change to ui/ can be
// tried without a C++ build. A request the server does not answer with 200
// is left as the server answered it.
async function serveUiFrom(context, server, dir) {
  const origin = new URL(server.url).origin;
  await context.route((u) => u.origin === origin && /^\/ui(\/|$)/.test(u.pathname), async (route) => {
    const res = await route.fetch();
    const name = new URL(route.request().url()).pathname.replace(/^\/ui\/?/, '') || 'index.html';
    const file = path.resolve(dir, name);
    if (res.status() !== 200 || !file.startsWith(path.resolve(dir) + path.sep) || !fs.existsSync(file)) {
      await route.fulfill({ response: res });
      return;
    }
    await route.fulfill({ response: res, body: fs.readFileSync(file) });
  });
}

export async function shot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}
