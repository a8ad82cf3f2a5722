// The web console in a real browser (Debian's chromium, headless) against a
// real `chronoconf serve`. The tests of the first server build on each
// other, in order: create, edit, conflict, history, time travel, diff,
// revert, audit, live, schemas. Every test ends with no console error (other than the
// non-2xx responses it provoked) and no request to another origin, and
// takes the screenshots of docs/screenshots/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openPage, put, shot, startServer } from './harness.mjs';

const KEY = 'payments/timeout_ms';
const status409 = /status of 409/;
let browser;
let server;

before(async () => {
  browser = await launch();
  server = await startServer();
  // Some context in the tree, written by someone else.
  await put(server.url, 'payments/currency', 'EUR', { actor: 'carol', reason: 'launch' });
  await put(server.url, 'search/boost', { title: 2, body: 1 }, { actor: 'carol' });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function openKey(page, key) {
  await page.goto(`${server.url}/ui/#/keys/${encodeURIComponent(key)}`);
  await page.locator('.key-name', { hasText: key }).waitFor();
}

test('GET / redirects to the console, served with a strict CSP and no token', async () => {
  const r = await fetch(`${server.url}/`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/ui/');
  const ui = await fetch(`${server.url}/ui/app.js`);
  assert.equal(ui.status, 200);
  assert.match(ui.headers.get('content-type'), /^text\/javascript/);
  assert.match(ui.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
  assert.equal(ui.headers.get('x-content-type-options'), 'nosniff');
  assert.equal((await fetch(`${server.url}/ui/nope.js`)).status, 404);
  const index = await fetch(`${server.url}/ui`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  const who = await (await fetch(`${server.url}/v1/whoami`, { headers: { 'X-Actor': 'zoe' } })).json();
  assert.deepEqual(who, { auth: false, name: 'zoe', role: 'admin', prefixes: null });
});

test('create a key', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/`);
  await page.locator('#live[data-state="live"]').waitFor();
  await page.click('#new-key');
  await page.fill('#new-key-name', KEY);
  await page.fill('#editor', '{"ms": 1000, "retries": 3');
  await page.locator('#json-msg', { hasText: 'not valid JSON' }).waitFor();
  assert.equal(await page.isDisabled('#create'), true, 'invalid JSON cannot be sent');
  await page.fill('#editor', '{"ms": 1000, "retries": 3, "ratio": 1.50}');
  await page.fill('#reason', 'first setting');
  await page.click('#create');
  await page.locator('.key-name', { hasText: KEY }).waitFor();
  await page.locator('#k-version', { hasText: '1' }).waitFor();
  // Number text as sent (1.50), pretty-printed with colours.
  assert.match(await page.textContent('#k-value'), /"ratio": 1\.50/);
  assert.ok(await page.locator('#k-value .j-num').count() >= 3);
  await shot(page, 'keys');
  await done();
});

test('edit a key: the expected version is sent', async () => {
  await new Promise((r) => setTimeout(r, 1100));  // the edit lands a second after the create
  const { page, done } = await openPage(browser, server);
  await openKey(page, KEY);
  await page.click('#edit');
  const sent = page.waitForRequest((r) => r.method() === 'PUT');
  await page.fill('#editor', '{"ms": 1500, "retries": 3, "ratio": 1.50}');
  await page.fill('#reason', 'holiday peak');
  await page.click('#save');
  const body = JSON.parse((await sent).postData());
  assert.equal(body.expected_version, 1);
  await page.locator('#k-version', { hasText: '2' }).waitFor();
  assert.match(await page.textContent('#k-value'), /"ms": 1500/);
  await done();
});

test('a conflict from a second writer is shown, not overwritten', async () => {
  const { page, done } = await openPage(browser, server);
  await openKey(page, KEY);
  await page.click('#edit');
  await page.fill('#editor', '{"ms": 9999}');
  // Meanwhile bob changes the key with curl-like fetch.
  await put(server.url, KEY, { ms: 2000, retries: 5, ratio: 1.5 }, { actor: 'bob', reason: 'bob wins' });
  await page.locator('#edit-note:not([hidden])').waitFor();  // the live stream told us
  await page.click('#save');
  await page.locator('#conflict:not([hidden])').waitFor();
  assert.equal(await page.textContent('#conflict-by'), 'bob');
  assert.match(await page.textContent('#conflict-value'), /"ms": 2000/);
  assert.equal(await page.textContent('#conflict-why'), 'bob wins');
  const cur = await (await fetch(`${server.url}/v1/kv/${KEY}`)).json();
  assert.equal(cur.value.ms, 2000, 'bob\'s value was not overwritten');
  assert.equal(cur.version, 3);
  await page.locator('#conflict').scrollIntoViewIfNeeded();
  await shot(page, 'edit-conflict');
  // Taking theirs and saving again makes no change and no error.
  await page.click('#take-theirs');
  await page.click('#cancel');
  await done({ allow: [status409] });
});

test('history: a timeline and a diff of any two versions', async () => {
  const { page, done } = await openPage(browser, server);
  await openKey(page, KEY);
  const items = page.locator('ol.timeline li');
  await items.nth(2).waitFor();  // the timeline loads after the key's page
  assert.equal(await items.count(), 3);
  assert.match(await items.nth(0).textContent(), /bob.*bob wins/);
  assert.match(await items.nth(2).textContent(), /first setting/);
  // Version 1 against version 3: a line diff, not two blobs.
  await page.check('input[name="A"][data-version="1"]');
  await page.check('input[name="B"][data-version="3"]');
  const diff = page.locator('#history-diff');
  await diff.locator('text=From version 1').waitFor();
  assert.match(await diff.locator('.d-del').allTextContents().then((t) => t.join('\n')), /"ms": 1000/);
  assert.match(await diff.locator('.d-add').allTextContents().then((t) => t.join('\n')), /"ms": 2000/);
  assert.match(await diff.locator('.d-ctx').allTextContents().then((t) => t.join('\n')), /\{/);
  await page.locator('#history-diff').scrollIntoViewIfNeeded();
  await shot(page, 'history');
  await done();
});

test('time travel: the slider and the date picker show the config before the edit', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/time`);
  await page.locator('#tt-rev', { hasText: '(now)' }).waitFor();
  // Revision 3 is the create (1 and 2 are the other keys).
  const slider = page.locator('#tt-slider');
  await slider.focus();
  for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');  // 5 -> 3
  await page.locator('#tt-rev', { hasText: /^revision 3$/ }).waitFor();
  const row = page.locator(`#tt-config tr[data-key="${KEY}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /"ms": 1000/);
  assert.match(await page.textContent('#tt-commit'), /first setting/);
  assert.match(await row.textContent(), /changed since/);
  assert.match(await page.textContent('#tt-since'), /1 of these keys differ, 0 key\(s\) were created since/);
  await shot(page, 'time-travel');
  // The date picker: a moment after the create and before the edit.
  const c = await (await fetch(`${server.url}/v1/revisions/3`)).json();
  const t = new Date(Math.ceil(new Date(c.timestamp).getTime() / 1000) * 1000);
  await slider.focus();
  await page.keyboard.press('End');
  await page.locator('#tt-rev', { hasText: '(now)' }).waitFor();
  await page.fill('#tt-time', t.toISOString().slice(0, 19));
  await page.click('#tt-go');
  await page.locator('#tt-rev', { hasText: /^revision 3$/ }).waitFor();
  assert.match(await row.textContent(), /"ms": 1000/);
  // Revision 0: the empty config.
  await slider.focus();
  await page.keyboard.press('Home');
  await page.locator('#tt-config', { hasText: 'empty' }).waitFor();
  await done();
});

test('diff between two revisions', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/diff`);
  await page.locator('.diff-summary').waitFor();
  await page.fill('#diff-from', '2');
  await page.fill('#diff-to', '5');
  await page.click('#diff-go');
  await page.locator('.diff-summary', { hasText: '1 added, 0 removed, 0 changed' }).waitFor();
  await page.fill('#diff-from', '3');
  await page.click('#diff-go');
  await page.locator('.diff-summary', { hasText: '0 added, 0 removed, 1 changed' }).waitFor();
  const item = page.locator('.diff-item.changed');
  assert.match(await item.locator('h4').textContent(), /payments\/timeout_ms/);
  assert.match(await item.locator('.d-del').first().textContent(), /"ms": 1000/);
  await shot(page, 'diff');
  await done();
});

test('revert to a revision after a confirmation that shows the change, then find it in the audit log', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/time`);
  await page.locator('#tt-rev', { hasText: '(now)' }).waitFor();
  await page.locator('#tt-slider').focus();
  for (let i = 0; i < 2; i++) await page.keyboard.press('ArrowLeft');  // 5 -> 3
  await page.locator('#tt-rev', { hasText: /^revision 3$/ }).waitFor();
  await page.click('#revert-start');
  await page.fill('#revert-prefix', 'payments/');
  await page.fill('#revert-reason', 'back to calm');
  await page.click('#revert-preview-btn');
  await page.locator('#revert-preview .diff-summary', { hasText: '1 changed' }).waitFor();
  assert.match(await page.textContent('#revert-preview'), /"ms": 2000[\s\S]*"ms": 1000/);
  await shot(page, 'revert');
  await page.click('#revert-confirm');
  await page.locator('#tt-rev', { hasText: 'revision 6 (now)' }).waitFor();
  const cur = await (await fetch(`${server.url}/v1/kv/${KEY}`)).json();
  assert.equal(cur.value.ms, 1000);

  await page.goto(`${server.url}/ui/#/audit`);
  const rev6 = page.locator('tr[data-revision="6"]');
  await rev6.waitFor();
  assert.match(await rev6.textContent(), /back to calm/);
  const hash = await rev6.locator('code.hash').getAttribute('title');
  const commit = await (await fetch(`${server.url}/v1/revisions/6`)).json();
  assert.equal(hash, commit.hash);
  // Filters: bob's commits only.
  await page.fill('#audit-actor', 'bob');
  await page.click('#audit-go');
  await page.locator('tr[data-revision="2"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#audit-out tbody tr').count(), 1);
  await page.fill('#audit-actor', '');
  await page.fill('#audit-prefix', 'payments/');
  await page.click('#audit-go');
  await page.locator('tr[data-revision="6"]').waitFor();
  assert.equal(await page.locator('tr[data-revision="2"]').count(), 0, 'search/boost is not under payments/');
  // A time range (sent as RFC 3339): nothing happened in 2000.
  await page.fill('#audit-since', '2000-01-01T00:00:00');
  await page.fill('#audit-until', '2000-01-02T00:00:00');
  const asked = page.waitForRequest((r) => r.url().includes('/v1/events'));
  await page.click('#audit-go');
  const q = new URL((await asked).url()).searchParams;
  assert.equal(q.get('since'), '2000-01-01T00:00:00.000000Z');
  assert.equal(q.get('until'), '2000-01-02T00:00:00.000000Z');
  await page.locator('#audit-out', { hasText: 'No commit matches.' }).waitFor();
  await page.fill('#audit-since', '');
  await page.fill('#audit-until', '');
  await page.click('#audit-go');
  await page.locator('tr[data-revision="6"]').waitFor();
  await shot(page, 'audit');
  await done();
});

test('a change made elsewhere appears live; a lost connection is shown and resumed', async () => {
  const { page, done } = await openPage(browser, server);
  await openKey(page, KEY);
  await page.locator('#live[data-state="live"]').waitFor();
  await put(server.url, KEY, { ms: 1234 }, { actor: 'dave', reason: 'live check' });
  await page.locator('#k-value', { hasText: '1234' }).waitFor();
  assert.equal(await page.textContent('#k-by'), 'dave');
  // A new key shows up in the tree too.
  await put(server.url, 'payments/new_flag', true, { actor: 'dave' });
  await page.locator('a[data-key="payments/new_flag"]').waitFor();

  // Restart the server on the same port and store: lost, then resumed with
  // Last-Event-ID, and what was written meanwhile arrives.
  const { port, dir } = server;
  await server.stop();
  await page.locator('#live[data-state="lost"]').waitFor();
  await shot(page, 'live-lost');
  server = await startServer({ port, dir });
  await put(server.url, KEY, { ms: 4321 }, { actor: 'erin' });
  await page.locator('#live[data-state="resumed"]').waitFor({ timeout: 15000 });
  await page.locator('#k-value', { hasText: '4321' }).waitFor();
  await done({ allow: [/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|503/] });
});

test('audit log: pages follow next_from_revision; a revision links to time travel', async () => {
  for (let i = 0; i < 12; i++) await put(server.url, `bulk/k${i}`, i, { actor: 'loader' });
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/audit`);
  await page.locator('tr[data-revision="1"]').waitFor();
  await page.selectOption('#audit-size', '10');
  await page.click('#audit-go');
  await page.locator('tr[data-revision="11"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#audit-out tbody tr').count(), 10);
  await page.click('#audit-next');
  await page.locator('tr[data-revision="11"]').waitFor();
  assert.equal(await page.locator('tr[data-revision="1"]').count(), 0);
  await page.click('#audit-next');
  await page.locator('tr[data-revision="21"]').waitFor();
  assert.equal(await page.isDisabled('#audit-next'), true, 'the last page has no next');
  await page.click('#audit-prev');
  await page.locator('tr[data-revision="11"]').waitFor();
  await page.click('#audit-prev');
  await page.locator('tr[data-revision="1"]').waitFor();
  await page.click('tr[data-revision="3"] td:first-child a');
  await page.locator('#tt-rev', { hasText: /^revision 3$/ }).waitFor();
  await done();
});

test('search the tree from the keyboard; delete a key with a reason', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/keys`);
  await page.locator('a[data-key="search/boost"]').waitFor();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  await page.keyboard.type('flag');
  await page.locator('a[data-key="search/boost"]').waitFor({ state: 'detached' });
  assert.deepEqual(await page.locator('a[data-key]').evaluateAll((as) => as.map((a) => a.dataset.key)),
                   ['payments/new_flag']);
  await page.keyboard.press('Enter');  // opens the first match
  await page.locator('.key-name', { hasText: 'payments/new_flag' }).waitFor();
  await page.click('#delete');
  await page.fill('#del-reason', 'flag retired');
  await page.click('#confirm-delete');
  await page.locator('text=This key does not exist now.').waitFor();
  const h = await (await fetch(`${server.url}/v1/history/payments/new_flag`)).json();
  assert.equal(h.events[0].type, 'ConfigDeleted');
  assert.equal(h.events[0].reason, 'flag retired');
  assert.equal(h.events[0].version, 2, 'deleted at the version shown');
  await page.locator('ol.timeline li.deleted').waitFor();
  await done({ allow: [/status of 404/] });  // the deleted key's GET, expected
});

