'use strict';
// Every message key the runtime (t(RED, '...') in src/nodes) and the editor (data-i18n, node._(),
// the t() of resources/*.js, the label of every operation in the provider registry) use exists,
// non-empty, in both en-US and zh-CN; both languages have the same keys, placeholders and help
// pages; status texts stay short. The parts the editor renders from the registry (provider labels,
// credential and setting labels, webhook hints, the support tables of the help) come in both.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { PROVIDERS } = require('../../dist/providers');
const { KNOWN_OPERATIONS } = require('../../dist/core/registry');

const ROOT = path.resolve(__dirname, '../..');
const LANGS = ['en-US', 'zh-CN'];
const TYPES = ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue', 'pbx-missed', 'pbx-stats'];
/** The action node types and their kind in the operation tables. */
const ACTION_KINDS = { 'pbx-call': 'call', 'pbx-status': 'status', 'pbx-queue': 'queue' };
const CJK = /[\u4e00-\u9fff]/;

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

/** [{ catalog, key, where }] used by the editor: the node templates and the shared code in resources/. */
function editorKeys() {
  const keys = [];
  for (const type of TYPES) {
    const file = `${type}.html`;
    const html = fs.readFileSync(path.join(ROOT, 'nodes', file), 'utf8');
    const add = (key) => keys.push({ catalog: type, key, where: file });
    for (const [, value] of html.matchAll(/data-i18n="([^"]*)"/g)) {
      for (const part of value.split(';')) add(part.replace(/^\[[^\]]*\]/, ''));
    }
    for (const arg of firstArgs(html, /\._\(/)) {
      if (/^'[^']*'$/.test(arg)) add(literals(arg)[0]);
      else problems.push(`${file}: ._(${arg}) is a key this test cannot check; use a literal or teach the test`);
    }
  }
  for (const file of fs.readdirSync(path.join(ROOT, 'resources')).filter((f) => f.startsWith('pbx-'))) {
    const source = fs.readFileSync(path.join(ROOT, 'resources', file), 'utf8');
    const add = (key, catalog = 'pbx-config') => keys.push({ catalog, key, where: `resources/${file}` });
    // t(key): a pbx-config message; the definitions of t() themselves pass `key` on.
    for (const arg of firstArgs(source, /(?<![\w.])t\(/)) {
      if (/^'[^']*'$/.test(arg)) add(literals(arg)[0]);
      else if (arg !== 'key') problems.push(`resources/${file}: t(${arg}) is not a literal key`);
    }
    for (const arg of firstArgs(source, /\._\(/)) {
      if (arg === 'full' && /var full = node\.type \+ '\.' \+ key;/.test(source)) {
        // ownText(key): a text of the action node's own catalog. Its keys: the operation list
        // (every operation of the registry, and fromMsg) and the reason an operation is missing.
        for (const call of firstArgs(source, /ownText\(/)) {
          if (call === "'operations.' + op") {
            for (const [type, kind] of Object.entries(ACTION_KINDS)) {
              for (const op of [...KNOWN_OPERATIONS[kind], 'fromMsg']) add(`${type}.operations.${op}`, type);
            }
          } else if (/^'[^']*'$/.test(call)) {
            for (const type of Object.keys(ACTION_KINDS)) add(`${type}.${literals(call)[0]}`, type);
          } else if (call !== 'key') {
            problems.push(`resources/${file}: ownText(${call}) is not a key this test can check`);
          }
        }
      } else if (!/^NS \+ key$|^'@callflow\/node-red-pbx\/pbx-config:' \+ key$/.test(arg)) {
        problems.push(`resources/${file}: ._(${arg}) is a key this test cannot check`);
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

  it('status texts are short (under 20 characters), on every node', () => {
    for (const lang of LANGS) {
      const catalog = catalogs[lang]['pbx-config'];
      // The config node's own, and each node's section (stats.status, missed.status).
      const sections = [['status', catalog.status]].concat(
        Object.keys(catalog)
          .filter((k) => catalog[k] && typeof catalog[k] === 'object' && catalog[k].status)
          .map((k) => [`${k}.status`, catalog[k].status]),
      );
      assert.ok(sections.length >= 3, 'the config, missed and stats status texts');
      for (const [prefix, status] of sections) {
        for (const key of flatKeys(status)) {
          const text = lookup(status, key).replace(/__\w+__/g, '9999');
          assert.ok(text.length < 20, `${lang} ${prefix}.${key}: "${text}"`);
        }
      }
    }
  });

  it('every node has help in both languages under nodes/locales, none inline', () => {
    for (const type of TYPES) {
      const own = fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
      assert.doesNotMatch(own, /data-help-name=/, `${type}.html has no inline help`);
      for (const lang of LANGS) {
        const help = fs.readFileSync(path.join(ROOT, 'nodes/locales', lang, `${type}.html`), 'utf8');
        assert.match(help, new RegExp(`^<script type="text/html" data-help-name="${type}">`), `${lang}/${type}.html`);
        if (lang === 'zh-CN') assert.match(help, /<p>[^<]*[\u4e00-\u9fff]/, `zh-CN/${type}.html starts with Chinese text`);
        // The parts the editor renders from the provider registry (resources/pbx-editor.js).
        if (ACTION_KINDS[type])
          assert.ok(help.includes(`<div class="pbx-support" data-node="${ACTION_KINDS[type]}"></div>`), `${lang}/${type}.html`);
        if (type === 'pbx-config') assert.ok(help.includes('<div class="pbx-providers"></div>'), `${lang}/${type}.html`);
      }
    }
  });

  it('the registry gives every provider text in both languages, the webhook hint with its URL', () => {
    const providers = Object.values(PROVIDERS);
    assert.ok(providers.length >= 3);
    for (const p of providers) {
      const texts = [
        ['label', p.label],
        ['webhookHint', p.webhookHint],
        ...p.credentials.map((c) => [`credential ${c.name}`, c.label]),
        ...(p.settings ?? []).flatMap((s) => [[`setting ${s.name}`, s.label], ...s.options.map((o) => [`option ${o.value}`, o.label])]),
      ];
      for (const [what, text] of texts) {
        for (const lang of LANGS) assert.ok(typeof text[lang] === 'string' && text[lang].trim(), `${p.id} ${what} ${lang}`);
      }
      for (const lang of LANGS) assert.match(p.webhookHint[lang], /\{url(\?[^}]*)?\}/, `${p.id} webhookHint ${lang}`);
      assert.match(p.webhookHint['zh-CN'], CJK, `${p.id}: the zh-CN webhook hint is Chinese`);
    }
  });
});
