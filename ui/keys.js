// The keys view: a prefix tree with search, a key's page (value, version,
// who and when), edit / create / delete with the expected version and a
// reason, a version conflict shown with the other change, and the key's
// history as a timeline with a diff of any two versions. The schemas that
// cover a key are shown beside its value editor, and a save they refuse
// lists each failure inline. A save that a review policy refuses (403
// review_required) offers to propose it as a change (changes.js). A key
// attached to an etcd lease names it.
import { api, ApiError, keyHref, keyPath, query } from './api.js';
import { diffElement, minify, parseJson, prettyElement, prettyText } from './json.js';
import { h, clear, timeEl } from './dom.js';
import { state, showError, clearError, toast } from './app.js';
import {
  failuresElement, hasFailures, listSchemas, schemaPanel, schemasCovering,
} from './schemas.js';
import { leaseLine, leaseOf, listLeases } from './leases.js';
import { needsReview, proposeInsteadElement } from './changes.js';

let view = null;  // {tree, detail, search, key, editing}
let refreshTimer = null;

async function listAll(params) {
  const entries = [];
  let after;
  for (;;) {
    const page = await api('GET', `/v1/kv${query({ ...params, limit: 10000, after })}`);
    entries.push(...page.entries);
    if (!page.next) return { revision: page.revision, entries };
    after = page.next;
  }
}

// A nested map of prefixes: {children: Map(name -> node), key?: fullKey}.
// Each `/` closes a prefix: `/registry/pods/a b` sits under `/`, `registry/`,
// `pods/`; `apisix/routes/1/` is the leaf with the empty name under `1/`
// (shown as such), beside `apisix/routes/1` if that exists too.
function buildTree(keys) {
  const root = { children: new Map() };
  for (const key of keys) {
    let node = root;
    const parts = key.split('/');
    parts.forEach((part, i) => {
      const name = i < parts.length - 1 ? `${part}/` : part;
      if (!node.children.has(name)) node.children.set(name, { children: new Map() });
      node = node.children.get(name);
      if (i === parts.length - 1) node.key = key;
    });
  }
  return root;
}

function treeElement(node, open) {
  const ul = h('ul', { class: 'tree' });
  for (const [name, child] of node.children) {
    if (child.key !== undefined && child.children.size === 0) {
      const current = view && view.key === child.key;
      ul.append(h('li', {}, h('a', {
        href: keyHref(child.key), 'data-key': child.key, title: child.key,
        'aria-current': current ? 'page' : false,
      }, name === '' ? h('span', { class: 'muted' }, '(the key ending in /)') : name)));
      continue;
    }
    const details = h('details', { open: open || undefined },
                      h('summary', {}, h('span', { class: 'name' }, name),
                        h('span', { class: 'count' }, ` ${count(child)}`)),
                      treeElement(child, open));
    ul.append(h('li', {}, details));
  }
  return ul;
}

function count(node) {
  let n = node.key !== undefined ? 1 : 0;
  for (const c of node.children.values()) n += count(c);
  return n;
}

async function refreshTree() {
  const { revision, entries } = await listAll({});
  view.keys = entries.map((e) => e.key);
  if (revision > state.head) state.head = revision;
  drawTree();
  return revision;
}

function drawTree() {
  const q = view.search.value.trim().toLowerCase();
  const keys = q ? view.keys.filter((k) => k.toLowerCase().includes(q)) : view.keys;
  clear(view.tree);
  if (!keys.length) {
    view.tree.append(h('p', { class: 'muted' }, q ? 'No key matches.' : 'No keys yet.'));
    return;
  }
  // Open every prefix while searching or when the config is small.
  view.tree.append(treeElement(buildTree(keys), q !== '' || keys.length <= 50));
}

export async function renderKeys(main, key) {
  view = { key, editing: false, keys: [] };
  view.search = h('input', {
    id: 'search', type: 'search', placeholder: 'Search keys (press /, Enter opens)',
    'aria-label': 'Search keys (Enter opens the first match)', oninput: () => drawTree(),
    onkeydown: (e) => {
      if (e.key !== 'Enter') return;
      const first = view.tree.querySelector('a[data-key]');
      if (first) { e.preventDefault(); location.hash = first.getAttribute('href'); }
    },
  });
  view.tree = h('nav', { class: 'tree-box', 'aria-label': 'Keys' });
  view.detail = h('section', { class: 'detail', 'aria-live': 'polite' });
  const aside = h('aside', { class: 'sidebar' }, view.search,
                  state.canWrite ? h('button', {
                    type: 'button', id: 'new-key', 'data-write': '',
                    onclick: () => showCreate(),
                  }, 'New key') : null,
                  view.tree);
  main.append(h('div', { class: 'keys-layout' }, aside, view.detail));
  const revision = await refreshTree();
  if (key) await showKey(key);
  else showSummary(revision);
}

