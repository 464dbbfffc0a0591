'use strict';
// The committed vendor fixtures (test/fixtures/vendor) hold every table and example the tests use.
// They are read here as committed: tests never read the vendor documents themselves. Whether they
// still match the documents is the optional maintainer step `npm run fixtures:check`.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const FIXTURES_DIR = path.resolve(__dirname, '../fixtures/vendor');
const fixture = (name) => JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'));

describe('committed vendor fixtures', () => {
  it('are the files the tests read, each with the document it came from', () => {
    const names = fs.readdirSync(FIXTURES_DIR).sort();
    assert.deepEqual(names, [
      '3cx-creomate-webhooks.json',
      '3cx-webapi-requests.json',
      '3cx-webapi-webhook-scenarios.json',
      'cloud-callcenter-GetGroupExt.json',
      'cloud-callcenter-GetQueueSipStatus.json',
      'cloud-callcenter-call-state-callback.json',
      'voipnow-list-presence.json',
    ]);
    for (const name of names) assert.equal(typeof fixture(name).source, 'string', name);
  });

  it('hold every table the tests use, none of them empty', () => {
    const { scenarios } = fixture('3cx-webapi-webhook-scenarios.json');
    assert.deepEqual(
      scenarios.map((s) => s.scheme),
      [...Array(12).fill('post'), ...Array(4).fill('get')],
    );
    assert.ok(
      scenarios.every((s) => s.rows.length > 0 && s.rows.every((r) => r.payload !== '')),
      'every scenario row has a payload',
    );
    const { requests } = fixture('3cx-webapi-requests.json');
    assert.equal(requests.length, 30);
    assert.ok(
      requests.every((r) => r.method && r.response !== undefined),
      'every request has a method and an example response',
    );
    const creomate = fixture('3cx-creomate-webhooks.json').examples;
    assert.equal(creomate.length, 13);
    assert.ok(
      creomate.every((e) => e.source.startsWith('https://creomate.com/') && (e.payload || e.response)),
      'every Creomate example has its page and a payload or answer',
    );
    const presence = fixture('voipnow-list-presence.json');
    assert.equal(presence.errorCodes.length, 8);
    assert.equal(presence.requestPath, '/uapi/extensions/@me/0003*210/presence/');
    for (const doc of ['cloud-callcenter-call-state-callback', 'cloud-callcenter-GetGroupExt', 'cloud-callcenter-GetQueueSipStatus']) {
      assert.equal(typeof fixture(`${doc}.json`).example, 'object', doc);
    }
  });
});
