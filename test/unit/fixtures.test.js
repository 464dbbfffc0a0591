'use strict';
// The committed vendor fixtures (test/fixtures/vendor) are what scripts/extract-fixtures.js makes of
// the vendor documents today: checked wherever the documents are present (../shared/providers/seeds,
// or VENDOR_SEEDS_DIR), skipped on a clone without them.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { SEEDS_DIR, FIXTURES_DIR, extractFixtures, serialize } = require('../../scripts/extract-fixtures');

describe('vendor fixtures match the vendor documents', () => {
  const present = fs.existsSync(SEEDS_DIR);
  const generated = present ? extractFixtures(SEEDS_DIR) : new Map();

  beforeEach(function () {
    if (present) return;
    // Mocha's skip() takes no reason: the title carries it.
    this.currentTest.title += ` (skipped: no vendor documents at ${SEEDS_DIR} to compare the committed fixtures with)`;
    this.skip();
  });

  it('has exactly the fixture files the documents give', () => {
    assert.deepEqual(fs.readdirSync(FIXTURES_DIR).sort(), [...generated.keys()].sort(), 'run `npm run fixtures`');
  });

  it('has each fixture as the documents give it, byte for byte', () => {
    for (const [name, content] of generated) {
      assert.equal(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'), serialize(content), `${name}: run \`npm run fixtures\``);
    }
  });

  it('finds every table the tests use, none of them empty', () => {
    const scenarios = generated.get('3cx-webapi-webhook-scenarios.json').scenarios;
    assert.deepEqual(
      scenarios.map((s) => s.scheme),
      [...Array(12).fill('post'), ...Array(4).fill('get')],
    );
    assert.ok(
      scenarios.every((s) => s.rows.length > 0 && s.rows.every((r) => r.payload !== '')),
      'every scenario row has a payload',
    );
    const requests = generated.get('3cx-webapi-requests.json').requests;
    assert.equal(requests.length, 30);
    assert.ok(
      requests.every((r) => r.method && r.response !== undefined),
      'every request has a method and an example response',
    );
    const presence = generated.get('voipnow-list-presence.json');
    assert.equal(presence.errorCodes.length, 8);
    assert.equal(presence.requestPath, '/uapi/extensions/@me/0003*210/presence/');
    for (const doc of ['cloud-callcenter-call-state-callback', 'cloud-callcenter-GetGroupExt', 'cloud-callcenter-GetQueueSipStatus']) {
      assert.equal(typeof generated.get(`${doc}.json`).example, 'object', doc);
    }
  });
});