function showSummary(revision) {
  clear(view.detail);
  view.detail.append(
      h('h2', {}, 'Configuration'),
      h('p', {}, `${view.keys.length} keys at revision ${revision}. Pick a key on the left, ` +
                 'or use the time-travel view to see the config as it was.'));
}

// Live events come in bursts (a transaction's events, quick writes): the
// tree and the open key are refreshed once per burst, and the open key is
// refreshed when any event of the burst touched it, not only the last one.
let touched = new Map();  // key -> the newest event of the burst for it

export function onKeysLiveEvent(ev) {
  if (!view) return;
  touched.set(ev.key, ev);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const burst = touched;
    touched = new Map();
    if (!view) return;
    try {
      await refreshTree();
      const mine = burst.get(view.key);
      if (view.key && mine) {
        if (view.editing) {
          const note = document.getElementById('edit-note');
          if (note) {
            note.textContent = `${mine.actor} changed this key meanwhile (version ${mine.version}, ` +
                               `revision ${mine.revision}); saving will show you the conflict.`;
            note.hidden = false;
          }
        } else {
          await showKey(view.key);
        }
      }
    } catch (e) {
      showError(e);
    }
  }, 150);
}

function meta(entry) {
  return h('dl', { class: 'meta' },
           h('dt', {}, 'version'), h('dd', { id: 'k-version' }, entry.version),
           h('dt', {}, 'created'), h('dd', {}, `revision ${entry.created_revision}`),
           h('dt', {}, 'modified'), h('dd', {}, `revision ${entry.modified_revision}`),
           h('dt', {}, 'by'), h('dd', { id: 'k-by' }, entry.modified_by),
           h('dt', {}, 'when'), h('dd', {}, timeEl(entry.modified_at)));
}

