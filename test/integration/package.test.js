'use strict';
// What users install: node-red-dev's offline checks, and the contents of `npm pack`.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
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
    // D03 (every dependency at its latest major): @redis/client stays on 5.x on purpose, since 6.x
    // needs Node.js 20 and the package supports 18.5 (SPEC section 2). Nothing else may fail.
    const failed = Object.entries(scorecard).filter(([k, v]) => v && v.test === false && k !== 'D03');
    assert.deepEqual(failed, []);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['@redis/client', 'axios']);
    assert.match(manifest.dependencies['@redis/client'], /^\^5\./);
    assert.ok(scorecard.N02.test, 'every node has an example');
  });

  it('packs nodes, icons, locales and help, editor resources, examples, the simulator command, README and LICENSE, and no tests', () => {
    const [info] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    const files = info.files.map((f) => f.path);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const type of ['pbx-config', 'pbx-event', 'pbx-call', 'pbx-status', 'pbx-queue', 'pbx-missed', 'pbx-stats']) {
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
    assert.ok(files.includes('nodes/icons/pbx-stats.svg'), 'nodes/icons/pbx-stats.svg');
    assert.ok(files.some((f) => f.startsWith('examples/')));
    // The simulator ships as the `pbx-simulator` command, with every module it loads.
    assert.deepEqual(manifest.bin, { 'pbx-simulator': 'bin/pbx-simulator.js' });
    assert.ok(files.includes('bin/pbx-simulator.js'), 'bin/pbx-simulator.js');
    assert.match(fs.readFileSync(path.join(ROOT, 'bin/pbx-simulator.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const simulatorModules = fs.readdirSync(path.join(ROOT, 'src/simulator')).map((f) => `dist/simulator/${f.replace(/\.ts$/, '.js')}`);
    assert.ok(simulatorModules.includes('dist/simulator/cli.js'));
    assert.deepEqual(
      simulatorModules.filter((f) => !files.includes(f)),
      [],
      'every simulator module is packed',
    );
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('scripts/')), files.join('\n'));
  });
});
