'use strict';
// Names of Object.prototype members (`constructor`, `__proto__`, `toString`, ...) wherever input
// meets a lookup table: webhook fields, provider answers, action parameters, operation names and
// the simulator's own tables. Each must be an unknown key (the table's documented fallback), never
// an inherited function or object leaking into an event, an error code or a request.
const assert = require('node:assert/strict');
const { failure } = require('../helpers/expect');
const http = require('node:http');
const { lookupTable, ownProperty } = require('../../dist/core/lookup');
const { parseWebhookBody, parseForm } = require('../../dist/core/webhook-router');
const { CallTracker } = require('../../dist/core/call-tracker');
const { Account } = require('../../dist/core/account');
const { CALL_EVENT_NAMES } = require('../../dist/core/types');
const { providerOf } = require('../../dist/providers');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { normalizeVoipNowWebhook } = require('../../dist/providers/voipnow/webhook');
const { normalizeCallCenterWebhook } = require('../../dist/providers/cloud-callcenter/webhook');
const { presenceOf } = require('../../dist/providers/voipnow/presence');
const { phoneCallOf } = require('../../dist/providers/voipnow/calls');
const { stateOf, extensionStatesOf, queueAgentOf } = require('../../dist/providers/cloud-callcenter/results');
const { resolveParams, MAX_PARAM_LENGTH } = require('../../dist/nodes/action-node');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseFormBody } = require('../../dist/simulator/cloud-callcenter');

/** Every name Object.prototype answers to, in the letter cases input may carry them. */
const PROTO_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
  'CONSTRUCTOR',
];

const AT = new Date('2026-03-07T11:49:03.000Z');
const quiet = { debug() {}, warn() {} };

const STRING_FIELDS = ['provider', 'providerEvent', 'callId', 'legId', 'extension', 'from', 'to', 'did', 'hangupCause', 'reference'];
const ENUMS = {
  event: CALL_EVENT_NAMES,
  direction: ['inbound', 'outbound', 'internal', 'unknown'],
  extensionType: ['extension', 'queue', 'ivr', 'ringgroup', 'other'],
  outcome: ['answered', 'missed', 'busy', 'failed', 'unknown'],
  transfer: ['blind', 'attended'],
};

/** An event holds strings where strings are declared, one of its words where words are, and clones. */
function assertWellFormed(event) {
  for (const [field, words] of Object.entries(ENUMS)) {
    if (field in event) assert.ok(words.includes(event[field]), `${field}: ${String(event[field])}`);
  }
  for (const field of STRING_FIELDS) if (field in event) assert.equal(typeof event[field], 'string', field);
  assert.equal(typeof event.timestamp, 'string');
  assert.doesNotThrow(() => structuredClone(event));
}

/** The three ways a webhook arrives, built the way the router builds them. */
function inputs(fields) {
  const form = new URLSearchParams(fields).toString();
  const json = parseWebhookBody(JSON.stringify(fields), 'application/json');
  const posted = parseWebhookBody(form, 'application/x-www-form-urlencoded');
  return {
    json: { method: 'POST', query: Object.create(null), rawQuery: '', body: json.body, receivedAt: AT },
    query: { method: 'GET', query: parseForm(form), rawQuery: form, body: undefined, receivedAt: AT },
    form: { method: 'POST', query: Object.create(null), rawQuery: '', body: posted.body, receivedAt: AT },
  };
}

describe('core lookup tables', () => {
  const TABLE = lookupTable({ ok: 'answered', missed: 'missed' });

  it('finds own keys and nothing for the names of Object.prototype members', () => {
    assert.equal(TABLE.get('ok'), 'answered');
    assert.equal(TABLE.size, 2);
    for (const name of PROTO_NAMES) assert.equal(TABLE.get(name), undefined, name);
    for (const name of PROTO_NAMES) assert.equal(TABLE.has(name), false, name);
  });

  it('cannot be changed once built: the tables are shared by every account of the process', () => {
    assert.throws(() => TABLE.set('constructor', 'x'), TypeError);
    assert.throws(() => TABLE.delete('ok'), TypeError);
    assert.throws(() => TABLE.clear(), TypeError);
    assert.deepEqual([...TABLE.keys()], ['ok', 'missed']);
  });

  it('ownProperty reads own properties only', () => {
    const inherited = Object.create({ extension: '117' });
    inherited.queue = '820';
    assert.equal(ownProperty(inherited, 'extension'), undefined);
    assert.equal(ownProperty(inherited, 'queue'), '820');
    for (const name of PROTO_NAMES) assert.equal(ownProperty({}, name), undefined, name);
    assert.equal(ownProperty(JSON.parse('{"__proto__": "x"}'), '__proto__'), 'x');
    assert.equal(ownProperty(null, 'a'), undefined);
    assert.equal(ownProperty('text', 'length'), undefined);
  });
});

