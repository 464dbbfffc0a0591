'use strict';
// What users install: node-red-dev's offline checks, and the contents of `npm pack`.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

describe('package', function () {
  this.timeout(120000);

  it('passes node-red-dev validate (checks that run offline)', async () => {
    const { validate } = require('../../scripts/validate-offline');
    const log = console.log;
    console.log = () => undefined;
    let scorecard;
    try {
      scorecard = await validate();
    } finally {
      console.log = log;
    }
    const failed = Object.entries(scorecard).filter(([, v]) => v && v.test === false);
    assert.deepEqual(failed, []);
    assert.ok(scorecard.N02.test, 'every node has an example');
  });

  it('packs nodes, icons, locales and help, editor resources, examples, README and LICENSE, and no tests or simulator', () => {
    const [info] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    const files = info.files.map((f) => f.path);
    for (const type of ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue']) {
      assert.ok(files.includes(`nodes/${type}.js`), type);
      assert.ok(files.includes(`nodes/${type}.html`), type);
      assert.ok(files.includes(`nodes/locales/en-US/${type}.json`), type);
      assert.ok(files.includes(`nodes/locales/zh-CN/${type}.json`), type);
      assert.ok(files.includes(`nodes/locales/en-US/${type}.html`), `${type} help`);
      assert.ok(files.includes(`nodes/locales/zh-CN/${type}.html`), `${type} help`);
      assert.ok(files.includes(`dist/nodes/${type}.js`), type);
    }
    // The editor code and the provider catalog the build writes beside it.
    for (const f of ['resources/pbx-editor.js', 'resources/pbx-config-editor.js', 'resources/providers.js'])
      assert.ok(files.includes(f), f);
    for (const f of ['README.md', 'LICENSE', 'package.json', 'nodes/icons/pbx.svg', 'nodes/icons/pbx-event.svg'])
      assert.ok(files.includes(f), f);
    assert.ok(files.some((f) => f.startsWith('examples/')));
    assert.ok(
      !files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('dist/simulator/') || f.startsWith('scripts/')),
      files.join('\n'),
    );
  });
});
