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
  it('are the six files the tests read, each with the document it came from', () => {
    const names = fs.readdirSync(FIXTURES_DIR).sort();
    assert.deepEqual(names, [
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
    const presence = fixture('voipnow-list-presence.json');
    assert.equal(presence.errorCodes.length, 8);
    assert.equal(presence.requestPath, '/uapi/extensions/@me/0003*210/presence/');
    for (const doc of ['cloud-callcenter-call-state-callback', 'cloud-callcenter-GetGroupExt', 'cloud-callcenter-GetQueueSipStatus']) {
      assert.equal(typeof fixture(`${doc}.json`).example, 'object', doc);
    }
  });

  it('transcribed from vendor pages (test/fixtures/vendor-pages): every case names the pages it comes from', () => {
    const dir = path.resolve(__dirname, '../fixtures/vendor-pages');
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    assert.deepEqual(files, ['3cx-creomate-webhooks.json', 'cloud-callcenter-cdr-callbacks.json', 'voipnow-call-events.json']);
    for (const file of files) {
      const doc = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      const cases = doc.examples ?? doc.cases;
      assert.ok(Array.isArray(cases) && cases.length > 0, file);
      for (const c of cases) {
        // A case names its page, or documents listed once at the top (`documents`: name → URL).
        const pages = [c.source, ...(c.sources ?? []).map((name) => doc.documents?.[name])].filter((p) => p !== undefined);
        assert.ok(pages.length > 0 && pages.every((u) => /^https:\/\//.test(u)), `${file}: ${c.label ?? c.name}`);
      }
    }
  });
});
