'use strict';
// Debian's Chromium for the browser tests, as the machine allows it: headless, no sandbox (root),
// none of the background connections a closed network refuses, a fresh profile each time.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { ensureBrowser } = require('../../scripts/ensure-browser');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A browser context in a new profile (installing Chromium with apt-get when missing) and its first
 * page, which records uncaught page errors in `pageErrors`. `close()` ends both and removes the
 * profile.
 */
async function launchChromium({ locale = 'en-US', viewport = { width: 1400, height: 900 } } = {}) {
  const executablePath = ensureBrowser();
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale,
    timeout: 60000,
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

module.exports = { CHROMIUM_ARGS, launchChromium };
