'use strict';
// Tolerant JSON (src/core/tolerant-json.ts): the members without commas between them that the
// cloud call center's published CDR examples show are repaired; nothing else is, valid JSON is
// never changed, and hostile bodies stay linear.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { repairJson, insertMissingCommas } = require('../../dist/core/tolerant-json');
const { parseWebhookBody, WEBHOOK_BODY_LIMIT } = require('../../dist/core/webhook-router');

const HANG_GUARD_MS = 1000;
const timed = (fn) => {
  const start = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
};

describe('tolerant JSON: members without commas', () => {
  it('repairs members on separate lines with no comma between them, of every value kind', () => {
    const text = '{\n "s": "7003"\n "n": 1\n "t": true\n "z": null\n "o": {"a": 1}\n "l": [1, 2]\n "last": "x"\n}';
    assert.throws(() => JSON.parse(text));
    assert.deepEqual(repairJson(text), { s: '7003', n: 1, t: true, z: null, o: { a: 1 }, l: [1, 2], last: 'x' });
  });

  it('repairs CRLF lines and nested objects, and adds nothing else', () => {
    const text = '{\r\n"a": {\r\n"b": 1\r\n"c": 2\r\n}\r\n"d": "e"\r\n}';
    assert.deepEqual(repairJson(text), { a: { b: 1, c: 2 }, d: 'e' });
    assert.equal(insertMissingCommas(text), '{\r\n"a": {\r\n"b": 1\r\n,"c": 2\r\n}\r\n,"d": "e"\r\n}');
  });

  for (const [what, text] of [
    ['two members on one line', '{"a": 1 "b": 2}'],
    ['array items on separate lines', '[\n"a"\n"b"\n]'],
    ['a value followed by a string that is no key', '{"a": "x"\n"b"\n}'],
    ['a key without a value before the next key', '{"a":\n"b": 1}'],
    ['a comma already there and one missing on the same line', '{"a": 1,\n"b": 2 "c": 3}'],
    ['an unterminated string', '{"a": 1\n"b'],
    ['a key whose value is missing entirely', '{"a"\n"b": 1}'],
  ]) {
    it(`leaves ${what} invalid`, () => {
      assert.equal(repairJson(text), undefined);
      assert.deepEqual(parseWebhookBody(text, 'application/json'), { ok: false });
    });
  }

  it('never adds a comma inside a string, even one that looks like members', () => {
    const text = '{"note": "a\\n\\"b\\": 1"\n"c": 2}';
    assert.deepEqual(repairJson(text), { note: 'a\n"b": 1', c: 2 });
    const multiline = '{"a": "x\n"b": 1}'; // a line break inside a string is no JSON at all
    assert.equal(repairJson(multiline), undefined);
  });

  it('still repairs the 3CX half-quoted value, alone and next to missing commas', () => {
    assert.deepEqual(repairJson('{"Callerid": 05551239988", "D":"00:05"}'), { Callerid: '05551239988', D: '00:05' });
    assert.deepEqual(repairJson('{\n"Callerid": 05551239988"\n"D": "00:05"\n}'), { Callerid: '05551239988', D: '00:05' });
  });

  it('prototype names stay plain keys: nothing is polluted', () => {
    const parsed = repairJson('{\n"__proto__": {"polluted": 1}\n"constructor": "x"\n"toString": 2\n}');
    assert.deepEqual(Object.keys(parsed), ['__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal({}.polluted, undefined);
    assert.equal(parsed.toString, 2);
  });

  const fill = (prefix, unit, suffix = '') =>
    prefix + unit.repeat(Math.floor((WEBHOOK_BODY_LIMIT - prefix.length - suffix.length) / unit.length)) + suffix;
  for (const [name, body, expected] of [
    ['64 KiB of members without commas', fill('{"a0": 0', '\n"k": 1', '\n}'), 'repaired'],
    ['64 KiB of values without keys', fill('{"a": 1', '\n"v"'), 'rejected'],
    ['64 KiB of keys after values, never closed', fill('{"a": 1', '\n"k":'), 'rejected'],
    ['64 KiB of strings, one line break each', fill('["x"', '\n"x"', ']'), 'rejected'],
    ['a value followed by 64 KiB of line breaks', fill('{"a": 1', '\n', '"b": 2}'), 'repaired'],
    ['64 KiB of nested objects without commas', fill('', '{"a": 1\n"b":'), 'rejected'],
  ]) {
    it(`hostile: ${name} is ${expected} in linear time`, () => {
      const { value, ms } = timed(() => parseWebhookBody(body, 'application/json'));
      assert.equal(value.ok, expected === 'repaired');
      assert.ok(ms < HANG_GUARD_MS, `${ms.toFixed(0)} ms`);
    });
  }

  it('deep nesting is repaired only as deep as webhooks may nest', () => {
    const nest = (depth) => '{"a": 1\n"b": '.repeat(depth) + '0' + '}'.repeat(depth);
    const shallow = parseWebhookBody(nest(5), 'application/json');
    assert.equal(shallow.ok, true);
    assert.deepEqual(shallow.body.b.b.b.b, { a: 1, b: 0 });
    assert.deepEqual(parseWebhookBody(nest(5000), 'application/json'), { ok: false });
  });

  it('property: valid JSON, compact or indented, is never changed', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        assert.equal(insertMissingCommas(text), text);
        assert.deepEqual(repairJson(text), JSON.parse(text));
      }),
      { seed: 20261129, numRuns: 300 },
    );
  });

  it('property: indented objects without the commas before their keys come back the same', () => {
    const keyLine = /,(\r?\n[ \t]*"(?:[^"\\]|\\.)*":)/g;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 2 }), (value) => {
        const text = JSON.stringify(value, null, 2).replace(keyLine, '$1');
        assert.deepEqual(repairJson(text), JSON.parse(JSON.stringify(value)));
      }),
      { seed: 20261130, numRuns: 300 },
    );
  });
});