test('narrow window: the keys view stays readable', async () => {
  const { page, done } = await openPage(browser, server, { width: 420, height: 860 });
  await openKey(page, KEY);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth + 1);
  assert.equal(overflow, false, 'no horizontal scrolling');
  await shot(page, 'keys-narrow');
  await done();
});

test('auth on: token asked once, 401 shown, a read-only token sees no edit control', async () => {
  const tokens = [
    { name: 'alice', token: 'alice-secret-token', role: 'admin' },
    { name: 'dash', token: 'dash-read-only-token', role: 'read' },
    { name: 'pay', token: 'pay-read-token', role: 'read', prefixes: ['payments/'] },
  ];
  const secure = await startServer({ tokens });
  try {
    await put(secure.url, 'app/name', 'demo', { token: 'alice-secret-token' });
    const whoami = (t) => fetch(`${secure.url}/v1/whoami`, { headers: { Authorization: `Bearer ${t}` } });
    assert.deepEqual(await (await whoami('pay-read-token')).json(),
                     { auth: true, name: 'pay', role: 'read', prefixes: ['payments/'] });
    assert.equal((await whoami('nope')).status, 401);
    assert.equal((await fetch(`${secure.url}/ui/`)).status, 200, 'the console needs no token');
    const { page, done } = await openPage(browser, secure);
    await page.goto(`${secure.url}/ui/`);
    await page.locator('#login[open]').waitFor();
    assert.match(await page.textContent('#login-reason'), /401/);
    await page.fill('#login-token', 'wrong-token');
    await page.click('#login-ok');
    await page.locator('#login[open]').waitFor();
    assert.match(await page.textContent('#login-reason'), /401/);
    await page.fill('#login-token', 'dash-read-only-token');
    await page.click('#login-ok');
    await page.locator('#whoami', { hasText: 'dash (read, read-only)' }).waitFor();
    await page.locator('#live[data-state="live"]').waitFor();
    // The token never goes into a URL; it stays in this tab's sessionStorage.
    assert.ok(!page.url().includes('dash-read-only-token'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('chronoconf.token')),
                 'dash-read-only-token');
    await page.goto(`${secure.url}/ui/#/keys/app%2Fname`);
    await page.locator('.key-name', { hasText: 'app/name' }).waitFor();
    await page.locator('ol.timeline li').first().waitFor();
    await shot(page, 'read-only');
    assert.equal(await page.locator('[data-write]').count(), 0);
    assert.doesNotMatch(await page.textContent('.detail'), /null/);
    assert.equal(await page.locator('#edit, #delete, #new-key, textarea').count(), 0);
    await page.goto(`${secure.url}/ui/#/time`);
    await page.locator('#tt-rev').waitFor();
    assert.equal(await page.locator('#revert-start').count(), 0);
    // A reload in the same tab needs no new token.
    await page.reload();
    await page.locator('#whoami', { hasText: 'dash' }).waitFor();
    // A token limited to payments/ is refused app/name: 403, shown as such.
    await page.click('#signin');
    await page.fill('#login-token', 'pay-read-token');
    await page.click('#login-ok');
    await page.locator('#whoami', { hasText: 'pay (read, read-only · payments/)' }).waitFor();
    await page.goto(`${secure.url}/ui/#/keys/app%2Fname`);
    await page.locator('#banner.forbidden', { hasText: /Forbidden \(403\).*app\/name/ }).waitFor();
    assert.equal(await page.locator('#tt-slider').count(), 0, 'one view at a time');
    await shot(page, 'forbidden');
    await done({ allow: [/status of 40[13]/] });
  } finally {
    await secure.stop();
  }
});