describe('3cx-webapi webhooks with prototype names', () => {
  for (const name of PROTO_NAMES) {
    for (const [how, input] of Object.entries(inputs({ Event: name, Id: '230307114903_10-1', User: '202' }))) {
      it(`Event "${name}" (${how}) is an unknown provider event: no event`, () => {
        assert.deepEqual(normalize3cxWebhook(input), []);
      });
    }

    it(`Usertype "${name}" falls back as any unknown Usertype does (extensionType other)`, () => {
      for (const input of Object.values(inputs({ Event: 'Ringing', Id: '230307114903_10-1', User: '202', Usertype: name }))) {
        const [event] = normalize3cxWebhook(input);
        assertWellFormed(event);
        assert.equal(event.extensionType, 'other');
      }
    });

    it(`Finishtype "${name}" falls back as any unknown Finishtype does (outcome unknown)`, () => {
      for (const input of Object.values(
        inputs({ Event: 'Incoming', Id: '230307114903_10-1', User: '202', Usertype: name, Finishtype: name, Duration: '00:07' }),
      )) {
        const [event] = normalize3cxWebhook(input);
        assertWellFormed(event);
        assert.equal(event.outcome, 'unknown');
        assert.equal(event.extensionType, 'other');
      }
    });
  }

  it('a call whose webhooks carry prototype names goes through the call tracker and clones', () => {
    const tracker = new CallTracker();
    const { json: ring } = inputs({ Event: 'Ringing', Id: '230307114903_11-1', User: '202', Usertype: 'constructor' });
    const { json: hangup } = inputs({ Event: 'Incoming', Id: '230307114903_11-1', User: '202', Finishtype: 'constructor' });
    tracker.apply(normalize3cxWebhook(ring)[0]);
    const ended = tracker.apply(normalize3cxWebhook(hangup)[0]);
    assertWellFormed(ended);
    assert.deepEqual(
      ended.call.route.map((h) => [h.event, h.extension, h.extensionType]),
      [['ringing', '202', 'other']],
    );
    assert.equal(ended.call.outcome, 'missed');
  });
});

describe('voipnow with prototype names', () => {
  for (const name of PROTO_NAMES) {
    it(`?event=${name} is an unknown provider event: no event`, () => {
      const fields = { event: name, CallID: 'c1', CallStatus: 'CALLING', CallFlow: 'IN', CalledExtension: '0003*202' };
      for (const input of Object.values(inputs(fields))) assert.deepEqual(normalizeVoipNowWebhook(input), []);
    });

    it(`CallStatus "${name}" without ?event= infers nothing`, () => {
      for (const input of Object.values(inputs({ CallID: 'c1', CallStatus: name }))) assert.deepEqual(normalizeVoipNowWebhook(input), []);
    });

    it(`presence status and registration "${name}" are unknown`, () => {
      const out = presenceOf({ extension: '0003*202', status: name, registration: [{ registration: name, agent: 'phone' }] });
      assert.deepEqual(out, {
        extension: '0003*202',
        state: 'unknown',
        registration: 'unknown',
        devices: [{ registration: 'unknown', agent: 'phone' }],
      });
    });

    it(`PhoneCall status and disposition "${name}" are unknown / absent`, () => {
      const call = phoneCallOf({ id: 'c1', extension: '0003*202', phoneCallView: [{ status: name, disposition: name }] });
      assert.deepEqual(call, { callId: 'c1', extension: '0003*202', status: 'unknown', answered: false });
    });
  }
});

