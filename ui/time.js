// Time travel (the whole config at a revision or a moment, and revert to
// it after a confirmation that shows what will change) and the diff between
// two revisions.
import { api, ApiError, keyHref, query } from './api.js';
import { diffElement, minify, prettyElement } from './json.js';
import { h, clear, timeEl, toRfc3339, fromRfc3339Local } from './dom.js';
import { state, showError, clearError, toast } from './app.js';

// The answer of GET /v1/diff, key by key: added, removed, changed (a line
// diff of the pretty-printed values).
export function diffResultElement(d) {
  const box = h('div', { class: 'diff-result' });
  const n = d.added.length + d.removed.length + d.changed.length;
  box.append(h('p', { class: 'diff-summary' },
               n ? `${d.added.length} added, ${d.removed.length} removed, ` +
                   `${d.changed.length} changed (revision ${d.from} → ${d.to})`
                 : `No changes between revision ${d.from} and ${d.to}.`));
  const item = (cls, label, key, body) => h('div', { class: `diff-item ${cls}` },
      h('h4', {}, h('span', { class: 'tag' }, label), ' ',
        h('a', { href: keyHref(key) }, key)), body);
  for (const e of d.added) box.append(item('added', 'added', e.key, diffElement(undefined, e.value)));
  for (const e of d.removed) {
    box.append(item('removed', 'removed', e.key, diffElement(e.value, undefined)));
  }
  for (const c of d.changed) {
    box.append(item('changed', 'changed', c.key, diffElement(c.before.value, c.after.value)));
  }
  return box;
}

// #/time/R opens at revision R (the audit log links there).
function sinceTag(now, e, past) {
  if (!past) return null;
  const text = now.get(e.key);
  if (text === undefined) return h('span', { class: 'tag del since' }, 'deleted since');
  if (text !== minify(e.value)) return h('span', { class: 'tag chg since' }, 'changed since');
  return null;
}

export async function renderTime(main, at) {
  const st = await api('GET', '/v1/status');
  state.head = Math.max(state.head, st.revision);
  const slider = h('input', { id: 'tt-slider', type: 'range', min: 0, max: state.head,
                              value: state.head, step: 1, 'aria-label': 'Revision' });
  const revLabel = h('output', { id: 'tt-rev', for: 'tt-slider' });
  const picker = h('input', { id: 'tt-time', type: 'datetime-local', step: 1,
                              'aria-label': 'Date and time' });
  const commit = h('p', { id: 'tt-commit', class: 'hint' });
  const table = h('div', { id: 'tt-config' });
  const revertBox = h('div', { id: 'revert-box' });
  let current = state.head;

  // Everything is fetched first and the page changes in one step, so the
  // label never names a revision the table does not show yet; a show that a
  // newer one overtook (the slider moves fast) changes nothing.
  let shown = 0;
  async function show(params) {
    const ticket = ++shown;
    const r = await api('GET', `/v1/kv${query({ ...params, limit: 10000 })}`);
    const at = r.revision;
    // What differs from now, marked on each row.
    const now = new Map();
    if (at < state.head) {
      const n = await api('GET', `/v1/kv${query({ limit: 10000 })}`);
      for (const e of n.entries) now.set(e.key, minify(e.value));
    }
    let c = null;
    let hidden = false;
    if (at > 0) {
      try {
        c = await api('GET', `/v1/revisions/${at}`);
      } catch (e) {
        // A prefix-limited token may not read a commit outside its prefixes.
        if (!(e instanceof ApiError && e.status === 403)) throw e;
        hidden = true;
      }
    }
    if (ticket !== shown) return;
    clearError();
    current = at;
    slider.value = String(current);
    revLabel.textContent = `revision ${current}${current === state.head ? ' (now)' : ''}`;
    clear(table);
    clear(revertBox);
    if (now.size || current < state.head) {
      const then = new Set(r.entries.map((e) => e.key));
      const added = [...now.keys()].filter((k) => !then.has(k)).length;
      table.append(h('p', { class: 'hint', id: 'tt-since' },
          `Compared with now: ${r.entries.filter((e) => now.get(e.key) !== minify(e.value)).length} ` +
          `of these keys differ, ${added} key(s) were created since.`));
    }
    if (!r.entries.length) {
      table.append(h('p', { class: 'muted' }, 'The config was empty then.'));
    } else {
      const tbody = h('tbody');
      for (const e of r.entries) {
        tbody.append(h('tr', { 'data-key': e.key },
            h('th', { scope: 'row' }, h('a', { href: keyHref(e.key) }, e.key),
              sinceTag(now, e, current < state.head)),
            h('td', {}, prettyElement(e.value)),
            h('td', {}, `v${e.version}`, h('br'), e.modified_by, h('br'), timeEl(e.modified_at))));
      }
      table.append(h('table', { class: 'config' },
          h('thead', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'value'), h('th', {}, 'set'))),
          tbody));
    }
    clear(commit);
    if (hidden) commit.append(`Revision ${current}: a commit outside the keys this token may read.`);
    if (c) {
      picker.value = fromRfc3339Local(c.timestamp);
      commit.append(`Revision ${current}: `, h('strong', {}, c.actor), ' at ', timeEl(c.timestamp),
                    c.reason ? ` — “${c.reason}”` : '', ` (${c.events.length} change(s))`);
    }
  }

  let timer = null;
  slider.addEventListener('input', () => {
    revLabel.textContent = `revision ${slider.value}…`;  // loading
    clearTimeout(timer);
    timer = setTimeout(() => show({ at_revision: slider.value }).catch(showError), 120);
  });
  const go = h('button', { type: 'submit', id: 'tt-go' }, 'Show');
  const timeForm = h('form', { class: 'row', onsubmit: (e) => {
    e.preventDefault();
    const t = toRfc3339(picker.value);
    if (!t) { showError(new Error('Pick a date and time first')); return; }
    show({ at_time: t }).catch(showError);
  } }, h('label', {}, 'As it was at ', picker), go);

  const revertButton = state.canWrite ? h('button', {
    type: 'button', id: 'revert-start', 'data-write': '',
    onclick: () => confirmRevert(current, revertBox, () => show({})),
  }, 'Revert to this revision…') : null;

  main.append(h('section', { class: 'time' },
      h('h2', {}, 'Time travel'),
      h('p', { class: 'hint' }, 'Drag the slider (or use the arrow keys) over revisions, or pick ' +
                                 'a moment: the whole config as it was then.'),
      h('div', { class: 'slider-row' }, h('span', {}, '0'), slider, h('span', {}, String(state.head))),
      revLabel, timeForm, commit, ...(revertButton ? [revertButton] : []), revertBox, table));
  const rev = Number.parseInt(at, 10);
  await show(Number.isInteger(rev) && rev >= 0 && rev <= state.head ? { at_revision: rev } : {});
}