// ---- Issue 13 item 15: each test below starts a server of its own, so the
// revisions the tests above count on stay as they are.

async function txn(url, ops, actor = 'bob') {
  const r = await fetch(`${url}/v1/txn`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Actor': actor },
    body: JSON.stringify({ ops }),
  });
  if (!r.ok) throw new Error(`txn: ${r.status} ${await r.text()}`);
  return r.json();
}

test('live: a commit that changes the open key along with another key refreshes it', async () => {
  const own = await startServer();
  try {
    await put(own.url, 'app/a', 'a1');
    await put(own.url, 'app/b', 'b1');
    const { page, done } = await openPage(browser, own);
    await page.goto(`${own.url}/ui/#/keys/${encodeURIComponent('app/a')}`);
    await page.locator('#k-value', { hasText: 'a1' }).waitFor();
    await page.locator('#live[data-state="live"]').waitFor();
    // One transaction: app/a first, app/b last (the burst's last event is
    // not the open key's).
    await txn(own.url, [{ op: 'set', key: 'app/a', value: 'a2' }, { op: 'set', key: 'app/b', value: 'b2' }],
              'tina');
    await page.locator('#k-value', { hasText: 'a2' }).waitFor({ timeout: 5000 });
    assert.equal(await page.textContent('#k-by'), 'tina');
    // Two quick writes, the open key's first.
    await put(own.url, 'app/a', 'a3', { actor: 'quick' });
    await put(own.url, 'app/b', 'b3', { actor: 'quick' });
    await page.locator('#k-value', { hasText: 'a3' }).waitFor({ timeout: 5000 });
    // While editing, the same burst shows the note instead.
    await page.click('#edit');
    await txn(own.url, [{ op: 'set', key: 'app/a', value: 'a4' }, { op: 'set', key: 'app/b', value: 'b4' }],
              'tina');
    await page.locator('#edit-note:not([hidden])', { hasText: 'tina changed this key' })
        .waitFor({ timeout: 5000 });
    await done();
  } finally {
    await own.stop();
  }
});

