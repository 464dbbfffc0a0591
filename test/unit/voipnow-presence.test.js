'use strict';
// VoipNow presence and error bodies, driven by the vendor's "List Presence" document: its example
// response, its request path and its table of 400 codes (test/fixtures/vendor, extracted from it).
const assert = require('node:assert/strict');
const { voipnowListPresence } = require('../helpers/vendor-docs');
const { presenceOf, entriesOf, readAllPages, PAGE_SIZE } = require('../../dist/providers/voipnow/presence');
const { uapiPath, SELF } = require('../../dist/providers/voipnow/api');
const { vendorError } = require('../../dist/providers/voipnow/errors');
const { phoneCallOf, phoneCallsOf, callInProgress, idsOf } = require('../../dist/providers/voipnow/calls');

const DOC = voipnowListPresence();

describe('voipnow presence, from the List Presence document', () => {
  it('maps the example response to normalized states', () => {
    const body = DOC.response;
    assert.equal(body.totalResults, 2, 'the document example as published');
    const entries = entriesOf(body);
    assert.equal(entries.length, 1);
    assert.deepEqual(entries.map(presenceOf), [
      {
        extension: '0003*210',
        // status 0 (unknown) with registration "-1" (not registered, given as a string): offline.
        state: 'offline',
        registered: false,
        registration: 'not-registered',
        devices: [{ agent: '3CXPhone 5.0.14439.0', registration: 'not-registered', expire: '2011-02-10T15:10:55Z' }],
      },
    ]);
  });

  it('requests the path the example shows, with the extension as one segment', () => {
    assert.equal(`${uapiPath('extensions', '0003*210', 'presence')}/`, DOC.requestPath);
    assert.equal(uapiPath('extensions', SELF, 'presence'), '/uapi/extensions/@me/@self/presence');
    assert.equal(uapiPath('phoneCalls', '12/34', 'x y'), '/uapi/phoneCalls/@me/12%2F34/x%20y', 'segments are encoded');
  });

  // Every documented status × registration value (provider notes), as numbers and as strings.
  const CASES = [
    // status, registration, state, registered, registration word
    [1, 1, 'idle', true, 'registered'],
    [2, 1, 'ringing', true, 'registered'],
    [3, 1, 'busy', true, 'registered'],
    [0, 1, 'unknown', true, 'registered'],
    [1, 2, 'idle', undefined, 'not-needed'],
    [3, 2, 'busy', undefined, 'not-needed'],
    [0, -1, 'offline', false, 'not-registered'],
    [1, -1, 'offline', false, 'not-registered'],
    [3, -1, 'busy', false, 'not-registered'],
    [2, -2, 'ringing', false, 'expired'],
    [1, -2, 'offline', false, 'expired'],
    [1, 0, 'idle', undefined, 'unknown'],
    [0, 0, 'unknown', undefined, 'unknown'],
    [7, 1, 'unknown', true, 'registered'],
  ];
  for (const [status, reg, state, registered, word] of CASES) {
    for (const form of ['number', 'string']) {
      it(`status ${status} + registration ${reg} (${form}s) → ${state}, registered ${registered}`, () => {
        const v = (x) => (form === 'number' ? x : String(x));
        const out = presenceOf({
          extension: '0003*201',
          status: v(status),
          registration: [{ agent: 'A', registration: v(reg), expire: '' }],
        });
        assert.equal(out.extension, '0003*201');
        assert.equal(out.state, state);
        assert.equal(out.registered, registered);
        assert.equal('registered' in out, registered !== undefined);
        assert.equal(out.registration, word);
      });
    }
  }

  it('takes the best registration of several devices, and none as unknown', () => {
    const two = presenceOf({ extension: '1', status: 1, registration: [{ registration: -2 }, { registration: 1 }] });
    assert.equal(two.state, 'idle');
    assert.equal(two.registered, true);
    assert.equal(two.devices.length, 2);
    const none = presenceOf({ extension: '2', status: 1 });
    assert.deepEqual(none, { extension: '2', state: 'idle', registration: 'unknown' });
  });
});

describe('voipnow presence paging', () => {
  const ext = (i) => ({ extension: `0003*${200 + i}`, status: 1, registration: [{ registration: 1 }] });
  function server(total, cap, opts = {}) {
    const calls = [];
    const fetchPage = async (startIndex, count) => {
      calls.push({ startIndex, count });
      const items = Array.from({ length: total }, (_, i) => ext(i)).slice(startIndex, startIndex + Math.min(count, cap));
      if (!items.length) return { status: 204, data: '' };
      const body = { startIndex, itemsPerPage: items.length, entry: items };
      if (!opts.noTotal) body.totalResults = total;
      return { status: 200, data: body };
    };
    return { calls, fetchPage };
  }

  it('reads every page, advancing by what the server served', async () => {
    const s = server(45, 20);
    const out = await readAllPages(s.fetchPage);
    assert.equal(out.entries.length, 45);
    assert.equal(out.truncated, false);
    assert.deepEqual(
      s.calls.map((c) => c.startIndex),
      [0, 20, 40],
    );
    assert.ok(s.calls.every((c) => c.count === PAGE_SIZE));
  });

  it('stops on 204 and on a short page when no totalResults is given', async () => {
    assert.deepEqual((await readAllPages(server(0, 20).fetchPage)).entries, []);
    const s = server(45, 5000, { noTotal: true });
    assert.equal((await readAllPages(s.fetchPage)).entries.length, 45);
    assert.equal(s.calls.length, 1);
  });

  it('is bounded: a server that always claims more stops at startIndex 5000', async () => {
    let n = 0;
    const out = await readAllPages(async (startIndex) => {
      n++;
      return { status: 200, data: { totalResults: 1e9, entry: Array.from({ length: 1000 }, (_, i) => ext(startIndex + i)) } };
    });
    assert.equal(out.truncated, true);
    assert.equal(n, 5);
  });
});

