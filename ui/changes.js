// The changes view (SPEC §8 reviews): #/changes lists the review changes
// (open ones first; a filter shows applied, rejected or all) with the review
// policies; #/changes/<id> is one change: what applying it would do to each
// key (a line diff), who proposed, approved or rejected it and why, and
// Approve / Reject / Apply for a token that can write. A refusal (403, 409)
// is shown beside the buttons with the server's message. Also what the key
// editor uses to propose a write that a review policy refused.
import { api, ApiError, keyHref, query } from './api.js';
import { diffElement, minify, prettyElement } from './json.js';
import { h, clear, timeEl } from './dom.js';
import { state, showError, clearError, toast } from './app.js';

// Values stay exactly as the server sent them (json.js), for the diff.
const EXACT = ['value', 'before', 'after'];

let filter = 'open';  // the list's state filter, kept while the tab lives

// True when a refused write asks for a review (403 review_required).
export function needsReview(err) {
  return err instanceof ApiError && err.code === 'review_required';
}

// POST /v1/changes with one op; resolves to the new change's id.
export async function proposeOps(ops, reason) {
  const body = `{"ops":[${ops.map(opText).join(',')}]` +
               (reason ? `,"reason":${JSON.stringify(reason)}` : '') + '}';
  const r = await api('POST', '/v1/changes', { rawBody: body });
  return r.id;
}

// An op as JSON text, its value minified from its parsed form (exact text).
function opText(op) {
  let t = `{"op":${JSON.stringify(op.op)},"key":${JSON.stringify(op.key)}`;
  if (op.value !== undefined) t += `,"value":${minify(op.value)}`;
  if (op.expected_version !== undefined) t += `,"expected_version":${op.expected_version}`;
  return `${t}}`;
}

// Under a key editor: the refusal and a button that proposes the same write
// as a change, then opens it.
export function proposeInsteadElement(err, ops, reasonOf) {
  const button = h('button', { type: 'button', id: 'propose-instead' },
                   'Propose this change instead');
  const box = h('div', { id: 'review-required', class: 'note', role: 'alert' },
                h('p', {}, h('strong', {}, 'This key needs a review: '), err.message),
                h('p', { class: 'hint' }, 'Nothing was saved. Propose it as a change: ' +
                                          'another token approves it, then it is applied.'),
                h('div', { class: 'row' }, button));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const id = await proposeOps(ops(), reasonOf());
      toast(`Proposed change ${id}`);
      location.hash = `#/changes/${id}`;
    } catch (e) {
      button.disabled = false;
      showError(e);
    }
  });
  return box;
}

export async function renderChanges(main, tail) {
  if (tail) {
    await renderChange(main, tail);
    return;
  }
  const select = h('select', { id: 'change-state', 'aria-label': 'Show changes' },
                   ['open', 'applied', 'rejected', 'all'].map((s) => h('option', {
                     value: s, selected: s === filter || undefined }, s)));
  const list = h('div', { id: 'change-list' });
  const policies = h('div', { id: 'policy-list' });
  select.addEventListener('change', () => {
    filter = select.value;
    drawList(list).catch(showError);
  });
  main.append(
      h('h2', {}, 'Changes'),
      h('p', { class: 'hint' }, 'A write under a prefix with a review policy is proposed as a ' +
                                'change; tokens other than the proposer approve it, and once ' +
                                'it has its approvals it is applied as one commit.'),
      h('div', { class: 'filters' }, h('label', {}, 'Show ', select)),
      list, h('h3', {}, 'Review policies'), policies);
  await Promise.all([drawList(list), drawPolicies(policies)]);
}

