'use strict';
// Every key the runtime asks for (t(RED, '...') in src/nodes) resolves, through Node-RED's own
// i18n with the package's catalogs loaded as Node-RED loads them, to the text of that key in
// en-US and in zh-CN (not to the key, and not to English merged into the Chinese catalog).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { inLanguage, translate, catalogsLoaded } = require('../helpers/red');
const { t } = require('../../dist/nodes/i18n');

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = path.join(ROOT, 'src/nodes');

/** { key, file } of every t(RED, '<key>' ...) call; fails on a call whose key is not a literal. */
function runtimeKeys() {
  const keys = [];
  for (const file of fs.readdirSync(SOURCES).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(SOURCES, file), 'utf8');
    const calls = source.match(/\bt\(RED,/g) ?? [];
    const literal = [...source.matchAll(/\bt\(RED, '([^']+)'/g)].map((m) => m[1]);
    assert.equal(literal.length, calls.length, `${file}: every t(RED, ...) has a literal key`);
    for (const key of literal) keys.push({ key, file });
  }
  return keys;
}

function catalog(lang) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes/locales', lang, 'pbx-config.json'), 'utf8'));
}

const lookup = (obj, key) => key.split('.').reduce((o, k) => (o && typeof o === 'object' && Object.hasOwn(o, k) ? o[k] : undefined), obj);

describe('runtime message keys in the real catalogs', () => {
  const keys = runtimeKeys();
  before(() => catalogsLoaded);

  it('finds the runtime keys', () => {
    assert.ok(keys.length >= 25, `${keys.length} keys`);
    for (const key of ['status.config.path-in-use', 'status.error.timeout', 'status.waiting', 'errors.no-config']) {
      assert.ok(
        keys.some((k) => k.key === key),
        key,
      );
    }
  });

  for (const lang of ['en-US', 'zh-CN']) {
    it(`${lang}: each resolves to its own ${lang} text through Node-RED's i18n`, async () => {
      const own = catalog(lang);
      await inLanguage(lang, async () => {
        const RED = { _: translate };
        const wrong = [];
        for (const { key, file } of keys) {
          const expected = lookup(own, key);
          const substitutions = Object.fromEntries((String(expected).match(/__\w+__/g) ?? []).map((p) => [p.slice(2, -2), 7]));
          const got = t(RED, key, substitutions);
          const want = typeof expected === 'string' ? expected.replace(/__\w+__/g, '7') : undefined;
          if (!want || got !== want)
            wrong.push(`${file}: ${key} → ${JSON.stringify(got)}, ${lang} catalog has ${JSON.stringify(expected)}`);
        }
        assert.deepEqual(wrong, []);
      });
    });
  }
});
