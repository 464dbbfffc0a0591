#!/usr/bin/env node
'use strict';
// Makes sure Debian's Chromium is installed for the editor test (test/browser): when
// /usr/bin/chromium is missing, runs `apt-get update` once and `apt-get install -y chromium`,
// non-interactively (CI runs as root). Never downloads a browser build of its own.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

function ensureBrowser({ log = (m) => console.log(m) } = {}) {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  if (process.platform !== 'linux') throw new Error(`${CHROMIUM} is missing; install Chromium to run the editor test`);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = (args) => {
    const [cmd, argv] = asRoot ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    execFileSync(cmd, argv, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 15 * 60 * 1000,
    });
  };
  log(`${CHROMIUM} is missing: installing Debian's chromium (apt-get)...`);
  apt(['update']);
  apt(['install', '-y', 'chromium']);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

module.exports = { ensureBrowser, CHROMIUM };

if (require.main === module) {
  try {
    console.log(ensureBrowser());
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