describe('voipnow error bodies, from the documented codes', () => {
  const codes = DOC.errorCodes;

  it('reads the eight documented 400 codes', () => {
    assert.deepEqual(
      codes.map((c) => c.code),
      [
        'extension_invalid',
        'fields_invalid',
        'count_invalid',
        'filterby_invalid',
        'filterop_invalid',
        'filtervalue_invalid',
        'sortorder_invalid',
        'startindex_invalid',
      ],
    );
  });

  for (const { code, description } of DOC.errorCodes) {
    // An unknown extension is not_found on every provider; the other codes name bad parameters.
    const expected = code === 'extension_invalid' ? 'not_found' : 'invalid_input';
    it(`400 ${code} → ${expected} with the vendor code and message`, () => {
      const data = { error: { code, message: description } };
      const err = vendorError('extensions', { status: 400, data, text: JSON.stringify(data) });
      assert.equal(err.code, expected);
      assert.equal(err.providerCode, code);
      assert.equal(err.status, 400);
      assert.equal(err.message, `extensions: VoipNow answered HTTP 400 ${code}: ${description}`);
    });
  }

  it('maps statuses: 401/403 auth_failed, 404 not_found, 5xx provider_error', () => {
    const codeOf = (status) => vendorError('extensions', { status, data: '', text: '' }).code;
    assert.deepEqual([400, 401, 403, 404, 409, 500, 503].map(codeOf), [
      'invalid_input',
      'auth_failed',
      'auth_failed',
      'not_found',
      'provider_error',
      'provider_error',
      'provider_error',
    ]);
    const e = vendorError('drop', { status: 500, data: '<html>oops</html>', text: '<html>oops</html>' });
    assert.equal(e.code, 'provider_error');
    assert.equal(e.providerCode, undefined);
    assert.equal(e.message, 'drop: VoipNow answered HTTP 500: <html>oops</html>');
    const oauth = vendorError('token', { status: 401, data: { error: 'invalid_client' }, text: '' });
    assert.equal(oauth.providerCode, 'invalid_client');
    assert.equal(oauth.code, 'auth_failed');
  });
});

describe('voipnow phone calls and token lifetime', () => {
  it('flattens a PhoneCall with its words for status and disposition', () => {
    const raw = {
      id: 'c1',
      extension: '0003*210',
      phoneCallView: [
        { id: 'v1', source: ['0003*210'], destination: ['0555', '0666'], flow: 'out', status: 5, answered: true, disposition: '0' },
      ],
    };
    assert.deepEqual(phoneCallOf(raw), {
      callId: 'c1',
      extension: '0003*210',
      source: '0003*210',
      destination: '0555,0666',
      direction: 'outbound',
      status: 'on-call',
      answered: true,
      disposition: 'answered',
    });
    const statuses = [0, 1, 2, 3, 4, 5].map((status) => phoneCallOf({ id: 'x', phoneCallView: [{ status }] }).status);
    assert.deepEqual(statuses, ['unknown', 'off-hook', 'trying', 'ringing', 'remote-ringing', 'on-call']);
    const dispositions = [0, 1, 2, 3, 4, 5].map((disposition) => phoneCallOf({ id: 'x', phoneCallView: [{ disposition }] }).disposition);
    assert.deepEqual(dispositions, ['answered', 'busy', 'failed', 'no-answer', 'unknown', 'not-allowed']);
  });

  it('reads lists in each shape and picks the call in conversation', () => {
    const ringing = { id: 'r', phoneCallView: [{ status: 3 }] };
    const talking = { id: 't', phoneCallView: [{ status: 5, answered: 1 }] };
    assert.equal(callInProgress(phoneCallsOf({ entry: [ringing, talking] })).callId, 't');
    assert.equal(callInProgress(phoneCallsOf([ringing])), undefined);
    assert.equal(phoneCallsOf(talking)[0].callId, 't');
    assert.deepEqual(idsOf([{ id: 'a' }, 'b', 3]), ['a', 'b', '3']);
    assert.deepEqual(idsOf({ entry: [{ id: 'a' }] }), ['a']);
    assert.deepEqual(idsOf({ id: 'z' }), ['z']);
    assert.deepEqual(idsOf(''), []);
  });
});
