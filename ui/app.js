// The chronoconf web console (SPEC §5): plain ES modules, no framework.
// Views (by the URL's #fragment): keys (#/keys, #/keys/<key>), time travel
// (#/time), diff (#/diff), audit log (#/audit), schemas (#/schemas), review
// changes (#/changes, #/changes/<id>), leases (#/leases). Every value is shown from
// its exact text (json.js); nothing is written without the expected version.
import { api, ApiError, session, watch } from './api.js';
import { h, clear } from './dom.js';
import { renderKeys, onKeysLiveEvent } from './keys.js';
import { renderTime, renderDiff } from './time.js';
import { renderAudit } from './audit.js';
import { renderSchemas } from './schemas.js';
import { renderLeases } from './leases.js';
import { renderChanges } from './changes.js';

export const state = {
  me: null,         // GET /v1/whoami
  head: 0,          // the newest revision seen
  canWrite: false,  // role write or admin: edit controls are shown
  view: null,
};

const main = document.getElementById('main');
const banner = document.getElementById('banner');

// Shows an error clearly: 401 asks for a token, 403 names what is refused.
export function showError(e) {
  if (e instanceof ApiError && e.status === 401) {
    askToken('The server needs a token (401 unauthorized): ' + e.message);
    return;
  }
  let text = e.message || String(e);
  if (e instanceof ApiError) {
    if (e.status === 403) text = `Forbidden (403): ${e.message}`;
    else if (e.status) text = `${e.status} ${e.code}: ${e.message}`;
  }
  banner.textContent = text;
  banner.className = e instanceof ApiError && e.status === 403 ? 'forbidden' : 'error';
  banner.hidden = false;
}

export function clearError() { banner.hidden = true; banner.textContent = ''; }

export function toast(text) {
  const box = document.getElementById('toasts');
  const t = h('div', { class: 'toast' }, text);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

function askToken(reason) {
  const dlg = document.getElementById('login');
  document.getElementById('login-reason').textContent = reason || '';
  document.getElementById('login-token').value = '';
  document.getElementById('login-actor').value = session.actor;
  if (!dlg.open) dlg.showModal();
  document.getElementById('login-token').focus();
}

document.getElementById('signin').addEventListener('click', () => askToken(''));
document.getElementById('login').addEventListener('close', async () => {
  const dlg = document.getElementById('login');
  if (dlg.returnValue === 'clear') {
    session.token = '';
  } else if (dlg.returnValue === 'ok') {
    const t = document.getElementById('login-token').value.trim();
    if (t) session.token = t;
    session.actor = document.getElementById('login-actor').value.trim();
  } else {
    return;
  }
  await start();
});

// Live updates: the status in the header, and the current view refreshed.
let stopWatch = null;
function setLive(s) {
  const el = document.getElementById('live');
  const labels = {
    live: 'live', resumed: 'live (connection resumed)', lost: 'connection lost, reconnecting…',
    unauthorized: 'live updates refused', off: 'not connected',
  };
  el.textContent = labels[s] || s;
  el.className = `live ${s}`;
  el.dataset.state = s;
  if (s === 'lost') toast('Live updates: connection lost; reconnecting…');
  if (s === 'resumed') toast('Live updates: connection resumed');
}

function startWatch() {
  if (stopWatch) stopWatch();
  stopWatch = watch({
    fromRevision: state.head,
    onState: setLive,
    onEvent: (ev) => {
      if (ev.revision > state.head) state.head = ev.revision;
      const verb = ev.type === 'ConfigDeleted' ? 'deleted' : 'set';
      toast(`${ev.actor} ${verb} ${ev.key} (revision ${ev.revision})`);
      document.dispatchEvent(new CustomEvent('cc-live', { detail: ev }));
    },
  });
}

document.addEventListener('cc-live', (e) => {
  if (state.view === 'keys') onKeysLiveEvent(e.detail);
  const slider = document.getElementById('tt-slider');
  if (slider) slider.max = String(state.head);
});

// Views render one at a time (a hash change while one loads waits for it),
// so two never write into the page at once.
let routing = Promise.resolve();
function route() {
  routing = routing.then(renderRoute, renderRoute);
  return routing;
}

// The view and its argument from the URL's #fragment: #/keys/<key>,
// #/time/<revision>… The key is percent-encoded as a whole (encodeURIComponent,
// so `/` is %2F); a `/` left unencoded means `/`. A fragment that is not one
// of ours, or whose encoding is broken (#/keys/%E0%A4%A, a `%` alone), is
// answered with the default view or a message, never an uncaught error.
export function parseRoute(hash) {
  const [name, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const views = ['keys', 'time', 'diff', 'audit', 'schemas', 'changes', 'leases'];
  if (!views.includes(name)) {
    // '' is the start page; #main is the skip link's target, not a view.
    return { view: 'keys', tail: '', problem: name && name !== 'main' ? 'unknown' : null };
  }
  try {
    return { view: name, tail: decodeURIComponent(rest.join('/')), problem: null };
  } catch {
    return { view: name, tail: '', problem: 'encoding' };
  }
}

async function renderRoute() {
  clearError();
  const { view, tail, problem } = parseRoute(location.hash);
  for (const a of document.querySelectorAll('nav a')) {
    a.setAttribute('aria-current', a.dataset.view === view ? 'page' : 'false');
  }
  state.view = view;
  clear(main);
  try {
    if (view === 'time') await renderTime(main, tail);
    else if (view === 'diff') await renderDiff(main);
    else if (view === 'audit') await renderAudit(main);
    else if (view === 'schemas') await renderSchemas(main);
    else if (view === 'changes') await renderChanges(main, tail);
    else if (view === 'leases') await renderLeases(main);
    else await renderKeys(main, tail);
  } catch (e) {
    showError(e);
    return;
  }
  // Said once the view is drawn (a view clears the banner when it loads).
  const shown = location.hash.length > 200 ? `${location.hash.slice(0, 200)}…` : location.hash;
  if (problem === 'encoding') {
    showError(new Error(`This link is broken: ${shown} is not valid percent-encoding; ` +
                        `showing the ${view} view instead.`));
  } else if (problem === 'unknown') {
    showError(new Error(`This console has no view ${shown}; showing the keys.`));
  }
}

async function start() {
  clearError();
  try {
    state.me = await api('GET', '/v1/whoami');
    const st = await api('GET', '/v1/status');
    state.head = st.revision;
  } catch (e) {
    state.me = null;
    setLive('off');
    showError(e);
    return;
  }
  state.canWrite = state.me.role === 'write' || state.me.role === 'admin';
  document.body.classList.toggle('readonly', !state.canWrite);
  const scope = state.me.prefixes ? ` · ${state.me.prefixes.join(', ')}` : '';
  document.getElementById('whoami').textContent =
      `${state.me.name} (${state.me.role}${state.canWrite ? '' : ', read-only'}${scope})`;
  startWatch();
  await route();
}

// The skip link (#main) only moves the focus: the view stays as it is.
window.addEventListener('hashchange', () => {
  if (location.hash === '#main') return;
  if (state.me) route();
});
// "/" jumps to the search box (when not typing somewhere).
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
    const s = document.getElementById('search');
    if (s) { e.preventDefault(); s.focus(); }
  }
});

start();
