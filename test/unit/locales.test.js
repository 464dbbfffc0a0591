'use strict';
// Every message key the runtime (t(RED, '...') in src/nodes) and the editor (data-i18n, node._(),
// the pbx-config editor's t()) use exists, non-empty, in both en-US and zh-CN; both languages have
// the same keys, placeholders and help pages; status texts stay short.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const LANGS = ['en-US', 'zh-CN'];
const TYPES = ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue'];
const PROVIDERS = ['3cx-webapi', 'voipnow', 'cloud-callcenter'];

const catalogs = Object.fromEntries(
  LANGS.map((lang) => [
    lang,
    Object.fromEntries(
      TYPES.map((type) => [type, JSON.parse(fs.readFileSync(path.join(ROOT, 'nodes/locales', lang, `${type}.json`), 'utf8'))]),
    ),
  ]),
);

function lookup(catalog, key) {
  return key.split('.').reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), catalog);
}

function flatKeys(obj, prefix = '') {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? flatKeys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

/** String literals in a JS/TS expression. */
function literals(expr) {
  return [...expr.matchAll(/'([^'\\]*)'|"([^"\\]*)"/g)].map((m) => m[1] ?? m[2]);
}

/** The first argument of every call that `opener` (a regex ending at the open parenthesis) starts. */
function firstArgs(source, opener) {
  const out = [];
  for (const m of source.matchAll(new RegExp(opener.source, 'g'))) {
    let depth = 0;
    let j = m.index + m[0].length;
    const start = j;
    for (; j < source.length; j++) {
      const c = source[j];
      if (c === '(' || c === '{' || c === '[') depth++;
      else if (c === ')' || c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
    }
    out.push(source.slice(start, j).trim());
  }
  return out;
}

/** [{ catalog, key, where }] used by the runtime. */
function runtimeKeys() {
  const dir = path.join(ROOT, 'src/nodes');
  const keys = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const arg of firstArgs(source, /\bt\(RED,/)) {
      const found = literals(arg);
      if (!found.length) problems.push(`${file}: t(RED, ${arg}) has no literal key this test can check`);
      for (const key of found) keys.push({ catalog: 'pbx-config', key, where: file });
    }
  }
  return keys;
}

/** [{ catalog, key, where }] used by the editor templates. */
function editorKeys() {
  const keys = [];
  for (const type of TYPES) {
    const file = `${type}.html`;
    const html = fs.readFileSync(path.join(ROOT, 'nodes', file), 'utf8');
    const add = (key, catalog = type) => keys.push({ catalog, key, where: file });
    for (const [, value] of html.matchAll(/data-i18n="([^"]*)"/g)) {
      for (const part of value.split(';')) add(part.replace(/^\[[^\]]*\]/, ''));
    }
    for (const arg of firstArgs(html, /\._\(/)) {
      if (/^'[^']*'$/.test(arg)) add(literals(arg)[0]);
      else if (arg === "node.type + '.operations.' + op") {
        // setupActionNode labels (in pbx-config.html, for the action node types).
        for (const t of ['pbx-call', 'pbx-status', 'pbx-queue']) {
          const own = fs.readFileSync(path.join(ROOT, 'nodes', `${t}.html`), 'utf8');
          const [, list] = /var (?:OPERATIONS|QUERIES) = \[([^\]]*)\]/.exec(own);
          for (const op of [...literals(list), 'fromMsg']) add(`${t}.operations.${op}`, t);
        }
      } else if (new RegExp(`^'${type}\\.operations\\.' \\+ (op|q)$`).test(arg)) {
        // The node's fallback operation list, when pbx-config's shared editor code is missing.
        const [, list] = /var (?:OPERATIONS|QUERIES) = \[([^\]]*)\]/.exec(html);
        for (const op of literals(list)) add(`${type}.operations.${op}`);
      } else if (arg === 'NS + key' && type === 'pbx-config') {
        // The pbx-config editor's own t(key): its callers are checked below.
      } else if (arg === "'pbx-config.placeholder.baseUrl-' + provider") {
        for (const p of PROVIDERS) add(`pbx-config.placeholder.baseUrl-${p}`);
      } else {
        problems.push(`${file}: ._(${arg}) is a key this test cannot check; use a literal or teach the test`);
      }
    }
    if (type === 'pbx-config') {
      for (const arg of firstArgs(html, /(?<![\w.])t\((?!key)/)) {
        if (/^'[^']*'$/.test(arg)) add(literals(arg)[0]);
        else problems.push(`pbx-config.html: t(${arg}) is not a literal key`);
      }
    }
  }
  return keys;
}

/** Calls whose keys the scan cannot resolve: reported by the first test. */
const problems = [];

describe('locales', () => {
  const runtime = runtimeKeys();
  const editor = editorKeys();

  it('finds the keys it checks, all of them literal', () => {
    assert.deepEqual(problems, []);
    assert.ok(runtime.length >= 10, `runtime keys: ${runtime.length}`);
    assert.ok(editor.length >= 80, `editor keys: ${editor.length}`);
    assert.ok(runtime.some((k) => k.key === 'status.auth-failed'));
  });

  for (const lang of LANGS) {
    it(`${lang} has every key the runtime uses (t(RED, ...) in src/nodes)`, () => {
      const missing = runtime.filter(
        ({ catalog, key }) => typeof lookup(catalogs[lang][catalog], key) !== 'string' || !lookup(catalogs[lang][catalog], key),
      );
      assert.deepEqual(missing, []);
    });

    it(`${lang} has every key the editor uses (data-i18n, node._(), t())`, () => {
      const missing = editor.filter(
        ({ catalog, key }) => typeof lookup(catalogs[lang][catalog], key) !== 'string' || !lookup(catalogs[lang][catalog], key),
      );
      assert.deepEqual(missing, []);
    });
  }

  it('en-US and zh-CN have the same keys, with the same __placeholders__', () => {
    for (const type of TYPES) {
      const en = flatKeys(catalogs['en-US'][type]).sort();
      const zh = flatKeys(catalogs['zh-CN'][type]).sort();
      assert.deepEqual(zh, en, type);
      for (const key of en) {
        const vars = (lang) => (lookup(catalogs[lang][type], key).match(/__\w+__/g) || []).sort();
        assert.deepEqual(vars('zh-CN'), vars('en-US'), `${type}: ${key}`);
      }
    }
  });

  it('status texts are short (under 20 characters)', () => {
    for (const lang of LANGS) {
      for (const key of flatKeys(catalogs[lang]['pbx-config'].status)) {
        const text = lookup(catalogs[lang]['pbx-config'].status, key).replace(/__\w+__/g, '9999');
        assert.ok(text.length < 20, `${lang} status.${key}: "${text}"`);
      }
    }
  });

  it('every node has help in both languages', () => {
    for (const type of TYPES) {
      const own = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
      assert.match(own, new RegExp(`data-help-name="${type}"`), `${type}.html (en-US help)`);
      const zh = fs.readFileSync(path.join(ROOT, 'nodes/locales/zh-CN', `${type}.html`), 'utf8');
      assert.match(zh, new RegExp(`data-help-name="${type}"`), `zh-CN/${type}.html`);
      assert.match(zh, /<p>[^<]*[\u4e00-\u9fff]/, `zh-CN/${type}.html starts with Chinese text`);
    }
  });
});
