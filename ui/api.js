// The HTTP API of SPEC §2 as the console uses it: the token from
// sessionStorage as `Authorization: Bearer` (never in a URL), errors as
// ApiError, and the watch stream read with fetch() (EventSource cannot send
// an Authorization header).
import { parseJson, JNum, JStr } from './json.js';

const TOKEN = 'chronoconf.token';
const ACTOR = 'chronoconf.actor';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN) || ''; },
  set token(t) { t ? sessionStorage.setItem(TOKEN, t) : sessionStorage.removeItem(TOKEN); },
  get actor() { return sessionStorage.getItem(ACTOR) || ''; },
  set actor(a) { a ? sessionStorage.setItem(ACTOR, a) : sessionStorage.removeItem(ACTOR); },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// Envelopes become plain objects; members named in `exact` (value and
// previous_value unless told otherwise, schema for /v1/schemas) stay as
// parsed (Map, JNum…) so their text survives exactly.
const VALUE_MEMBERS = ['value', 'previous_value'];
function toPlain(v, exact = VALUE_MEMBERS) {
  if (v instanceof JNum) return Number(v.text);
  if (v instanceof JStr) return v.value;
  if (Array.isArray(v)) return v.map((x) => toPlain(x, exact));
  if (v instanceof Map) {
    const o = {};
    for (const [raw, x] of v) {
      const k = JSON.parse(raw);
      o[k] = exact.includes(k) ? x : toPlain(x, exact);
    }
    return o;
  }
  return v;
}

function headers(extra) {
  const h = new Headers(extra || {});
  if (session.token) h.set('Authorization', `Bearer ${session.token}`);
  if (session.actor) h.set('X-Actor', session.actor);
  return h;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A key in a URL path (/v1/kv/{key}, /v1/history/{key}): percent-encoded as
// a whole, `/` as %2F, which the server decodes once. Encoding segment by
// segment would leave a key such as `a/../b` or `x/./y` as dot segments that
// the browser's URL parser removes before the request is sent.
export function keyPath(key) {
  return encodeURIComponent(key);
}

// The console's link to a key's page (#/keys/<key>, read by app.js).
export function keyHref(key) {
  return `#/keys/${encodeURIComponent(key)}`;
}

// One request; resolves to the parsed body, throws ApiError (its details
// are the error object: failures of a 422 or 409 among them).
export async function api(method, path, { body, rawBody, headers: extra, exact } = {}) {
  const init = { method, headers: headers(extra), cache: 'no-store' };
  if (rawBody !== undefined || body !== undefined) {
    init.headers.set('Content-Type', 'application/json');
    init.body = rawBody !== undefined ? rawBody : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', `the server cannot be reached (${e.message})`);
  }
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? toPlain(parseJson(text), exact) : null; } catch { parsed = null; }
  if (!res.ok) {
    const err = parsed && parsed.error ? parsed.error : {};
    throw new ApiError(res.status, err.code || `http_${res.status}`,
                       err.message || `${res.status} ${res.statusText}`, err);
  }
  return parsed;
}

// Follows /v1/watch: calls onEvent(event) for each event, onState(state)
// with 'live' | 'lost' | 'resumed' | 'unauthorized'. Reconnects with
// Last-Event-ID so nothing is missed. Returns a function that stops it.
export function watch({ fromRevision, onEvent, onState }) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  let lost = false;
  let delay = 500;

  async function once() {
    controller = new AbortController();
    const h = headers({ Accept: 'text/event-stream' });
    if (lastId !== null) h.set('Last-Event-ID', String(lastId));
    const url = lastId === null ? `/v1/watch${query({ from_revision: fromRevision })}` : '/v1/watch';
    const res = await fetch(url, { headers: h, signal: controller.signal, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      onState('unauthorized', res.status);
      stopped = true;
      return;
    }
    if (!res.ok || !res.body) throw new Error(`watch answered ${res.status}`);
    onState(lost ? 'resumed' : 'live');
    lost = false;
    delay = 500;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const ev = { event: 'message', data: [], id: null };
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? '' : line.slice(colon + 1);
          if (val.startsWith(' ')) val = val.slice(1);
          if (field === 'event') ev.event = val;
          else if (field === 'data') ev.data.push(val);
          else if (field === 'id') ev.id = val;
        }
        if (ev.id !== null) lastId = ev.id;
        if (ev.data.length) {
          try { onEvent(toPlain(parseJson(ev.data.join('\n'))), ev.event); } catch (e) {
            console.warn('watch: cannot read an event', e);
          }
        }
      }
    }
    throw new Error('the watch stream ended');
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (e) {
        if (stopped) break;
        if (!lost) { lost = true; onState('lost'); }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}
