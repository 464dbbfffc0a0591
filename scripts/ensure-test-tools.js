#!/usr/bin/env node
'use strict';
// Installs what the tests need from Debian before they start, one after the other: Chromium (the
// browser tests) and redis-server (the cluster tests). `npm test` runs two test files at a time,
// and two apt-get runs at once would fight over dpkg's lock. Each is skipped when already there;
// one that cannot be installed is reported here, and the tests that need it fail saying so.
const { ensureBrowser } = require('./ensure-browser');
const { ensureRedis } = require('./ensure-redis');

for (const ensure of [ensureBrowser, ensureRedis]) {
  try {
    ensure();
  } catch (err) {
    console.error(`ensure-test-tools: ${err.message}`);
  }
}
