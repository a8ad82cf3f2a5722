// The leases view (SPEC §7 "Leases", issue 16): every lease that exists now
// (GET /v1/leases) with its id, TTL, the time it has left and its keys; and
// the lease of one key, for the key's page. Lease ids are int64: they are
// kept as the server's text (a JS number would round them) and shown as
// etcdctl shows them, in hex, with the decimal beside.
import { api, keyHref } from './api.js';
import { h } from './dom.js';

// GET /v1/leases, each id as its exact decimal text.
export async function listLeases() {
  const r = await api('GET', '/v1/leases', { exact: ['id'] });
  return r.leases.map((l) => ({ ...l, id: l.id.text }));
}

// "694d7b1a2c3e4f5a": etcdctl's form of a lease id.
export function leaseHex(decimal) {
  try { return BigInt(decimal).toString(16); } catch { return decimal; }
}

// The seconds a lease has left, from the etcd gateway's TimeToLive (the
// native API has no route for it: keep-alives are not events); null when
// it cannot be read.
export async function remainingSeconds(decimal) {
  try {
    const r = await api('POST', '/v3/lease/timetolive', { rawBody: `{"ID":"${decimal}"}` });
    const ttl = Number(r && r.TTL);
    return Number.isFinite(ttl) && ttl >= 0 ? ttl : null;
  } catch {
    return null;
  }
}

// The lease `key` is attached to now, or null.
export function leaseOf(leases, key) {
  return leases.find((l) => l.keys.includes(key)) || null;
}

function idCell(l) {
  return h('code', { class: 'lease-id', title: `decimal ${l.id}` }, leaseHex(l.id));
}

// One line for a key's page: its lease, TTL and the time it has left.
export async function leaseLine(lease) {
  const left = await remainingSeconds(lease.id);
  return h('p', { id: 'k-lease', class: 'hint' }, 'Attached to lease ', idCell(lease),
           ` (TTL ${lease.ttl} s${left === null ? '' : `, ${left} s left`}, granted by ` +
           `${lease.granted_by} in revision ${lease.granted_revision}): `,
           'it is deleted when the lease ends. ', h('a', { href: '#/leases' }, 'All leases'));
}

export async function renderLeases(main) {
  const leases = await listLeases();
  main.append(
      h('h2', {}, 'Leases'),
      h('p', { class: 'hint' }, 'etcd leases (granted through the etcd API): a lease not kept ' +
        'alive ends after its TTL, and its keys are deleted in one commit. Grants and ends are ' +
        'in the audit log; keep-alives are not.'));
  if (!leases.length) {
    main.append(h('p', { id: 'lease-list', class: 'muted' }, 'No leases now.'));
    return;
  }
  const left = await Promise.all(leases.map((l) => remainingSeconds(l.id)));
  const rows = leases.map((l, i) => h('tr', { class: 'lease', 'data-lease': l.id },
      h('td', {}, idCell(l)),
      h('td', { class: 'lease-ttl' }, `${l.ttl} s`),
      h('td', { class: 'lease-left' }, left[i] === null ? '—' : `${left[i]} s`),
      h('td', {}, l.granted_by),
      h('td', {}, `${l.granted_revision}`),
      h('td', { class: 'lease-keys' }, l.keys.length
        ? h('ul', {}, ...l.keys.map((k) => h('li', {}, h('a', { href: keyHref(k) }, k))))
        : h('span', { class: 'muted' }, 'no keys'))));
  main.append(h('table', { id: 'lease-list', class: 'leases' },
      h('thead', {}, h('tr', {}, h('th', {}, 'lease'), h('th', {}, 'TTL'),
                       h('th', {}, 'left'), h('th', {}, 'granted by'),
                       h('th', {}, 'revision'), h('th', {}, 'keys'))),
      h('tbody', {}, ...rows)));
}