test('a malformed #fragment shows the default view or a message, never an uncaught error', async () => {
  await put(server.url, 'frag/ok', 1);
  const { page, errors, done } = await openPage(browser, server);
  const fragments = ['#%E0%A4%A', '#key=%', '#rev=abc', '#/keys/%E0%A4%A', '#/keys/%', '#/keys/a%2',
                     '#/time/%', '#/time/abc', '#/audit/%zz', '#/nope/x'];
  for (const f of fragments) {
    // Loaded with the fragment, then reached by a hash change from a key's page.
    await page.goto(`${server.url}/ui/${f}`);
    await page.locator('main h2').first().waitFor();
    await page.locator('#live[data-state="live"]').waitFor();
    await page.goto(`${server.url}/ui/#/keys/frag%2Fok`);
    await page.locator('.key-name', { hasText: 'frag/ok' }).waitFor();
    await page.evaluate((h) => { location.hash = h; }, f);
    await page.locator('.key-name').waitFor({ state: 'detached' });
    await page.locator('main h2').first().waitFor();
    assert.deepEqual(errors, [], `after ${f}`);
  }
  // A broken key link says so, over the keys view.
  await page.goto(`${server.url}/ui/#/keys/%E0%A4%A`);
  await page.locator('#banner:not([hidden])', { hasText: 'broken' }).waitFor();
  await page.locator('#search').waitFor();
  // The skip link moves the focus and leaves the open key's page as it is.
  await page.goto(`${server.url}/ui/#/keys/frag%2Fok`);
  await page.locator('.key-name', { hasText: 'frag/ok' }).waitFor();
  await page.evaluate(() => { location.hash = '#main'; });
  await page.waitForTimeout(300);
  assert.equal(await page.locator('.key-name', { hasText: 'frag/ok' }).count(), 1);
  assert.equal(await page.locator('#banner:not([hidden])').count(), 0);
  await done();
});

