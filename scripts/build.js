#!/usr/bin/env node
'use strict';
// Compiles src/ to dist/ and copies icons/ beside the node files, where Node-RED looks for them.
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
