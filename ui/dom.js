// Small DOM helpers: elements are built with textContent, never from HTML
// strings, so no value or key can inject markup.

// h('div', {class: 'x', onclick: f}, 'text', child, [more]) -> element
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  const add = (c) => {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else el.append(c instanceof Node ? c : String(c));
  };
  children.forEach(add);
  return el;
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); }

// "2026-11-26 15:00:00" in the browser's time zone; the exact UTC time in a
// tooltip (the caller sets it as title).
export function fmtTime(rfc3339) {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
         `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function timeEl(rfc3339) {
  return h('time', { datetime: rfc3339, title: rfc3339 }, fmtTime(rfc3339));
}

// A datetime-local value (local time) as RFC 3339 UTC with microseconds.
export function toRfc3339(local) {
  if (!local) return '';
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// RFC 3339 as a datetime-local value (local time, seconds).
export function fromRfc3339Local(rfc3339) {
  const d = new Date(rfc3339);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
         `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