// Shows what a revert to `rev` (optionally under a prefix) would change,
// then makes it on confirmation.
function confirmRevert(rev, box, after) {
  clear(box);
  const prefix = h('input', { id: 'revert-prefix', type: 'text', placeholder: 'every key',
                              autocomplete: 'off' });
  const reason = h('input', { id: 'revert-reason', type: 'text', maxlength: 4096,
                              placeholder: 'why (kept in the audit log)' });
  const preview = h('div', { id: 'revert-preview' });
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    clear(preview);
    try {
      const d = await api('GET', `/v1/diff${query({
        from_revision: state.head, to_revision: rev, prefix: prefix.value.trim() })}`);
      preview.append(h('h4', {}, 'This revert will make these changes:'), diffResultElement(d));
      const n = d.added.length + d.removed.length + d.changed.length;
      if (!n) return;
      preview.append(h('div', { class: 'row' },
        h('button', { type: 'button', id: 'revert-confirm', class: 'danger', onclick: async () => {
          try {
            const body = { to_revision: rev };
            if (prefix.value.trim()) body.prefix = prefix.value.trim();
            if (reason.value) body.reason = reason.value;
            const r = await api('POST', '/v1/revert', { body });
            toast(r.changed ? `Reverted: revision ${r.revision} (${r.events} change(s))`
                            : 'Nothing to revert');
            if (r.revision > state.head) state.head = r.revision;
            await after();
          } catch (err) {
            showError(err);
          }
        } }, `Confirm: revert to revision ${rev}`),
        h('button', { type: 'button', onclick: () => clear(box) }, 'Cancel')));
    } catch (err) {
      showError(err);
    }
  } },
  h('h3', {}, `Revert to revision ${rev}`),
  h('label', {}, 'Only keys under the prefix ', prefix),
  h('label', {}, 'Reason ', reason),
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'revert-preview-btn' },
                              'Show what will change')));
  box.append(form, preview);
  prefix.focus();
}

export async function renderDiff(main) {
  const st = await api('GET', '/v1/status');
  state.head = Math.max(state.head, st.revision);
  const from = h('input', { id: 'diff-from', type: 'number', min: 0, max: state.head,
                            value: Math.max(0, state.head - 1) });
  const to = h('input', { id: 'diff-to', type: 'number', min: 0, max: state.head,
                          value: state.head });
  const prefix = h('input', { id: 'diff-prefix', type: 'text', placeholder: 'every key' });
  const out = h('div', { id: 'diff-out' });
  const run = async () => {
    clearError();
    clear(out);
    const d = await api('GET', `/v1/diff${query({
      from_revision: from.value, to_revision: to.value, prefix: prefix.value.trim() })}`);
    out.append(diffResultElement(d));
  };
  main.append(h('section', {},
      h('h2', {}, 'Diff between two revisions'),
      h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); run().catch(showError); } },
        h('label', {}, 'From revision ', from), h('label', {}, 'to ', to),
        h('label', {}, 'prefix ', prefix), h('button', { type: 'submit', id: 'diff-go' }, 'Diff')),
      out));
  await run();
}