async function drawList(list) {
  const r = await api('GET', `/v1/changes${query({ state: filter })}`);
  clear(list);
  if (!r.changes.length) {
    list.append(h('p', { class: 'muted' },
                  filter === 'all' ? 'No changes yet.' : `No ${filter} changes.`));
    return;
  }
  const rows = r.changes.map((c) => h('tr', { 'data-id': c.id, class: `change-row ${c.state}` },
      h('td', {}, h('a', { href: `#/changes/${c.id}` }, `#${c.id}`)),
      h('td', {}, stateTag(c.state)),
      h('td', { class: 'actor' }, c.proposer),
      h('td', { class: 'approvals' }, `${c.approvers.length}/${c.approvals_required}`),
      h('td', { class: 'keys' }, c.ops.map((op, i) => [i ? ', ' : '',
                                                       h('code', {}, op.key)])),
      h('td', { class: 'reason' }, c.reason || ''),
      h('td', {}, timeEl(c.proposed_at))));
  list.append(h('table', { class: 'changes' },
      h('thead', {}, h('tr', {}, ['change', 'state', 'proposer', 'approvals', 'keys', 'why',
                                  'proposed'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}

async function drawPolicies(box) {
  const r = await api('GET', '/v1/policies');
  clear(box);
  if (!r.policies.length) {
    box.append(h('p', { class: 'muted' }, 'No prefix requires reviews.'));
    return;
  }
  box.append(h('ul', {}, r.policies.map((p) => h('li', { 'data-prefix': p.prefix },
      h('code', {}, p.prefix), `: ${p.approvals} approval${p.approvals === 1 ? '' : 's'} ` +
      `(revision ${p.revision}, set by ${p.set_by})`))));
}

function stateTag(s) {
  return h('span', { class: `tag state-${s}` }, s);
}

async function renderChange(main, idText) {
  const c = await api('GET', `/v1/changes/${encodeURIComponent(idText)}`, { exact: EXACT });
  const outcome = h('div', { id: 'change-outcome', 'aria-live': 'polite' });
  main.append(
      h('p', {}, h('a', { href: '#/changes' }, '← All changes')),
      h('h2', {}, `Change #${c.id} `, h('span', { id: 'change-state-tag' }, stateTag(c.state))),
      h('dl', { class: 'meta' },
        h('dt', {}, 'Proposed by'), h('dd', { id: 'change-proposer' }, c.proposer),
        h('dt', {}, 'When'), h('dd', {}, timeEl(c.proposed_at),
                               ` (revision ${c.proposed_revision})`),
        h('dt', {}, 'Why'), h('dd', { id: 'change-reason', class: 'reason' }, c.reason || '—'),
        h('dt', {}, 'Approvals'),
        h('dd', { id: 'change-approvals' }, `${c.approvers.length} of ${c.approvals_required}`,
          c.approvers.length ? ` (${c.approvers.join(', ')})` : ''),
        h('dt', {}, 'Status'), h('dd', { id: 'change-status' }, statusText(c))),
      actions(c, outcome), outcome,
      // A closed change's diff against today's keys says nothing: its ops instead.
      h('h3', {}, c.state === 'open' ? 'What applying it would do' : 'What it sets'),
      h('div', { id: 'change-diff' },
        c.state === 'open' ? c.diff.map(diffItem) : c.ops.map(opItem)),
      h('h3', {}, 'Reviews'),
      c.reviews.length
        ? h('ol', { id: 'change-reviews', class: 'timeline' }, c.reviews.map((r) => h('li', {
            class: `review ${r.verdict}` },
            h('span', { class: `tag ${r.verdict === 'approved' ? 'set' : 'del'}` }, r.verdict),
            h('span', { class: 'actor' }, r.actor), timeEl(r.timestamp),
            h('span', { class: 'rev' }, `revision ${r.revision}`),
            r.reason ? h('span', { class: 'reason' }, r.reason) : '')))
        : h('p', { id: 'change-reviews', class: 'muted' }, 'No review yet.'));
}

function statusText(c) {
  if (c.state === 'applied') return `applied at revision ${c.closed_revision} by ${c.applied_by}`;
  if (c.state === 'rejected') return `rejected at revision ${c.closed_revision}`;
  if (c.applicable) return 'ready to apply';
  const moved = c.diff.filter((d) => d.moved).map((d) => d.key);
  if (moved.length) return `cannot be applied: ${moved.join(', ')} changed since; propose it again`;
  const missing = c.approvals_required - c.approvers.length;
  return `waiting for ${missing} more approval${missing === 1 ? '' : 's'}`;
}

// One key: what it is now and what the change makes it.
function diffItem(d) {
  // `before` is absent when the key is (a JSON null is a value).
  const kind = d.op === 'delete' ? 'removed' : 'before' in d ? 'changed' : 'added';
  const before = d.before;
  const after = d.op === 'delete' ? undefined : d.after;
  return h('section', { class: `diff-item ${kind}`, 'data-key': d.key },
      h('h4', {}, h('span', { class: 'tag' }, d.op === 'check' ? 'check' : kind), ' ',
        h('a', { href: keyHref(d.key) }, d.key)),
      h('p', { class: 'hint' }, `version ${d.base_version} when proposed, ${d.current_version} now`,
        d.moved ? h('strong', { class: 'moved' }, ' — changed since the proposal') : ''),
      d.op === 'check' ? '' : diffElement(before, after));
}

// One op of a closed change: the key and the value it sets.
function opItem(op) {
  const kind = op.op === 'delete' ? 'removed' : 'changed';
  return h('section', { class: `diff-item ${kind}`, 'data-key': op.key },
      h('h4', {}, h('span', { class: 'tag' }, op.op), ' ',
        h('a', { href: keyHref(op.key) }, op.key)),
      op.op === 'set' ? prettyElement(op.value) : '');
}

// Approve / Reject / Apply with a reason, for a token that can write; what
// the server refuses (403, 409) is shown in `outcome`, not in the banner.
function actions(c, outcome) {
  if (!state.canWrite || c.state !== 'open') return '';
  const reason = h('input', { id: 'review-reason', type: 'text', maxlength: 4096,
                              placeholder: 'why (kept in the audit log)' });
  const act = async (action, button) => {
    clear(outcome);
    button.disabled = true;
    const body = reason.value ? { reason: reason.value } : undefined;
    try {
      const r = await api('POST', `/v1/changes/${c.id}/${action}`, { body });
      const verb = { approve: 'Approved', reject: 'Rejected', apply: 'Applied' }[action];
      toast(r.changed ? `${verb} change ${c.id}: revision ${r.revision}`
                      : `You had approved change ${c.id} already`);
      clearError();
      const main = document.getElementById('main');
      clear(main);
      await renderChange(main, String(c.id));
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof ApiError) || err.status === 401 || !err.status) throw err;
      outcome.append(h('p', { id: 'change-refused', class: 'violations', role: 'alert' },
                       h('strong', {}, `${err.status} ${err.code}: `), err.message));
    }
  };
  const button = (id, label, action, cls) => {
    const b = h('button', { type: 'button', id, class: cls }, label);
    b.addEventListener('click', () => act(action, b).catch(showError));
    return b;
  };
  return h('div', { class: 'edit', id: 'change-actions', 'data-write': true },
      h('label', {}, 'Reason ', reason),
      h('div', { class: 'row' },
        button('approve-change', 'Approve', 'approve'),
        button('reject-change', 'Reject', 'reject', 'danger'),
        button('apply-change', 'Apply', 'apply')));
}
