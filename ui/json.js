// JSON for the console: a strict parser that keeps the text of numbers and
// strings as sent (chronoconf stores "1.50", 12345678901234567890 and
// "\u00e9" exactly; JSON.parse would not), a pretty printer with syntax
// colouring, and a line diff. Objects are Maps keyed by the member name's
// JSON text (quotes and escapes as sent).

// A number kept as its text.
export class JNum {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

// A string kept as its JSON text (`text`, quotes included) and its value.
export class JStr {
  constructor(text) { this.text = text; this.value = JSON.parse(text); }
  toString() { return this.value; }
}

export class JsonError extends Error {
  constructor(message, pos) { super(`${message} at position ${pos}`); this.pos = pos; }
}

// Parses `text` strictly (RFC 8259): one value, nothing after it.
export function parseJson(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const fail = (m) => { throw new JsonError(m, i); };
  function value() {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; const obj = new Map(); ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected a member name');
        const k = string().text; ws();
        if (text[i] !== ':') fail("expected ':'");
        i++; obj.set(k, value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++; const arr = []; ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0]) { i += m[0].length; return new JNum(m[0]); }
    return fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
  }
  function string() {
    const start = i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      if (c < ' ') fail('control character in a string');
      if (c === '"') break;
      if (c === '\\') {
        i++;
        if ('"\\/bfnrt'.includes(text[i])) { i++; continue; }
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) { i += 5; continue; }
        fail('bad escape');
      }
      i++;
    }
    i++;
    return new JStr(text.slice(start, i));
  }
  const v = value(); ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

// The minified text of a parsed value (numbers as they were sent).
export function minify(v) {
  if (v instanceof JNum || v instanceof JStr) return v.text;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${k}:${minify(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(minify).join(',')}]`;
  return JSON.stringify(v);
}

// Pretty-printed lines: each line a list of [class, text] tokens.
export function prettyTokens(v) {
  const lines = [];
  let cur = [];
  const push = (cls, t) => cur.push([cls, t]);
  const newline = (depth) => { lines.push(cur); cur = [['', '  '.repeat(depth)]]; };
  function emit(x, depth) {
    if (x instanceof Map || Array.isArray(x)) {
      const isMap = x instanceof Map;
      const items = isMap ? [...x] : x.map((e) => [null, e]);
      push('j-punc', isMap ? '{' : '[');
      if (items.length === 0) { push('j-punc', isMap ? '}' : ']'); return; }
      items.forEach(([k, e], n) => {
        newline(depth + 1);
        if (isMap) { push('j-key', k); push('j-punc', ': '); }
        emit(e, depth + 1);
        if (n < items.length - 1) push('j-punc', ',');
      });
      newline(depth);
      push('j-punc', isMap ? '}' : ']');
      return;
    }
    if (x instanceof JNum) push('j-num', x.text);
    else if (x instanceof JStr) push('j-str', x.text);
    else if (typeof x === 'string') push('j-str', JSON.stringify(x));
    else if (x === null) push('j-null', 'null');
    else push('j-bool', String(x));
  }
  emit(v, 0);
  lines.push(cur);
  return lines;
}

export function prettyText(v) {
  return prettyTokens(v).map((l) => l.map(([, t]) => t).join('')).join('\n');
}

// A <pre> with the value pretty-printed and coloured (DOM nodes, no HTML).
export function prettyElement(v) {
  const pre = document.createElement('pre');
  pre.className = 'json';
  prettyTokens(v).forEach((line, n) => {
    if (n) pre.append('\n');
    for (const [cls, t] of line) {
      if (!cls) { pre.append(t); continue; }
      const s = document.createElement('span');
      s.className = cls;
      s.textContent = t;
      pre.append(s);
    }
  });
  return pre;
}

// A line diff (longest common subsequence) of two texts:
// [{op: ' '|'-'|'+', line}].
export function lineDiff(a, b) {
  const x = a === '' ? [] : a.split('\n');
  const y = b === '' ? [] : b.split('\n');
  const n = x.length, m = y.length;
  if (n * m > 4e6) {  // too big for the table: everything changed
    return [...x.map((line) => ({ op: '-', line })), ...y.map((line) => ({ op: '+', line }))];
  }
  const t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ op: ' ', line: x[i] }); i++; j++; }
    else if (t[i + 1][j] >= t[i][j + 1]) out.push({ op: '-', line: x[i++] });
    else out.push({ op: '+', line: y[j++] });
  }
  while (i < n) out.push({ op: '-', line: x[i++] });
  while (j < m) out.push({ op: '+', line: y[j++] });
  return out;
}

// A <pre> showing the line diff of two values (undefined: absent).
export function diffElement(before, after) {
  const a = before === undefined ? '' : prettyText(before);
  const b = after === undefined ? '' : prettyText(after);
  const pre = document.createElement('pre');
  pre.className = 'json diff';
  const rows = lineDiff(a, b);
  if (rows.length && rows.every((r) => r.op === ' ')) {
    const s = document.createElement('span');
    s.className = 'd-same';
    s.textContent = '(no difference)';
    pre.append(s);
    return pre;
  }
  for (const r of rows) {
    const s = document.createElement('span');
    s.className = r.op === '+' ? 'd-add' : r.op === '-' ? 'd-del' : 'd-ctx';
    s.textContent = `${r.op} ${r.line}\n`;
    pre.append(s);
  }
  return pre;
}