async function showKey(key) {
  view.key = key;
  view.editing = false;
  for (const a of view.tree.querySelectorAll('a[data-key]')) {
    a.setAttribute('aria-current', a.dataset.key === key ? 'page' : 'false');
  }
  let entry = null;
  try {
    entry = await api('GET', `/v1/kv/${keyPath(key)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  clear(view.detail);
  view.detail.append(h('h2', { class: 'key-name' }, key));
  if (entry) {
    view.value = h('div', { id: 'k-value' }, prettyElement(entry.value));
    const actions = state.canWrite ? h('div', { class: 'row' },
        h('button', { type: 'button', id: 'edit', 'data-write': '', onclick: () => showEdit(entry) },
          'Edit'),
        h('button', { type: 'button', id: 'delete', class: 'danger', 'data-write': '',
                      onclick: () => showDelete(entry) }, 'Delete…')) : null;
    view.work = h('div', { class: 'work' });
    // The entry names its lease as a JS number, which may round an int64:
    // the exact id comes from the lease list, asked only for such a key.
    const lease = entry.lease !== undefined ? leaseOf(await listLeases(), key) : null;
    view.detail.append(meta(entry), ...(lease ? [await leaseLine(lease)] : []), view.value,
                       ...(actions ? [actions] : []), view.work);
  } else {
    view.detail.append(h('p', { class: 'muted' }, 'This key does not exist now.'));
  }
  await showHistory(key);
}

function reasonInput(id) {
  return h('label', {}, 'Reason ', h('input', {
    id, type: 'text', maxlength: 4096, placeholder: 'why (kept in the audit log)',
  }));
}

// JSON checked on every keystroke; Save is enabled only for valid JSON.
function jsonEditor(text, onValid) {
  const area = h('textarea', { id: 'editor', rows: 10, spellcheck: 'false',
                               'aria-label': 'Value (JSON)' });
  area.value = text;
  const msg = h('p', { id: 'json-msg', class: 'json-msg', 'aria-live': 'polite' });
  const check = () => {
    try {
      parseJson(area.value);
      msg.textContent = 'valid JSON';
      msg.className = 'json-msg ok';
      onValid(true);
    } catch (e) {
      msg.textContent = `not valid JSON: ${e.message}`;
      msg.className = 'json-msg bad';
      onValid(false);
    }
  };
  area.addEventListener('input', check);
  return { area, msg, check };
}

// The schemas covering `key`, or none when they cannot be read (the editor
// works without them; the server checks every write anyway).
async function schemasFor(key) {
  try {
    return schemasCovering(await listSchemas(), key);
  } catch {
    return [];
  }
}

// A refused save: its schema failures inline in `box`, anything else in
// the banner. Returns true when it showed failures.
function showRefusal(box, err) {
  clear(box);
  if (!hasFailures(err)) return false;
  box.append(failuresElement(err));
  box.hidden = false;
  return true;
}

// A save refused for want of a review: the refusal in `box`, and a button
// that proposes `ops()` as a change instead.
function showReviewRequired(box, err, ops, reasonOf) {
  clear(box);
  box.append(proposeInsteadElement(err, ops, reasonOf));
  box.hidden = false;
}

async function showEdit(entry) {
  view.editing = true;
  const schemas = await schemasFor(view.key);
  clear(view.work);  // after the wait, so that a double click draws one form
  let expected = entry.version;
  const save = h('button', { type: 'submit', id: 'save' }, 'Save');
  const ed = jsonEditor(prettyText(entry.value), (ok) => { save.disabled = !ok; });
  const note = h('p', { id: 'edit-note', class: 'note', hidden: true });
  const conflict = h('div', { id: 'conflict', class: 'conflict', hidden: true });
  const refused = h('div', { id: 'refused', hidden: true });
  const expectedLabel = h('span', { id: 'expected' }, `expected version ${expected}`);
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    let value;
    try { value = parseJson(ed.area.value); } catch { ed.check(); return; }
    const reason = form.querySelector('#reason').value;
    const body = `{"value":${minify(value)},"expected_version":${expected}` +
                 (reason ? `,"reason":${JSON.stringify(reason)}` : '') + '}';
    save.disabled = true;
    refused.hidden = true;
    try {
      const r = await api('PUT', `/v1/kv/${keyPath(view.key)}`, { rawBody: body });
      toast(r.changed ? `Saved: revision ${r.revision}` : 'No change: the value was already this');
      clearError();
      await showKey(view.key);
    } catch (err) {
      save.disabled = false;
      if (err instanceof ApiError && err.status === 409) {
        await showConflict(conflict, value, (v) => {
          expected = v;
          expectedLabel.textContent = `expected version ${expected}`;
        }, ed);
      } else if (needsReview(err)) {
        showReviewRequired(refused, err,
                           () => [{ op: 'set', key: view.key, value, expected_version: expected }],
                           () => form.querySelector('#reason').value);
      } else if (!showRefusal(refused, err)) {
        showError(err);
      }
    }
  } },
  h('h3', {}, 'Edit value'), note,
  h('div', { class: 'editor-with-schema' }, h('div', {}, ed.area, ed.msg), schemaPanel(schemas)),
  refused, reasonInput('reason'),
  h('div', { class: 'row' }, save, expectedLabel,
    h('button', { type: 'button', id: 'cancel', onclick: () => showKey(view.key) }, 'Cancel')),
  conflict);
  view.work.append(form);
  ed.check();
  ed.area.focus();
}

// The other change: its value, who, when; the user decides what to keep.
async function showConflict(box, mine, setExpected, ed) {
  clear(box);
  box.hidden = false;
  let theirs = null;
  try {
    theirs = await api('GET', `/v1/kv/${keyPath(view.key)}`);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  box.append(h('h3', {}, 'Conflict: someone else changed this key'));
  let why = '';
  try {
    const last = await api('GET', `/v1/history/${keyPath(view.key)}${query({ limit: 1 })}`);
    if (last.events.length && last.events[0].reason) why = last.events[0].reason;
  } catch { /* the reason is a nicety */ }
  if (!theirs) {
    box.append(h('p', {}, 'The key was deleted meanwhile. Nothing was saved.'));
    return;
  }
  box.append(
      h('p', {}, 'Nothing was saved. The key is now at version ', h('strong', {}, theirs.version),
        ', set by ', h('strong', { id: 'conflict-by' }, theirs.modified_by), ' at ',
        timeEl(theirs.modified_at), ` (revision ${theirs.modified_revision})`,
        why ? h('span', {}, ', because ', h('em', { id: 'conflict-why' }, why)) : '',
        '. Their value:'),
      h('div', { id: 'conflict-value' }, prettyElement(theirs.value)),
      h('p', {}, 'From their value to yours:'), diffElement(theirs.value, mine),
      h('div', { class: 'row' },
        h('button', { type: 'button', id: 'keep-mine', onclick: () => {
          setExpected(theirs.version);
          box.hidden = true;
          toast(`Your text now expects version ${theirs.version}: Save to replace theirs`);
        } }, `Keep my text (expect version ${theirs.version})`),
        h('button', { type: 'button', id: 'take-theirs', onclick: () => {
          ed.area.value = prettyText(theirs.value);
          ed.check();
          setExpected(theirs.version);
          box.hidden = true;
        } }, 'Take theirs')));
}

function showDelete(entry) {
  clear(view.work);
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    const reason = form.querySelector('#del-reason').value;
    try {
      const r = await api('DELETE', `/v1/kv/${keyPath(view.key)}${query({
        expected_version: entry.version, reason })}`);
      toast(`Deleted: revision ${r.revision}`);
      await refreshTree();
      await showKey(view.key);
    } catch (err) {
      showError(err);
    }
  } },
  h('h3', {}, `Delete ${view.key}?`),
  h('p', {}, `Only if it is still at version ${entry.version}. The history stays.`),
  reasonInput('del-reason'),
  h('div', { class: 'row' },
    h('button', { type: 'submit', id: 'confirm-delete', class: 'danger' }, 'Delete'),
    h('button', { type: 'button', onclick: () => clear(view.work) }, 'Cancel')));
  view.work.append(form);
  form.querySelector('#del-reason').focus();
}

async function showCreate() {
  view.key = '';
  view.editing = true;
  let all = [];
  try { all = await listSchemas(); } catch { /* the server checks anyway */ }
  clear(view.detail);  // after the wait, so that a double click draws one form
  const refused = h('div', { id: 'refused', hidden: true });
  let panel = schemaPanel([]);
  const save = h('button', { type: 'submit', id: 'create' }, 'Create');
  const ed = jsonEditor('', (ok) => { save.disabled = !ok; });
  const keyInput = h('input', { id: 'new-key-name', type: 'text', required: true,
                                placeholder: 'payments/timeout_ms', autocomplete: 'off',
                                oninput: () => {
                                  const next = schemaPanel(schemasCovering(all, keyInput.value));
                                  panel.replaceWith(next);
                                  panel = next;
                                } });
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    let value;
    try { value = parseJson(ed.area.value); } catch { ed.check(); return; }
    // The key exactly as typed: spaces, a leading or trailing `/` are part
    // of it (SPEC §1); the server says when it is not a valid key.
    const key = keyInput.value;
    const reason = form.querySelector('#reason').value;
    const body = `{"value":${minify(value)}` +
                 (reason ? `,"reason":${JSON.stringify(reason)}` : '') + '}';
    try {
      const r = await api('PUT', `/v1/kv/${keyPath(key)}`,
                          { rawBody: body, headers: { 'If-None-Match': '*' } });
      toast(`Created ${key}: revision ${r.revision}`);
      location.hash = keyHref(key);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        showError(new Error(`${key} exists already: open it to edit it`));
      } else if (needsReview(err)) {
        showReviewRequired(refused, err, () => [{ op: 'set', key, value }],
                           () => form.querySelector('#reason').value);
      } else if (!showRefusal(refused, err)) {
        showError(err);
      }
    }
  } },
  h('h2', {}, 'New key'), h('label', {}, 'Key ', keyInput),
  h('div', { class: 'editor-with-schema' }, h('div', {}, ed.area, ed.msg), panel),
  refused, reasonInput('reason'), h('div', { class: 'row' }, save));
  view.detail.append(form);
  ed.check();
  keyInput.focus();
}

// The timeline, newest first; pick any two versions (A, B) to diff.
async function showHistory(key) {
  let hist;
  try {
    hist = await api('GET', `/v1/history/${keyPath(key)}${query({ limit: 100 })}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return;
    throw e;
  }
  const events = hist.events;
  const diffBox = h('div', { id: 'history-diff' });
  let a = events.length > 1 ? 1 : 0;
  let b = 0;
  const drawDiff = () => {
    clear(diffBox);
    if (events.length === 1) {
      diffBox.append(h('p', { class: 'muted' }, 'Only one version so far.'));
      return;
    }
    const ea = events[a], eb = events[b];
    diffBox.append(
        h('p', {}, `From version ${ea.version} (revision ${ea.revision}) to version ` +
                   `${eb.version} (revision ${eb.revision}):`),
        diffElement(ea.type === 'ConfigDeleted' ? undefined : ea.value,
                    eb.type === 'ConfigDeleted' ? undefined : eb.value));
  };
  const list = h('ol', { class: 'timeline' });
  events.forEach((ev, i) => {
    const radio = (name, checked, set) => h('input', {
      type: 'radio', name, checked: checked || undefined, 'aria-label': `${name} version ${ev.version}`,
      'data-version': ev.version, onchange: () => { set(i); drawDiff(); },
    });
    list.append(h('li', { class: ev.type === 'ConfigDeleted' ? 'deleted' : '' },
        h('span', { class: 'pick' }, radio('A', i === a, (x) => { a = x; }),
          radio('B', i === b, (x) => { b = x; })),
        h('span', { class: 'ver' }, `v${ev.version}`),
        h('span', {}, ev.type === 'ConfigDeleted' ? 'deleted' : 'set'),
        h('span', { class: 'rev' }, `rev ${ev.revision}`),
        h('span', { class: 'actor' }, ev.actor),
        timeEl(ev.timestamp),
        h('span', { class: 'reason' }, ev.reason || '')));
  });
  view.detail.append(h('h3', {}, 'History'),
                     h('p', { class: 'hint' }, 'Pick versions A and B to see what changed.'),
                     list, diffBox);
  drawDiff();
}
