#!/usr/bin/env node
'use strict';
// Compiles src/ to dist/, copies icons/ beside the node files (where Node-RED looks for them), and
// writes what the editor needs from the provider registry (src/providers/index.ts):
// resources/providers.js (the catalog the dialogs and help render from, git-ignored) and the
// credential and setting names Node-RED needs literally in pbx-config.html's registerType.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
const iconsOut = path.join(root, 'nodes', 'icons');
fs.mkdirSync(iconsOut, { recursive: true });
for (const file of fs.readdirSync(path.join(root, 'icons'))) {
  fs.copyFileSync(path.join(root, 'icons', file), path.join(iconsOut, file));
}

const { PROVIDERS } = require(path.join(root, 'dist', 'providers'));
const { catalogOf, credentialNames, settingNames } = require(path.join(root, 'dist', 'core', 'registry'));
fs.writeFileSync(
  path.join(root, 'resources', 'providers.js'),
  `// Written by scripts/build.js from the provider registry (src/providers): do not edit.\n` +
    `window.PbxProviders = ${JSON.stringify(catalogOf(PROVIDERS), null, 2)};\n`,
);
const configHtml = path.join(root, 'nodes', 'pbx-config.html');
rewriteBlock(
  configHtml,
  'provider-settings',
  settingNames(PROVIDERS).map((name) => `${name}: { value: '' },`),
);
rewriteBlock(
  configHtml,
  'provider-credentials',
  credentialNames(PROVIDERS).map((name) => `${name}: { type: 'password' },`),
);

/** Replaces the lines between `// <name>` and `// </name>` in `file`, indented like the markers. */
function rewriteBlock(file, name, lines) {
  const text = fs.readFileSync(file, 'utf8');
  const block = new RegExp(`(^([ \\t]*)// <${name}>[^\\n]*\\n)[\\s\\S]*?(^[ \\t]*// </${name}>)`, 'm');
  if (!block.test(text)) throw new Error(`${path.relative(root, file)}: no "// <${name}>" ... "// </${name}>" lines`);
  const next = text.replace(block, (_all, open, indent, close) => open + lines.map((l) => `${indent}${l}\n`).join('') + close);
  if (next !== text) {
    fs.writeFileSync(file, next);
    console.log(`${path.relative(root, file)}: ${name} updated from the provider registry`);
  }
}
