// The global audit log (GET /v1/events): filters (actor, prefix, time
// range), pages that follow next_from_revision, and each commit's hash from
// GET /v1/revisions/R.
import { api, keyHref, query } from './api.js';
import { h, clear, timeEl, toRfc3339 } from './dom.js';
import { clearError, showError } from './app.js';


export async function renderAudit(main) {
  const actor = h('input', { id: 'audit-actor', type: 'text', placeholder: 'anyone' });
  const prefix = h('input', { id: 'audit-prefix', type: 'text', placeholder: 'every key' });
  const since = h('input', { id: 'audit-since', type: 'datetime-local', step: 1 });
  const until = h('input', { id: 'audit-until', type: 'datetime-local', step: 1 });
  const size = h('select', { id: 'audit-size', 'aria-label': 'Events per page' },
                 [10, 50, 200, 1000].map((n) => h('option', { value: n, selected: n === 50 || undefined },
                                                 String(n))));
  const out = h('div', { id: 'audit-out' });
  const pager = h('div', { class: 'row pager' });
  const starts = [0];  // from_revision of each page seen (for "previous")

  async function load(page) {
    clearError();
    const from = starts[page];
    const limit = Number(size.value);
    const r = await api('GET', `/v1/events${query({
      from_revision: from, limit, actor: actor.value.trim(),
      prefix: prefix.value.trim(), since: toRfc3339(since.value), until: toRfc3339(until.value),
    })}`);
    // One row per commit, with its hash.
    const commits = new Map();
    for (const ev of r.events) {
      if (!commits.has(ev.revision)) commits.set(ev.revision, []);
      commits.get(ev.revision).push(ev);
    }
    const hashes = new Map(await Promise.all([...commits.keys()].map(async (rev) => {
      const c = await api('GET', `/v1/revisions/${rev}`);
      return [rev, c.hash];
    })));
    clear(out);
    if (!commits.size) {
      out.append(h('p', { class: 'muted' }, 'No commit matches.'));
    } else {
      const tbody = h('tbody');
      for (const [rev, evs] of commits) {
        const first = evs[0];
        const hash = hashes.get(rev) || '';
        tbody.append(h('tr', { 'data-revision': rev },
            h('td', {}, h('a', { href: `#/time/${rev}`, title: 'the config at this revision' }, rev)),
            h('td', {}, timeEl(first.timestamp)),
            h('td', { class: 'actor' }, first.actor),
            h('td', { class: 'reason' }, first.reason || ''),
            h('td', {}, h('ul', { class: 'events' }, evs.map((ev) => h('li', {},
                h('span', { class: ev.type === 'ConfigDeleted' ? 'tag del' : 'tag set' },
                  ev.type === 'ConfigDeleted' ? 'delete' : 'set'), ' ',
                h('a', { href: keyHref(ev.key) }, ev.key),
                ` v${ev.version}`)))),
            h('td', {}, h('code', { class: 'hash', title: hash }, hash.slice(0, 12)))));
      }
      out.append(h('table', { class: 'audit' },
          h('thead', {}, h('tr', {}, ['revision', 'when', 'who', 'why', 'changes', 'hash'].map(
              (t) => h('th', { scope: 'col' }, t)))), tbody));
    }
    clear(pager);
    const more = r.events.length >= limit && r.next_from_revision > from;
    pager.append(
        h('button', { type: 'button', id: 'audit-prev', disabled: page === 0 || undefined,
                      onclick: () => load(page - 1).catch(showError) }, '← Previous page'),
        h('span', {}, `page ${page + 1}`),
        h('button', { type: 'button', id: 'audit-next', disabled: !more || undefined,
                      onclick: () => { starts[page + 1] = r.next_from_revision;
                                       load(page + 1).catch(showError); } }, 'Next page →'));
  }

  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    starts.length = 1;
    load(0).catch(showError);
  } },
  h('label', {}, 'Actor ', actor), h('label', {}, 'Prefix ', prefix),
  h('label', {}, 'Since ', since), h('label', {}, 'Until ', until),
  h('label', {}, 'Per page ', size),
  h('button', { type: 'submit', id: 'audit-go' }, 'Filter'));
  main.append(h('section', {}, h('h2', {}, 'Audit log'),
                h('p', { class: 'hint' }, 'Every commit, oldest first, with its hash-chain hash.'),
                form, out, pager));
  await load(0);
}
