// The console's JSON module (ui/json.js) on its own, no browser: the strict
// parser keeps number text, refuses what chronoconf would refuse, and the
// line diff is minimal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { root } from './harness.mjs';

// ui/ has no package.json (it is served as is), so load the module from text.
const src = fs.readFileSync(path.join(root, 'ui/json.js'), 'utf8');
const { parseJson, minify, prettyText, lineDiff, JNum } =
    await import(`data:text/javascript,${encodeURIComponent(src)}`);

test('number text survives parse and minify', () => {
  for (const text of ['1.50', '12345678901234567890', '-0', '1e400', '[1.0,2.50e-3]',
                      '{"b":1,"a":{"x":[true,false,null,"\\u00e9\\n"]}}']) {
    assert.equal(minify(parseJson(text)), text);
  }
  assert.ok(parseJson('1.50') instanceof JNum);
  assert.equal(prettyText(parseJson('{"\\u0041":"\\u00e9"}')), '{\n  "\\u0041": "\\u00e9"\n}');
  assert.equal(minify(parseJson(' { "a" : [ 1 , 2 ] } ')), '{"a":[1,2]}');
});

test('invalid JSON is refused with a position', () => {
  for (const bad of ['', '{', '{"a":1,}', "{'a':1}", '01', '1.', '.5', '[1] x', 'tru', '"\\x"',
                     '"a\nb"', 'NaN', '{"a" 1}']) {
    assert.throws(() => parseJson(bad), /at position \d+/, bad);
  }
});

test('pretty text keeps member order and indents by two', () => {
  assert.equal(prettyText(parseJson('{"b":[1,{}],"a":"x"}')),
               '{\n  "b": [\n    1,\n    {}\n  ],\n  "a": "x"\n}');
  assert.equal(prettyText(parseJson('[]')), '[]');
});

test('line diff keeps common lines and marks the rest', () => {
  const d = lineDiff('a\nb\nc', 'a\nx\nc');
  assert.deepEqual(d.map((r) => r.op + r.line), [' a', '-b', '+x', ' c']);
  assert.deepEqual(lineDiff('', 'a').map((r) => r.op + r.line), ['+a']);
});
