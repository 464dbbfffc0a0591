'use strict';
// package.json points only at files the package has.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('package.json', () => {
  it('has no `main`: Node-RED loads the files under `node-red.nodes`, and the package has no API to require', () => {
    assert.equal(pkg.main, undefined);
    assert.equal(pkg.exports, undefined);
  });

  it('lists node files that exist', () => {
    const nodes = Object.entries(pkg['node-red'].nodes);
    assert.equal(nodes.length, 7);
    for (const [type, file] of nodes) {
      assert.equal(file, `nodes/${type}.js`);
      assert.ok(fs.existsSync(path.join(ROOT, file)), file);
      assert.ok(fs.existsSync(path.join(ROOT, `nodes/${type}.html`)), `${type}.html`);
    }
  });
});