describe('cloud-callcenter with prototype names', () => {
  for (const name of PROTO_NAMES) {
    it(`callback status "${name}" is an unknown provider event: no event`, () => {
      const fields = { type: 'call', status: name, uuid: 'u1', direction: 'callin', extnumber: '90240002' };
      assert.deepEqual(normalizeCallCenterWebhook(inputs(fields).json), []);
    });

    it(`extension and agent state "${name}" are unknown`, () => {
      assert.equal(stateOf(name), 'unknown');
      assert.deepEqual(extensionStatesOf([{ extnumber: '90240001', name: 'sales', state: name, status: name }]), [
        { extension: '90240001', state: 'unknown', groups: ['sales'] },
      ]);
      assert.deepEqual(queueAgentOf({ extnumber: '90240001', state: name, status: name }), {
        extension: '90240001',
        loggedIn: true,
        state: 'unknown',
      });
    });
  }

  it('an account delivering such callbacks counts them as ignored and emits nothing', () => {
    const account = new Account({
      settings: { provider: 'cloud-callcenter', baseUrl: 'http://127.0.0.1:9', timeout: 1000, rejectUnauthorized: true, credentials: {} },
      definition: providerOf('cloud-callcenter'),
      log: quiet,
    });
    const seen = [];
    account.subscribe((e) => seen.push(e));
    for (const name of PROTO_NAMES) {
      const fields = { type: 'call', status: name, uuid: `u-${name}` };
      account.deliver(inputs(fields).json, JSON.stringify(fields));
    }
    assert.deepEqual(seen, []);
    assert.equal(account.counters.ignored, PROTO_NAMES.length);
    account.close();
  });
});

describe('cloud-callcenter error codes named like prototype members (scripted provider)', function () {
  this.timeout(10000);
  let server;
  let acct;
  /** What the next service request (not the login) is answered with. */
  let answer;

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        res.writeHead(200, { 'Content-Type': 'application/json' });
        if (body.includes('App.Sip_Auth.Login')) {
          return res.end(JSON.stringify({ ret: 200, data: { status: 0, result: { token: 'scripted-token' } }, msg: '' }));
        }
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    acct = new Account({
      settings: {
        provider: 'cloud-callcenter',
        baseUrl: `http://127.0.0.1:${server.address().port}/callcenter`,
        timeout: 2000,
        rejectUnauthorized: true,
        credentials: DEFAULT_CREDENTIALS['cloud-callcenter'],
      },
      definition: providerOf('cloud-callcenter'),
      log: quiet,
      retryDelaysMs: [10, 20],
    });
  });
  after(() => {
    acct.close();
    server.close();
  });

  for (const name of PROTO_NAMES) {
    it(`ret "${name}" is a provider_error carrying the code`, async () => {
      answer = { ret: name, data: null, msg: 'odd' };
      const err = await failure(acct.run('status', 'extension-state', { extension: '90240001' }));
      assert.equal(err.name, 'PbxError');
      assert.equal(err.code, 'provider_error');
      assert.equal(err.providerCode, name);
      assert.match(err.message, new RegExp(`ret ${name.replace(/\$/g, '\\$')} \\(error\\): odd`));
    });

    it(`business code "${name}" is a provider_error carrying the code`, async () => {
      answer = { ret: 200, data: { status: 1, errors: { code: name } }, msg: '' };
      const err = await failure(acct.run('status', 'extension-state', { extension: '90240001' }));
      assert.equal(err.code, 'provider_error');
      assert.equal(err.providerCode, name);
      assert.match(err.message, /refused, code .*: business error$/);
    });
  }
});