// The console's page is not refused for a query string (a cache buster, a
// tracking parameter): issue 13 item 15.
test('/ui/?v=1 serves the console, not a JSON 400', async () => {
  for (const path of ['/ui/?v=1', '/ui/app.js?v=1', '/ui?x=y']) {
    const r = await fetch(`${server.url}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  }
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/?v=1#/keys`);
  await page.locator('#live[data-state="live"]').waitFor();
  await page.locator('#search').waitFor();
  await done();
});

// SPEC §1: a key may begin or end with `/`, hold spaces, `%`, `..` and any
// non-control UTF-8.
test('keys with a leading or trailing /, spaces and non-ASCII: browse, open, edit, create', async () => {
  const own = await startServer();
  try {
    const keys = ['/registry/pods/a b', 'apisix/routes/1/', 'apisix/routes/1', 'é/ü', 'x/../y', '100%/ok'];
    for (const [i, k] of keys.entries()) await put(own.url, k, { n: i, key: k }, { actor: 'kim' });
    const { page, done } = await openPage(browser, own);
    await page.goto(`${own.url}/ui/#/keys`);
    for (const k of keys) {
      const link = page.locator(`a[data-key="${k.replace(/"/g, '\\"')}"]`);
      await link.waitFor();
      await link.click();
      await page.locator('.key-name').filter({ hasText: k }).waitFor();
      assert.equal(await page.textContent('.key-name'), k);
      assert.match(await page.textContent('#k-value'), new RegExp(`"n": ${keys.indexOf(k)}`));
      await page.locator('ol.timeline li').first().waitFor();
    }
    // `apisix/routes/1/` and `apisix/routes/1` are two leaves: the first
    // under the prefix `1/`, named as such.
    assert.match(await page.textContent('a[data-key="apisix/routes/1/"]'), /ending in \//);
    // Edit one: the PUT goes to the key itself.
    await page.goto(`${own.url}/ui/#/keys/${encodeURIComponent('/registry/pods/a b')}`);
    await page.locator('#k-version', { hasText: '1' }).waitFor();
    await page.click('#edit');
    const sent = page.waitForRequest((r) => r.method() === 'PUT');
    await page.fill('#editor', '"edited"');
    await page.click('#save');
    assert.equal(new URL((await sent).url()).pathname, '/v1/kv/%2Fregistry%2Fpods%2Fa%20b');
    await page.locator('#k-version', { hasText: '2' }).waitFor();
    const cur = await (await fetch(`${own.url}/v1/kv/${encodeURIComponent('/registry/pods/a b')}`)).json();
    assert.equal(cur.value, 'edited');
    // Create one through the form: the key exactly as typed.
    const created = ' ünï code/with space/';
    await page.click('#new-key');
    await page.fill('#new-key-name', created);
    await page.fill('#editor', 'true');
    await page.click('#create');
    await page.locator('.key-name').filter({ hasText: created.trim() }).waitFor();
    assert.equal(await page.textContent('.key-name'), created);
    const got = await fetch(`${own.url}/v1/kv/${encodeURIComponent(created)}`);
    assert.equal(got.status, 200);
    // History and time travel link back to such a key.
    await page.goto(`${own.url}/ui/#/time`);
    await page.locator(`#tt-config a[href="#/keys/${encodeURIComponent('é/ü')}"]`).click();
    await page.locator('.key-name', { hasText: 'é/ü' }).waitFor();
    await done();
  } finally {
    await own.stop();
  }
});

test('auth on: a write token edits with its Bearer token and sees live changes', async () => {
  const tokens = [{ name: 'wendy', token: 'wendy-write-token', role: 'write' }];
  const secure = await startServer({ tokens });
  try {
    await put(secure.url, 'app/mode', 'blue', { token: 'wendy-write-token' });
    const { page, done } = await openPage(browser, secure);
    await page.goto(`${secure.url}/ui/#/keys/${encodeURIComponent('app/mode')}`);
    await page.locator('#login[open]').waitFor();
    await page.fill('#login-token', 'wendy-write-token');
    await page.click('#login-ok');
    await page.locator('#whoami', { hasText: 'wendy (write)' }).waitFor();
    await page.locator('.key-name', { hasText: 'app/mode' }).waitFor();
    await page.locator('#live[data-state="live"]').waitFor();
    await page.click('#edit');
    const sent = page.waitForRequest((r) => r.method() === 'PUT');
    await page.fill('#editor', '"green"');
    await page.click('#save');
    const req = await sent;
    assert.equal(req.headers().authorization, 'Bearer wendy-write-token');
    await page.locator('#k-version', { hasText: '2' }).waitFor();
    assert.equal(await page.textContent('#k-by'), 'wendy', 'the actor is the token\'s name');
    // A change by another client of the same token arrives over the watch.
    await put(secure.url, 'app/mode', 'red', { token: 'wendy-write-token' });
    await page.locator('#k-value', { hasText: 'red' }).waitFor();
    // Schemas are read by any token, changed only by an admin.
    await page.goto(`${secure.url}/ui/#/schemas`);
    await page.locator('#schema-list', { hasText: 'No schemas yet' }).waitFor();
    assert.equal(await page.locator('#new-schema').count(), 0, 'only an admin changes schemas');
    await done({ allow: [/status of 401/] });
  } finally {
    await secure.stop();
  }
});

test('schemas: an admin sets one; a violating save shows each failure inline, a valid save works', async () => {
  await put(server.url, 'limits/rate', { max: 10 }, { actor: 'carol' });
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/schemas`);
  await page.locator('#schema-list').waitFor();
  await page.click('#new-schema');
  await page.fill('#schema-prefix', 'limits/');
  await page.fill('#schema-editor', '{"type": "object", "properties": {"max": ' +
                  '{"type": "integer", "minimum": 1}}, "required": ["max"]');
  assert.equal(await page.isDisabled('#save-schema'), true, 'invalid JSON cannot be sent');
  await page.fill('#schema-editor', '{"type": "object", "properties": {"max": ' +
                  '{"type": "integer", "minimum": 1}}, "required": ["max"]}');
  await page.fill('#schema-reason', 'rates are whole numbers');
  await page.click('#save-schema');
  const item = page.locator('.schema-item[data-prefix="limits/"]');
  await item.waitFor();
  assert.match(await item.textContent(), /revision \d+, set by /);
  assert.match(await item.textContent(), /"minimum": 1/);
  await shot(page, 'schemas');

  await openKey(page, 'limits/rate');
  await page.click('#edit');
  await page.locator('#key-schema', { hasText: 'limits/' }).waitFor();
  await page.fill('#editor', '{"max": "ten", "extra": true}');
  await page.click('#save');
  const violations = page.locator('#violations');
  await violations.waitFor();
  const failure = violations.locator('li.failure').first();
  assert.equal(await failure.locator('.f-key').textContent(), 'limits/rate');
  assert.equal(await failure.locator('.f-pointer').textContent(), '/max');
  assert.equal(await failure.locator('.f-rule').textContent(), 'type');
  assert.equal(await page.isHidden('#banner'), true, 'no generic error');
  await shot(page, 'schema-violation');
  assert.equal((await (await fetch(`${server.url}/v1/kv/limits%2Frate`)).json()).version, 1,
               'nothing was written');

  await page.fill('#editor', '{"max": 20}');
  await page.click('#save');
  await page.locator('#k-version', { hasText: '2' }).waitFor();
  assert.match(await page.textContent('#k-value'), /"max": 20/);
  await done({ allow: [/status of 422/] });
});

test('schemas: a schema that current values break lists them; an admin deletes one', async () => {
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/schemas`);
  const item = page.locator('.schema-item[data-prefix="limits/"]');
  await item.locator('.edit-schema').click();
  await page.fill('#schema-editor', '{"type": "object", "properties": {"max": {"maximum": 5}}}');
  await page.click('#save-schema');
  await page.locator('#violations li.failure', { hasText: 'maximum' }).waitFor();
  await item.locator('.delete-schema').click();
  await page.fill('#schema-del-reason', 'no more limits');
  await page.click('#confirm-delete-schema');
  await page.locator('.schema-item[data-prefix="limits/"]').waitFor({ state: 'detached' });
  assert.equal((await fetch(`${server.url}/v1/schemas/limits%2F`)).status, 404);
  await done({ allow: [/status of 409/] });
});

test('leases: a lease granted through the etcd gateway is listed with its keys and shown on its key', async () => {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const etcd = async (route, body) => {
    const r = await fetch(`${server.url}/v3/${route}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Actor': 'deploy-bot' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200, `${route}: ${r.status}`);
    return r.json();
  };
  const { page, done } = await openPage(browser, server);
  await page.goto(`${server.url}/ui/#/leases`);
  await page.locator('#lease-list', { hasText: 'No leases now.' }).waitFor();

  const grant = await etcd('lease/grant', { TTL: '300' });
  const id = grant.ID;  // int64 as a string, as etcd's gateway writes it
  const hex = BigInt(id).toString(16);
  await etcd('kv/put', { key: b64('svc/leader'), value: b64('node-a'), lease: id });
  await etcd('kv/put', { key: b64('svc/members/a'), value: b64('up'), lease: id });

  await page.goto(`${server.url}/ui/#/keys`);  // leave the view, then come back to it
  await page.goto(`${server.url}/ui/#/leases`);
  const row = page.locator(`tr.lease[data-lease="${id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.lease-id').textContent(), hex, 'the id as etcdctl shows it');
  assert.equal(await row.locator('.lease-id').getAttribute('title'), `decimal ${id}`,
               'the exact int64, not rounded by a JS number');
  assert.equal(await row.locator('.lease-ttl').textContent(), '300 s');
  const left = Number((await row.locator('.lease-left').textContent()).replace(' s', ''));
  assert.ok(left > 0 && left <= 300, `time left: ${left}`);
  assert.deepEqual(await row.locator('.lease-keys a').allTextContents(),
                   ['svc/leader', 'svc/members/a']);
  await shot(page, 'leases');

  // A key's page names its lease; a key without one does not.
  await row.locator('.lease-keys a', { hasText: 'svc/leader' }).click();
  await page.locator('.key-name', { hasText: 'svc/leader' }).waitFor();
  await page.locator('#k-lease', { hasText: `Attached to lease ${hex} (TTL 300 s` }).waitFor();
  await openKey(page, 'payments/currency');
  assert.equal(await page.locator('#k-lease').count(), 0);

  // Revoked: its keys are deleted in one commit, and the view is empty again.
  await etcd('lease/revoke', { ID: id });
  await page.goto(`${server.url}/ui/#/leases`);
  await page.locator('#lease-list', { hasText: 'No leases now.' }).waitFor();
  assert.equal((await fetch(`${server.url}/v1/kv/svc%2Fleader`)).status, 404);
  await done();
});

test('reviews: a refused save is proposed from the editor, approved as one token, applied as another', async () => {
  const tokens = [
    { name: 'ada', token: 'ada-admin-token', role: 'admin' },
    { name: 'wes', token: 'wes-write-token', role: 'write' },
    { name: 'rey', token: 'rey-write-token', role: 'write' },
    { name: 'pat', token: 'pat-write-token', role: 'write' },
  ];
  const secure = await startServer({ tokens });
  const signIn = async (page, hash, token, name) => {
    await page.goto(`${secure.url}/ui/${hash}`);
    await page.locator('#login[open]').waitFor();
    await page.fill('#login-token', token);
    await page.click('#login-ok');
    await page.locator('#whoami', { hasText: `${name} (write)` }).waitFor();
  };
  try {
    await put(secure.url, 'pay/limit', { max: 10 }, { token: 'ada-admin-token' });
    const policy = await fetch(`${secure.url}/v1/policies/pay%2F`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ada-admin-token' },
      body: JSON.stringify({ approvals: 1, reason: 'limits need two pairs of eyes' }),
    });
    assert.equal(policy.status, 201, await policy.text());

    // The writer's save is refused; the editor proposes it instead.
    const wes = await openPage(browser, secure);
    await signIn(wes.page, `#/keys/${encodeURIComponent('pay/limit')}`, 'wes-write-token', 'wes');
    await wes.page.locator('.key-name', { hasText: 'pay/limit' }).waitFor();
    await wes.page.click('#edit');
    await wes.page.fill('#editor', '{"max": 25}');
    await wes.page.fill('#reason', 'black friday');
    await wes.page.click('#save');
    await wes.page.locator('#review-required', { hasText: 'pay/' }).waitFor();
    assert.equal(await wes.page.isHidden('#banner'), true, 'shown in the editor, not the banner');
    await wes.page.click('#propose-instead');
    await wes.page.waitForURL(/#\/changes\/\d+$/);
    const id = Number(new URL(wes.page.url()).hash.split('/').pop());
    await wes.page.locator('#change-proposer', { hasText: 'wes' }).waitFor();
    assert.equal(await wes.page.textContent('#change-reason'), 'black friday');
    assert.match(await wes.page.textContent('#change-status'), /waiting for 1 more approval/);
    const item = wes.page.locator('#change-diff .diff-item[data-key="pay/limit"]');
    assert.match(await item.locator('.d-del').first().textContent(), /"max": 10/);
    assert.match(await item.locator('.d-add').first().textContent(), /"max": 25/);
    // The proposer's own approval is refused, inline, with the server's message.
    await wes.page.click('#approve-change');
    await wes.page.locator('#change-refused', { hasText: '403 forbidden' }).waitFor();
    assert.match(await wes.page.textContent('#change-refused'), /cannot approve it/);
    assert.equal((await (await fetch(`${secure.url}/v1/kv/pay%2Flimit`, {
      headers: { Authorization: 'Bearer wes-write-token' } })).json()).version, 1);
    await wes.done({ allow: [/status of 401/, /status of 403/] });

    // A second token finds it among the open changes and approves it.
    const rey = await openPage(browser, secure);
    await signIn(rey.page, '#/changes', 'rey-write-token', 'rey');
    const row = rey.page.locator(`#change-list tr[data-id="${id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /open.*wes.*0\/1.*pay\/limit.*black friday/);
    await rey.page.locator('#policy-list li[data-prefix="pay/"]', { hasText: '1 approval' }).waitFor();
    await row.locator('a').click();
    await rey.page.locator('#change-proposer', { hasText: 'wes' }).waitFor();
    await rey.page.fill('#review-reason', 'fine for the sale');
    await rey.page.click('#approve-change');
    await rey.page.locator('#change-approvals', { hasText: '1 of 1 (rey)' }).waitFor();
    assert.equal(await rey.page.textContent('#change-status'), 'ready to apply');
    await rey.page.locator('#change-reviews li.review.approved', { hasText: 'fine for the sale' })
        .waitFor();
    await shot(rey.page, 'change');
    await rey.done({ allow: [/status of 401/] });

    // A third token applies it; the key has its new value.
    const pat = await openPage(browser, secure);
    await signIn(pat.page, `#/changes/${id}`, 'pat-write-token', 'pat');
    await pat.page.locator('#change-proposer', { hasText: 'wes' }).waitFor();
    await pat.page.click('#apply-change');
    await pat.page.locator('#change-state-tag', { hasText: 'applied' }).waitFor();
    assert.match(await pat.page.textContent('#change-status'), /applied at revision \d+ by pat/);
    assert.equal(await pat.page.locator('#apply-change').count(), 0, 'a closed change has no buttons');
    await pat.page.click('#change-diff a');
    await pat.page.locator('#k-value', { hasText: '25' }).waitFor();
    assert.equal(await pat.page.textContent('#k-by'), 'pat');
    // The list filter shows it among the applied ones, not the open ones.
    await pat.page.goto(`${secure.url}/ui/#/changes`);
    await pat.page.locator('#change-list', { hasText: 'No open changes.' }).waitFor();
    await pat.page.selectOption('#change-state', 'applied');
    await pat.page.locator(`#change-list tr[data-id="${id}"]`, { hasText: 'applied' }).waitFor();
    await pat.done({ allow: [/status of 401/] });
  } finally {
    await secure.stop();
  }
});
