// The npm etcd3 scenario of chronoconf's etcd differential tests
// (tests/etcd_clients/diff.py). Prints "check: text" lines; revisions relative
// to each section's start (SPEC §7: etcd's empty store is at revision 1,
// chronoconf's at 0); ids that SPEC §7 says differ carry a label the harness
// masks. Errors print as the client's error class and message: the class is
// how etcd3 maps etcd's text to a typed error.
//
// Usage: node scenario.js HOST:PORT plain|auth [PASSWORD]
'use strict';
const { Etcd3 } = require('etcd3');
const { noop } = require('cockatiel');

const [endpoint, mode, password] = process.argv.slice(2);
let base = 0;

function out(check, text) {
  process.stdout.write(`${check}: ${text}\n`);
}
const rv = (r) => (Number(r) > 0 ? Number(r) - base : Number(r || 0));
const str = (b) => (b == null ? null : Buffer.from(b).toString());
const kv = (k) =>
  k ? `${JSON.stringify(str(k.key))}=${JSON.stringify(str(k.value))} c${rv(k.create_revision)} m${rv(k.mod_revision)} v${k.version} lease=${k.lease}` : '<none>';
const kvs = (l) => '[' + (l || []).map(kv).join(', ') + ']';
const errs = (e) => `ERR ${e.constructor.name} ${JSON.stringify(e.message)}`;

function client(auth) {
  return new Etcd3({
    hosts: `http://${endpoint}`,
    auth,
    // No retries: every answer is an observation.
    faultHandling: { host: () => noop, global: noop },
  });
}

async function attempt(check, fn) {
  try {
    return await fn();
  } catch (e) {
    out(check, errs(e));
    return undefined;
  }
}

async function range(check, builder) {
  const r = await attempt(check, () => builder.exec());
  if (r) out(check, `rev=${rv(r.header.revision)} count=${r.count} more=${r.more} kvs=${kvs(r.kvs)}`);
}

async function put(check, builder) {
  const r = await attempt(check, () => builder.exec());
  if (r) out(check, `rev=${rv(r.header.revision)} prev=${kv(r.prev_kv)}`);
}

async function del(check, builder) {
  const r = await attempt(check, () => builder.exec());
  if (r) out(check, `rev=${rv(r.header.revision)} deleted=${r.deleted} prev=${kvs(r.prev_kvs)}`);
}

function opResp(o) {
  if (o.response_range) return `range count=${o.response_range.count} kvs=${kvs(o.response_range.kvs)}`;
  if (o.response_put) return `put prev=${kv(o.response_put.prev_kv)}`;
  if (o.response_delete_range) return `delete deleted=${o.response_delete_range.deleted}`;
  if (o.response_txn) return `txn succeeded=${o.response_txn.succeeded} [${o.response_txn.responses.map(opResp).join('; ')}]`;
  return JSON.stringify(o);
}

async function txn(check, builder) {
  const r = await attempt(check, () => builder.commit());
  if (!r) return;
  out(check, `rev=${rv(r.header.revision)} succeeded=${r.succeeded}`);
  r.responses.forEach((o, i) => out(check, `  op${i} ${opResp(o)}`));
}