describe('adapters with prototype names as parameters and operations (simulator)', function () {
  this.timeout(10000);
  let sim;
  const accounts = {};

  before(async () => {
    sim = await startSimulator({ stepMs: 10, talkMs: 100 });
    const prefix = { '3cx-webapi': '/webapi', voipnow: '/voipnow', 'cloud-callcenter': '/callcenter' };
    for (const provider of Object.keys(prefix)) {
      accounts[provider] = new Account({
        settings: {
          provider,
          baseUrl: `${sim.url}${prefix[provider]}`,
          timeout: 2000,
          rejectUnauthorized: true,
          credentials: DEFAULT_CREDENTIALS[provider],
        },
        definition: providerOf(provider),
        log: quiet,
        retryDelaysMs: [10, 20],
      });
    }
  });
  after(async () => {
    for (const a of Object.values(accounts)) a.close();
    await sim.close();
  });

  for (const name of PROTO_NAMES) {
    it(`3cx list kind "${name}" is invalid_input and nothing is sent`, async () => {
      const before = sim.received('3cx-webapi').length;
      const err = await failure(accounts['3cx-webapi'].run('status', 'list', { kind: name }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.message, 'list kind must be one of extensions, registered, queues, ringgroups, ivrs, lines, usergroups');
      assert.equal(sim.received('3cx-webapi').length, before);
    });

    it(`cloud-callcenter set-status "${name}" is invalid_input and nothing is sent`, async () => {
      const before = sim.received('cloud-callcenter').filter((r) => r.body.includes('SetSeatsStatus')).length;
      const err = await failure(accounts['cloud-callcenter'].run('queue', 'set-status', { extension: '90240001', status: name }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.message, 'status must be "available" or "away"');
      assert.equal(sim.received('cloud-callcenter').filter((r) => r.body.includes('SetSeatsStatus')).length, before);
    });

    it(`3cx set-status "${name}" is invalid_input`, async () => {
      const err = await failure(accounts['3cx-webapi'].run('queue', 'set-status', { extension: '117', status: name }));
      assert.equal(err.code, 'invalid_input');
    });

    for (const kind of ['call', 'status', 'queue']) {
      it(`operation "${name}" on a ${kind} node is invalid_input for every provider`, async () => {
        for (const [provider, account] of Object.entries(accounts)) {
          const err = await failure(account.run(kind, name, { extension: '117' }));
          assert.equal(err.code, 'invalid_input', provider);
          assert.match(err.message, /^unknown operation/, provider);
        }
      });
    }
  }
});

describe('action parameters: own properties, bounded length, no control characters', () => {
  const RED = { util: { evaluateNodeProperty: (value, type, node, msg, cb) => cb(null, msg[value]) } };
  const node = {};
  const fromPayload = (payload, kind = 'call') => resolveParams(RED, node, {}, kind, { payload });
  const fromSetting = (value) => resolveParams(RED, node, { extension: 'x', extensionType: 'msg' }, 'call', { x: value, payload: {} });

  it('reads msg.payload.<param> as an own property only', async () => {
    const payload = Object.create({ extension: '117', destination: '0555' });
    payload.callId = 'c1';
    assert.deepEqual(await fromPayload(payload), { callId: 'c1' });
    const withProtoKey = JSON.parse('{"__proto__": {"extension": "117"}, "destination": "0555"}');
    assert.deepEqual(await fromPayload(withProtoKey), { destination: '0555' });
  });

  it('keeps numbers, booleans and trimmed text working', async () => {
    assert.deepEqual(await fromPayload({ extension: 117, destination: ' 0555 \n', callId: '' }), { extension: '117', destination: '0555' });
    assert.deepEqual(await fromPayload({ enabled: true, external: false, extension: '117' }, 'queue'), {
      enabled: 'true',
      external: 'false',
      extension: '117',
    });
  });

  it(`accepts ${MAX_PARAM_LENGTH} characters and rejects one more, naming the parameter`, async () => {
    assert.equal(MAX_PARAM_LENGTH, 1024);
    assert.deepEqual(await fromPayload({ reference: 'r'.repeat(MAX_PARAM_LENGTH) }), { reference: 'r'.repeat(MAX_PARAM_LENGTH) });
    for (const resolve of [(v) => fromPayload({ reference: v }), (v) => fromSetting(v)]) {
      const err = await failure(resolve('r'.repeat(MAX_PARAM_LENGTH + 1)));
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, /^(reference|extension) is longer than 1024 characters$/);
    }
    const huge = await failure(fromPayload({ destination: 'x'.repeat(10 * 1024 * 1024) }));
    assert.equal(huge.message, 'destination is longer than 1024 characters');
  });

  for (const [what, value] of [
    ['CR LF', '117\r\n200'],
    ['LF', '117\nX-Injected: 1'],
    ['NUL', '117\u0000'],
    ['ESC', '\u001b[31m117'],
    ['TAB', '11\t7'],
    ['DEL', '117\u007f'],
    ['C1 NEL', '117\u0085x'],
  ]) {
    it(`rejects a value containing ${what}, naming the parameter`, async () => {
      const err = await failure(fromPayload({ destination: value, extension: '117' }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.message, 'destination contains control characters');
      const set = await failure(fromSetting(value));
      assert.equal(set.message, 'extension contains control characters');
    });
  }

  it('rejects a lone surrogate (no text; URL encoding would throw on it), and keeps astral characters', async () => {
    for (const value of ['117\uD800', '\uDC00117', '1\uDBFFx']) {
      const err = await failure(fromPayload({ destination: value, extension: '117' }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.message, 'destination is not well-formed text (a lone surrogate)');
    }
    const params = await fromPayload({ destination: 'call \u{1F4DE} 117', extension: '117' });
    assert.equal(params.destination, 'call \u{1F4DE} 117');
  });

  it('rejects numbers that are not finite', async () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      const err = await failure(fromPayload({ extension: n }));
      assert.equal(err.code, 'invalid_input');
      assert.equal(err.message, 'extension must be a finite number');
    }
  });
});

describe('simulator tables with prototype names', function () {
  this.timeout(10000);
  let sim;
  const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;

  before(async () => (sim = await startSimulator({ stepMs: 0, talkMs: 100 })));
  after(() => sim.close());

  const get3cx = async (method, query) => {
    const res = await fetch(`${sim.url}/webapi/${KEY}/${method}?${new URLSearchParams(query)}`);
    return { status: res.status, text: await res.text() };
  };

  for (const name of PROTO_NAMES) {
    it(`3cx: queue, ring group and user group "${name}" are not found`, async () => {
      for (const method of ['queue.members', 'queue.free', 'queue.talk', 'queue.isfree']) {
        assert.deepEqual(await get3cx(method, { num: name }), { status: 404, text: 'Queue not found' }, method);
      }
      for (const method of ['group.members', 'group.free']) {
        assert.deepEqual(await get3cx(method, { num: name }), { status: 404, text: 'Ring group not found' }, method);
      }
      assert.deepEqual(await get3cx('extgroup.members', { name }), { status: 404, text: 'User group not found' });
    });

    it(`3cx: queue login to queue "${name}" is not found, recording option "${name}" refused`, async () => {
      assert.deepEqual(await get3cx('ext.queue.set', { num: '201', queue: name, log: 'ON' }), { status: 404, text: 'Queue not found' });
      const options = { num: '117', enabled: 'ON', external: 'ON', recording: name };
      assert.deepEqual(await get3cx('ext.options.set', options), { status: 200, text: '{"result":false}' });
      assert.deepEqual(await get3cx('ext.info', { num: '117' }).then((r) => JSON.parse(r.text).recordType), 'All');
    });

    it(`cloud-callcenter: service "${name}" does not exist (ret 400)`, async () => {
      const form = new FormData();
      form.append('service', name);
      const res = await fetch(`${sim.url}/callcenter`, { method: 'POST', body: form });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ret: 400, data: null, msg: `service ${name} does not exist` });
    });

    it(`cloud-callcenter: a form field named "${name}" is read as any other field`, () => {
      const fields = parseFormBody(Buffer.from(`service=x&${encodeURIComponent(name)}=v`), 'application/x-www-form-urlencoded');
      assert.equal(Object.getOwnPropertyDescriptor(fields, name)?.value, 'v');
      const boundary = 'b0undary';
      const multipart = [`--${boundary}`, `Content-Disposition: form-data; name="${name}"`, '', 'v', `--${boundary}--`, ''].join('\r\n');
      const parsed = parseFormBody(Buffer.from(multipart), `multipart/form-data; boundary=${boundary}`);
      assert.equal(Object.getOwnPropertyDescriptor(parsed, name)?.value, 'v');
    });

    it(`every provider simulator: scenario "${name}" is unknown`, async () => {
      for (const id of ['3cx-webapi', 'voipnow', 'cloud-callcenter']) {
        await assert.rejects(sim.provider(id).play(name), { message: `unknown scenario ${name}` }, id);
      }
      const res = await fetch(`${sim.url}/_sim/scenario`, { method: 'POST', body: JSON.stringify({ provider: '3cx-webapi', name }) });
      assert.equal(res.status, 404);
    });
  }
});
