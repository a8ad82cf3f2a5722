// The schemas view (SPEC §8): every prefix's JSON Schema with its revision
// and who set it; an admin adds, replaces or deletes one with a reason. Also
// what the key editor shows: the schemas covering a key, and the failures of
// a refused write (422 schema_violation, 409 schema_conflict) as a list.
import { api, ApiError, query } from './api.js';
import { minify, parseJson, prettyElement, prettyText } from './json.js';
import { h, clear } from './dom.js';
import { state, showError, clearError, toast } from './app.js';

// GET /v1/schemas, each schema kept exactly as the server has it.
export async function listSchemas() {
  const r = await api('GET', '/v1/schemas', { exact: ['schema'] });
  return r.schemas;
}

// The schemas whose prefix covers `key` (every one applies to a write).
export function schemasCovering(schemas, key) {
  return schemas.filter((s) => key.startsWith(s.prefix));
}

// The schemas beside a value editor: each one's prefix and text.
export function schemaPanel(schemas) {
  const box = h('aside', { id: 'key-schema', class: 'schema-panel', 'aria-label': 'Schema' });
  if (!schemas.length) {
    box.append(h('p', { class: 'muted' }, 'No schema covers this key.'));
    return box;
  }
  for (const s of schemas) {
    box.append(h('h4', {}, 'Schema of ', h('code', {}, s.prefix)),
               h('p', { class: 'hint' }, `revision ${s.revision}, set by ${s.set_by}`),
               prettyElement(s.schema));
  }
  return box;
}

// True when `err` carries schema failures (422 schema_violation, 409
// schema_conflict).
export function hasFailures(err) {
  return err instanceof ApiError && Array.isArray(err.details.failures) &&
         err.details.failures.length > 0;
}

// Each failure as a row: key, JSON pointer in the value, rule, message.
export function failuresElement(err) {
  const rows = err.details.failures.map((f) => h('li', { class: 'failure' },
      h('code', { class: 'f-key' }, f.key), ' ',
      h('code', { class: 'f-pointer' }, f.pointer || '(the value)'), ' ',
      h('span', { class: 'tag f-rule' }, f.rule), ' ',
      h('span', { class: 'f-message' }, f.message)));
  return h('div', { id: 'violations', class: 'violations', role: 'alert' },
           h('p', {}, h('strong', {}, err.code === 'schema_conflict'
               ? 'Current values break this schema; nothing was set:'
               : 'The value breaks the schema; nothing was saved:')),
           h('ul', {}, rows));
}

let list = null;  // the <div> the schemas are drawn into

export async function renderSchemas(main) {
  const isAdmin = state.me && state.me.role === 'admin';
  list = h('div', { id: 'schema-list' });
  const work = h('div', { id: 'schema-work', class: 'work' });
  main.append(
      h('h2', {}, 'Schemas'),
      h('p', { class: 'hint' }, 'Every value set under a prefix must satisfy its JSON Schema ' +
                                '(drafts 4, 6 and 7); a write that breaks one is refused.'),
      isAdmin ? h('div', { class: 'row' }, h('button', {
        type: 'button', id: 'new-schema', onclick: () => showSchemaForm(work, null),
      }, 'New schema')) : null,
      work, list);
  await drawList(work, isAdmin);
}

async function drawList(work, isAdmin) {
  const schemas = await listSchemas();
  clear(list);
  if (!schemas.length) {
    list.append(h('p', { class: 'muted' }, 'No schemas yet: any JSON value may be set.'));
    return;
  }
  for (const s of schemas) {
    list.append(h('section', { class: 'schema-item', 'data-prefix': s.prefix },
        h('h3', {}, h('code', {}, s.prefix)),
        h('p', { class: 'hint' }, `revision ${s.revision}, set by ${s.set_by}`),
        prettyElement(s.schema),
        isAdmin ? h('div', { class: 'row' },
          h('button', { type: 'button', class: 'edit-schema',
                        onclick: () => showSchemaForm(work, s) }, 'Edit'),
          h('button', { type: 'button', class: 'danger delete-schema',
                        onclick: () => showDeleteForm(work, s) }, 'Delete…')) : null));
  }
}