async function learnBase(c, probe = 'base-probe') {
  base = 0;
  const r = await c.get(probe).exec();
  base = Number(r.header.revision);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// Events of a watcher, printed when n arrived or at the timeout.
function recorder(w) {
  const got = [];
  w.on('put', (k, p) => got.push(`put ${kv(k)} prev=${kv(p)}`));
  w.on('delete', (k, p) => got.push(`delete ${kv(k)} prev=${kv(p)}`));
  w.on('error', (e) => got.push(`error ${errs(e)}`));
  return got;
}
async function report(check, got, n, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (got.length < n && Date.now() < deadline) await sleep(20);
  got.forEach((g) => out(check, g));
  if (got.length < n) out(check, `timeout after ${got.length} of ${n} events`);
}

async function kvSection(c) {
  await learnBase(c);
  await put('put_new', c.put('n/a').value('1'));
  await put('put_prev_kv', c.put('n/a').value('2'));
  const prev = await attempt('put_get_previous', () => c.put('n/a').value('2').getPrevious());
  if (prev) out('put_get_previous', kv(prev));
  await put('put_json', c.put('n/b').value('{"x":[1,2]}'));
  await put('put_number_text', c.put('n/c').value(1.5));
  await put('put_buffer_utf8', c.put('n/d').value(Buffer.from('grüße')));
  out('get_string', await c.get('n/a').string());
  out('get_json', JSON.stringify(await c.get('n/b').json()));
  out('get_number', String(await c.get('n/c').number()));
  out('get_missing', String(await c.get('n/zz').string()));
  out('get_exists', String(await c.get('n/zz').exists()));
  await range('get_one_exec', c.get('n/a'));
  await range('get_revision_1', c.get('n/a').revision(base + 1));
  await range('get_future_revision', c.get('n/a').revision(base + 1000));
  out('get_all_prefix', JSON.stringify(await c.getAll().prefix('n/').strings()));
  out('get_all_keys', JSON.stringify(await c.getAll().prefix('n/').keys()));
  out('get_all_count', String(await c.getAll().prefix('n/').count()));
  out('get_all_everything', JSON.stringify(await c.getAll().keys()));
  await range('get_all_limit', c.getAll().prefix('n/').limit(2));
  await range('get_all_sort_value_desc', c.getAll().prefix('n/').sort('Value', 'Descend'));
  await range('get_all_sort_create_asc', c.getAll().prefix('n/').sort('Create', 'Ascend'));
  await range('get_all_min_mod', c.getAll().prefix('n/').minModRevision(base + 4));
  await range('get_all_max_create', c.getAll().prefix('n/').maxCreateRevision(base + 4));
  await range('get_all_revision', c.getAll().prefix('n/').revision(base + 3));
  await put('put_empty_key', c.put('').value('v'));
  await del('delete_one', c.delete().key('n/d'));
  const gp = await attempt('delete_get_previous', () => c.delete().key('n/c').getPrevious());
  if (gp) out('delete_get_previous', kvs(gp));
  await del('delete_missing', c.delete().key('n/none'));
  await put('recreate', c.put('n/c').value('again'));
  await range('recreated_version', c.get('n/c'));
  await del('delete_prefix', c.delete().prefix('n/'));
  await del('delete_all_nothing', c.delete().prefix('n/'));
}

async function txnSection(c) {
  await learnBase(c);
  await put('txn_setup', c.put('t/a').value('1'));
  await put('txn_setup', c.put('t/b').value('2'));
  await txn('txn_value_equal_reads_own_write',
    c.if('t/a', 'Value', '==', '1').then(c.put('t/a').value('10'), c.get('t/a'), c.getAll().prefix('t/')).else(c.get('t/b')));
  await txn('txn_failure_branch', c.if('t/a', 'Value', '==', '1').then(c.put('t/a').value('no')).else(c.get('t/b'), c.put('t/c').value('3')));
  await txn('txn_version_and_create', c.if('t/a', 'Version', '>', 1).and('t/none', 'Create', '==', 0).then(c.delete().key('t/b'), c.get('t/b')));
  await txn('txn_mod_less', c.if('t/a', 'Mod', '<', base + 1).then(c.put('t/x').value('x')).else(c.get('t/a')));
  await txn('txn_not_equal', c.if('t/a', 'Value', '!=', '10').else(c.get('t/a')));
  await txn('txn_lease_compare', c.if('t/a', 'Lease', '==', 0).then(c.get('t/a')));
  await txn('txn_duplicate_key', c.if('t/a', 'Value', '==', '10').then(c.put('t/d').value('1'), c.put('t/d').value('2')));
  const many = [];
  for (let i = 0; i < 129; i++) many.push(c.put(`t/many/${String(i).padStart(3, '0')}`).value('x'));
  await txn('txn_too_many_ops', c.if('t/a', 'Value', '==', '10').then(...many));
  out('txn_after', String(await c.getAll().prefix('t/').count()));
  await txn('txn_nested', c.if('t/a', 'Value', '==', '10').then(
    { request_txn: { compare: [], success: [{ request_put: { key: Buffer.from('t/nested'), value: Buffer.from('yes') } }], failure: [] } },
    c.get('t/nested')));
  await range('txn_nested_after', c.get('t/nested'));
  await del('txn_nested_cleanup', c.delete().prefix('t/'));
}

async function watchSection(c) {
  await learnBase(c);
  const start = base + 1;
  await put('watch_setup', c.put('w/a').value('1'));
  await put('watch_setup', c.put('w/b').value('1'));
  await put('watch_setup', c.put('w/a').value('2'));
  await del('watch_setup', c.delete().key('w/b'));
  await put('watch_setup', c.put('x/a').value('1'));
  // etcd3 multiplexes every watcher of a client on one stream.
  const w1 = await c.watch().prefix('w/').startRevision(String(start)).withPreviousKV().create();
  const g1 = recorder(w1);
  const w2 = await c.watch().prefix('w/').startRevision(String(start)).ignore('put').create();
  const g2 = recorder(w2);
  const w3 = await c.watch().key('w/a').startRevision(String(start)).ignore('delete').create();
  const g3 = recorder(w3);
  await report('watch_history_prefix_prev_kv', g1, 4);
  await report('watch_history_ignore_put', g2, 1);
  await report('watch_history_key_ignore_delete', g3, 2);
  const live = await c.watch().prefix('live/').withPreviousKV().create();
  const gl = recorder(live);
  const lk = await c.watch().key('live/a').create();
  const gk = recorder(lk);
  await put('watch_live_write', c.put('live/a').value('1'));
  await put('watch_live_write', c.put('live/b').value('2'));
  await txn('watch_live_write_txn', c.if('live/a', 'Value', '==', '1').then(c.put('live/a').value('3'), c.delete().key('live/b')));
  await report('watch_live_prefix', gl, 4);
  await report('watch_live_key', gk, 2);
  await lk.cancel();
  await put('watch_after_cancel_write', c.put('live/a').value('4'));
  await report('watch_after_cancel_other_watch', gl, 5);
  await sleep(300);
  out('watch_cancelled_saw_nothing_more', String(gk.length));
  for (const w of [w1, w2, w3, live]) await w.cancel();
  await del('watch_cleanup', c.delete().all());
}

async function clusterSection(c) {
  await learnBase(c);
  const st = await attempt('status', () => c.maintenance.status());
  if (st) {
    const [maj, min] = st.version.split('.').map(Number);
    out('status', `version_at_least_3.4=${maj > 3 || (maj === 3 && min >= 4)} db_size_positive=${Number(st.dbSize) > 0} ` +
      `leader_is_self=${st.leader === st.header.member_id} raft_term=${st.raftTerm} header_rev=${rv(st.header.revision)}`);
  }
  const ml = await attempt('member_list', () => c.cluster.memberList());
  if (ml) {
    out('member_list', `members=${ml.members.length}`);
    for (const m of ml.members) out('member_list', `member_id=${m.ID} client_urls=${m.clientURLs.length} self=${m.ID === ml.header.member_id}`);
  }
  const al = await attempt('alarm_list', () => c.maintenance.alarm({ action: 'Get' }));
  if (al) out('alarm_list', `alarms=${al.alarms.length}`);
  // (etcd3 1.1.2's maintenance.hashKV fails in the client itself:
  // "client[method] is not a function"; Hash is the other of the two.)
  const hk = await attempt('hash_kv', () => c.maintenance.hash());
  if (hk) out('hash_kv', `ok header_rev=${rv(hk.header.revision)}`);
  const au = await attempt('authenticate_when_auth_off', () => c.auth.authenticate({ name: 'ci', password: 'x' }));
  if (au) out('authenticate_when_auth_off', 'ok');
}

async function leaseSection(c) {
  await learnBase(c);
  const lease = c.lease(60, { autoKeepAlive: false });
  lease.on('lost', () => {});
  const id = await attempt('lease_grant', () => lease.grant());
  if (!id) return;
  out('lease_grant', `lease=${id}`);
  // A grant is a commit in chronoconf (SPEC §7: leases are events), so it
  // takes a revision where etcd's takes none: count from after it.
  await learnBase(c);
  await put('lease_put', lease.put('lease/a').value('v'));
  await range('lease_get', c.get('lease/a'));
  const ttl = await attempt('lease_ttl', () => c.leaseClient.leaseTimeToLive({ ID: id, keys: true }));
  if (ttl) out('lease_ttl', `granted=${ttl.grantedTTL} in_range=${ttl.TTL > 50 && ttl.TTL <= 60} keys=${ttl.keys.map(str)}`);
  await attempt('lease_keepalive_once', () => lease.keepaliveOnce());
  out('lease_keepalive_done', 'yes');
  await attempt('lease_revoke', () => lease.revoke());
  await range('lease_revoked_key_gone', c.get('lease/a'));
  // npm etcd3's Lock: a create-only Txn on a lease; a second acquire while
  // the first holds it fails at once (EtcdLockFailedError).
  const l1 = c.lock('nlock').ttl(10);
  await attempt('lock_acquire', () => l1.acquire());
  out('lock_acquire', 'done');
  const l2 = c.lock('nlock').ttl(10);
  try {
    await l2.acquire();
    out('lock_second_while_held', 'acquired');
  } catch (e) {
    out('lock_second_while_held', e.constructor.name);
  }
  await attempt('lock_release', () => l1.release());
  await attempt('lock_second_after_release', () => l2.acquire());
  out('lock_second_after_release', 'done');
  await attempt('lock_second_release', () => l2.release());
}

async function compactSection(c) {
  await learnBase(c);
  await put('compact_setup', c.put('cp/a').value('1'));
  await put('compact_setup', c.put('cp/a').value('2'));
  await put('compact_setup', c.put('cp/a').value('3'));
  const head = base + 3;
  const r = await attempt('compact', () => c.kv.compact({ revision: head - 1 }));
  if (r) out('compact', `ok rev=${rv(r.header.revision)}`);
  await range('compact_range_below_floor', c.get('cp/a').revision(head - 2));
  await attempt('compact_again', () => c.kv.compact({ revision: head - 1 }));
  await attempt('compact_future', () => c.kv.compact({ revision: head + 100 }));
  const w = await attempt('compact_watch_below_floor', () => c.watch().key('cp/a').startRevision(String(head - 2)).create());
  if (w) {
    const g = recorder(w);
    await report('compact_watch_below_floor', g, 1, 2000);
    await w.cancel();
  }
}

async function authScenario() {
  const anon = client(undefined);
  await put('auth_no_token_put', anon.put('payments/a').value('v'));
  await range('auth_no_token_get', anon.get('payments/a'));
  anon.close();
  const wrong = client({ username: 'ci', password: 'wrong-password' });
  await put('auth_wrong_password', wrong.put('payments/a').value('v'));
  wrong.close();
  const ci = client({ username: 'ci', password });
  await learnBase(ci, 'payments/base-probe');
  await put('auth_put_in_scope', ci.put('payments/a').value('1'));
  await range('auth_get_in_scope', ci.get('payments/a'));
  await range('auth_prefix_in_scope', ci.getAll().prefix('payments/'));
  await put('auth_put_outside_scope', ci.put('other/a').value('1'));
  await range('auth_get_outside_scope', ci.get('other/a'));
  await range('auth_get_everything', ci.getAll());
  await del('auth_delete_outside_scope', ci.delete().prefix('other/'));
  await txn('auth_txn_outside_scope', ci.if('payments/a', 'Value', '==', '1').then(ci.put('other/c').value('2')));
  const w = await ci.watch().prefix('payments/').create();
  const g = recorder(w);
  await put('auth_watch_write', ci.put('payments/w').value('1'));
  await report('auth_watch_in_scope', g, 1);
  await w.cancel();
  await del('auth_delete_in_scope', ci.delete().prefix('payments/'));
  ci.close();
}

async function main() {
  if (mode === 'auth') {
    await authScenario();
    return;
  }
  const c = client(undefined);
  for (const section of [kvSection, txnSection, watchSection, clusterSection, leaseSection, compactSection]) {
    await section(c);
  }
  c.close();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`scenario failed: ${e.stack || e}\n`);
    process.exit(1);
  },
);