// Add (s null) or replace a schema; a 409 lists the values that break it
// and offers to set it anyway.
function showSchemaForm(work, s) {
  clear(work);
  const prefix = h('input', { id: 'schema-prefix', type: 'text', required: true,
                              autocomplete: 'off', placeholder: 'payments/',
                              value: s ? s.prefix : '', readonly: s ? true : undefined });
  const area = h('textarea', { id: 'schema-editor', rows: 12, spellcheck: 'false',
                               'aria-label': 'Schema (JSON)' });
  area.value = s ? prettyText(s.schema) : '{\n  "type": "object"\n}';
  const msg = h('p', { id: 'schema-json-msg', class: 'json-msg', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', id: 'save-schema' }, 'Save schema');
  const force = h('input', { id: 'schema-force', type: 'checkbox' });
  const outcome = h('div', { id: 'schema-outcome' });
  const check = () => {
    try {
      parseJson(area.value);
      msg.textContent = 'valid JSON';
      msg.className = 'json-msg ok';
      save.disabled = false;
    } catch (e) {
      msg.textContent = `not valid JSON: ${e.message}`;
      msg.className = 'json-msg bad';
      save.disabled = true;
    }
  };
  area.addEventListener('input', check);
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    let schema;
    try { schema = parseJson(area.value); } catch { check(); return; }
    const reason = form.querySelector('#schema-reason').value;
    const body = `{"schema":${minify(schema)}` +
                 (reason ? `,"reason":${JSON.stringify(reason)}` : '') +
                 (force.checked ? ',"force":true' : '') + '}';
    clear(outcome);
    try {
      const r = await api('PUT', `/v1/schemas/${encodeURIComponent(prefix.value)}`,
                          { rawBody: body });
      toast(`Schema of ${prefix.value} saved: revision ${r.revision}`);
      clearError();
      clear(work);
      await drawList(work, true);
    } catch (err) {
      if (hasFailures(err)) {
        outcome.append(failuresElement(err),
                       h('p', { class: 'hint' }, 'Tick "set it anyway" to set it regardless.'));
      } else {
        showError(err);
      }
    }
  } },
  h('h3', {}, s ? `Edit the schema of ${s.prefix}` : 'New schema'),
  h('label', {}, 'Prefix ', prefix), area, msg,
  h('label', {}, 'Reason ', h('input', { id: 'schema-reason', type: 'text', maxlength: 4096,
                                         placeholder: 'why (kept in the audit log)' })),
  h('label', {}, force, 'set it anyway, even if current values break it'),
  h('div', { class: 'row' }, save,
    h('button', { type: 'button', onclick: () => clear(work) }, 'Cancel')),
  outcome);
  work.append(form);
  check();
  (s ? area : prefix).focus();
}

function showDeleteForm(work, s) {
  clear(work);
  const form = h('form', { class: 'edit', onsubmit: async (e) => {
    e.preventDefault();
    const reason = form.querySelector('#schema-del-reason').value;
    try {
      const path = `/v1/schemas/${encodeURIComponent(s.prefix)}${query({ reason })}`;
      const r = await api('DELETE', path);
      toast(`Schema of ${s.prefix} deleted: revision ${r.revision}`);
      clear(work);
      await drawList(work, true);
    } catch (err) {
      showError(err);
    }
  } },
  h('h3', {}, `Delete the schema of ${s.prefix}?`),
  h('p', {}, 'Values under it are no longer checked. Its history stays.'),
  h('label', {}, 'Reason ', h('input', { id: 'schema-del-reason', type: 'text', maxlength: 4096,
                                         placeholder: 'why (kept in the audit log)' })),
  h('div', { class: 'row' },
    h('button', { type: 'submit', id: 'confirm-delete-schema', class: 'danger' }, 'Delete'),
    h('button', { type: 'button', onclick: () => clear(work) }, 'Cancel')));
  work.append(form);
  form.querySelector('#schema-del-reason').focus();
}
