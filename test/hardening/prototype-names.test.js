'use strict';
// Names of Object.prototype members sent where the package looks words up in a table, against a
// real Node-RED process with the packed package and no webhook secret (anyone may send these).
// Before the fix a 3CX webhook with `Finishtype` or `Usertype` = `constructor` made the call
// tracker's structuredClone throw outside any try: the Node-RED process exited. Now such values take
// the fallback any unknown word takes, prototype-named event types are unknown provider events
// (nothing emitted), a call-center `ret` of `constructor` is a provider_error, and prototype names
// as action parameters or operations are invalid_input without a request being sent.
const assert = require('node:assert/strict');
const http = require('node:http');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { Collector } = require('../helpers/collector');
const { LABELS, PROVIDER_IDS, distinctiveSecrets, providerFlows, action } = require('../helpers/hardening');

/** Credentials for the flows, without any webhook secret. */
function withoutWebhookSecrets(secrets) {
  const out = { ...secrets };
  for (const p of PROVIDER_IDS) {
    const { webhookSecret: _unused, ...creds } = secrets[p];
    out[p] = creds;
  }
  return out;
}

/**
 * A call center that logs in, then answers every service with `ret: "constructor"` (SetSeatsStatus
 * with success); it counts the services it was asked for.
 */
async function startOddCallCenter() {
  const services = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const service = /name="service"\r\n\r\n([^\r]*)/.exec(body)?.[1] ?? '';
      services.push(service);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (service === 'App.Sip_Auth.Login') {
        res.end(JSON.stringify({ ret: 200, data: { status: 0, result: { token: 'odd-token', companyname: 'Odd' } }, msg: '' }));
      } else if (service === 'App.Sip_Queue.SetSeatsStatus') {
        res.end(JSON.stringify({ ret: 200, data: { status: 0, result: null }, msg: '' }));
      } else {
        res.end(JSON.stringify({ ret: 'constructor', data: null, msg: 'odd answer' }));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, services, close: () => new Promise((r) => server.close(r)) };
}

describe('hardening: prototype names in webhooks and actions (real Node-RED process, no webhook secret)', function () {
  this.timeout(90000);
  let nr;
  let collector;
  let provider;
  let seq = 0;

  before(async () => {
    collector = await new Collector().start();
    provider = await startOddCallCenter();
    nr = await new NodeRedProcess({ adminRoot: '/admin' }).start();
    const secrets = withoutWebhookSecrets(distinctiveSecrets('PROTO'));
    await nr.deploy(providerFlows({ collector: collector.url, simUrl: provider.url, secrets, timeout: 2000 }));
  });

  after(async () => {
    await nr?.stop();
    nr?.cleanup();
    await provider?.close();
    await collector?.close();
  });

  afterEach(() => collector.clear());

  function alive() {
    if (nr.child.exitCode !== null || nr.child.signalCode !== null) {
      const tail = nr.logs.slice(-15).join('\n');
      assert.fail(`Node-RED exited (code ${nr.child.exitCode}, signal ${nr.child.signalCode}):\n${tail}`);
    }
  }

  /** Calls an action node (see helpers/hardening.js `action`); a process that died is reported as such. */
  async function act(providerId, kind, request) {
    try {
      return await action(nr.url, providerId, kind, request);
    } catch (err) {
      await Promise.race([nr.exited, new Promise((r) => setTimeout(r, 1000))]);
      alive();
      throw err;
    }
  }

  /** Sends one webhook to a provider's endpoint; it must be answered 200. */
  async function webhook(providerId, { json, form, query = '' }) {
    const init = { method: json || form ? 'POST' : 'GET' };
    if (json) init.headers = { 'Content-Type': 'application/json' };
    if (form) init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (json || form) init.body = json ? JSON.stringify(json) : new URLSearchParams(form).toString();
    let res;
    try {
      res = await fetch(`${nr.url}/pbx/hd-${LABELS[providerId]}${query ? `?${query}` : ''}`, init);
    } catch (err) {
      // Give the exit a moment to be seen, then report it rather than the refused connection.
      await Promise.race([nr.exited, new Promise((r) => setTimeout(r, 1000))]);
      alive();
      throw err;
    }
    assert.equal(res.status, 200, await res.text());
  }

  /** The events emitted for `callId` once the event of a later normal webhook (`marker`) was emitted. */
  async function eventsUntil(providerId, marker, callIds) {
    const path = `/events/${LABELS[providerId]}`;
    try {
      await collector.waitFor(path, 1, { filter: (m) => m.payload?.callId === marker, timeoutMs: 10000 });
    } catch (err) {
      alive();
      throw err;
    }
    alive();
    return collector.on(path, (m) => callIds.includes(m.payload?.callId));
  }

  const newCall = () => `260101000000_${++seq}`;
  const ring = (call, extra = {}) => ({ Event: 'Ringing', Id: `${call}-1`, User: '202', Callerid: '05551239988', ...extra });
  const hangup = (call, extra = {}) => ({ Event: 'Incoming', Id: `${call}-1`, User: '202', Duration: '00:07', ...extra });
  const ways = {
    'as JSON': (fields) => ({ json: fields }),
    'as GET query': (fields) => ({ query: new URLSearchParams(fields).toString() }),
    'as form body': (fields) => ({ form: fields }),
  };

  for (const [how, send] of Object.entries(ways)) {
    it(`3CX Usertype and Finishtype "constructor" ${how}: answered 200, emitted with the fallbacks, Node-RED stays up`, async () => {
      const hostile = newCall();
      const control = newCall();
      const marker = newCall();
      await webhook('3cx-webapi', send(ring(hostile, { Usertype: 'constructor' })));
      await webhook('3cx-webapi', send(hangup(hostile, { Usertype: 'constructor', Finishtype: 'constructor' })));
      // The same call with words 3CX does not use: what the fallback gives.
      await webhook('3cx-webapi', send(ring(control, { Usertype: 'nonsense' })));
      await webhook('3cx-webapi', send(hangup(control, { Usertype: 'nonsense', Finishtype: 'nonsense' })));
      await webhook('3cx-webapi', send(ring(marker, { Usertype: 'ext' })));

      const events = await eventsUntil('3cx-webapi', marker, [hostile, control]);
      const order = ['ringing', 'answered', 'hangup', 'recording'];
      const of = (call) =>
        events
          .filter((m) => m.payload.callId === call)
          .map((m) => m.payload)
          .sort((a, b) => order.indexOf(a.event) - order.indexOf(b.event));
      const shape = (e) => ({
        topic: e.event,
        extensionType: e.extensionType,
        outcome: e.outcome,
        callOutcome: e.call?.outcome,
        route: e.call?.route.map((h) => h.extensionType),
      });
      assert.deepEqual(of(hostile).map(shape), [
        { topic: 'ringing', extensionType: 'other', outcome: undefined, callOutcome: undefined, route: undefined },
        { topic: 'hangup', extensionType: 'other', outcome: 'missed', callOutcome: 'missed', route: ['other'] },
      ]);
      assert.deepEqual(of(hostile).map(shape), of(control).map(shape));
      for (const m of events) assert.equal(m.topic, m.payload.event);
    });
  }

  it('3CX Event, VoipNow ?event= and call-center status named like prototype members emit nothing', async () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];
    const tcx = names.map(() => newCall());
    for (const [i, name] of names.entries()) await webhook('3cx-webapi', { json: { Event: name, Id: `${tcx[i]}-1`, User: '202' } });
    const tcxMarker = newCall();
    await webhook('3cx-webapi', { json: ring(tcxMarker) });

    const vn = names.map((name) => `vn-${name}`);
    for (const [i, name] of names.entries()) {
      const fields = { event: name, CallID: vn[i], CallStatus: 'CALLING', CallFlow: 'IN', CalledExtension: '0003*202' };
      await webhook('voipnow', { query: new URLSearchParams(fields).toString() });
    }
    await webhook('voipnow', { query: 'event=dial-in&CallID=vn-marker&CallStatus=CALLING&CallFlow=IN&CalledExtension=0003*202' });

    const cc = names.map((name) => `cc-${name}`);
    for (const [i, name] of names.entries()) {
      await webhook('cloud-callcenter', { json: { type: 'call', status: name, uuid: cc[i], direction: 'callin', extnumber: '90240002' } });
    }
    await webhook('cloud-callcenter', {
      json: { type: 'call', status: 'ring', uuid: 'cc-marker', direction: 'callin', extnumber: '90240002' },
    });

    assert.deepEqual(await eventsUntil('3cx-webapi', tcxMarker, tcx), []);
    assert.deepEqual(await eventsUntil('voipnow', 'vn-marker', vn), []);
    assert.deepEqual(await eventsUntil('cloud-callcenter', 'cc-marker', cc), []);
    const markers = [
      ...collector.on('/events/tcx', (m) => m.payload?.callId === tcxMarker),
      ...collector.on('/events/vn', (m) => m.payload?.callId === 'vn-marker'),
      ...collector.on('/events/cc', (m) => m.payload?.callId === 'cc-marker'),
    ];
    assert.deepEqual(
      markers.map((m) => [m.topic, typeof m.payload.providerEvent]),
      [
        ['ringing', 'string'],
        ['ringing', 'string'],
        ['ringing', 'string'],
      ],
    );
  });

  it('call-center ret "constructor" reaches the Catch node as provider_error', async () => {
    const r = await act('cloud-callcenter', 'status', { query: 'extension-state', params: { extension: '90240001' } });
    assert.equal(r.status, 500, r.text);
    assert.equal(r.body.error.code, 'provider_error', r.body.error.message);
    assert.equal(r.body.pbx.error.providerCode, 'constructor');
    assert.match(r.body.error.message, /ret constructor \(error\): odd answer$/);
    await collector.waitFor('/errors', 1, {
      filter: (m) => m.error?.code === 'provider_error' && m.error.source?.id === 'act-cc-status',
      timeoutMs: 5000,
    });
    alive();
  });

  it('set-status "constructor", "toString" and "__proto__" are invalid_input and nothing is sent', async () => {
    const sent = () => provider.services.filter((s) => s === 'App.Sip_Queue.SetSeatsStatus').length;
    const before = sent();
    for (const status of ['constructor', 'toString', '__proto__']) {
      const r = await act('cloud-callcenter', 'queue', { operation: 'set-status', params: { extension: '90240001', status } });
      assert.equal(r.status, 500, r.text);
      assert.equal(r.body.error.code, 'invalid_input', `${status}: ${r.body.error.message}`);
      assert.equal(r.body.error.message, 'status must be "available" or "away"');
    }
    assert.equal(sent(), before, 'no SetSeatsStatus reached the provider');
    const ok = await act('cloud-callcenter', 'queue', { operation: 'set-status', params: { extension: '90240001', status: 'away' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(sent(), before + 1);
  });

  it('operations named like prototype members and parameters with control characters or past the limit are invalid_input', async () => {
    const cases = [
      ['call', { operation: 'constructor', params: { extension: '117' } }, /^unknown operation "constructor"/],
      ['queue', { operation: '__proto__', params: { extension: '117' } }, /^unknown operation "__proto__"/],
      ['status', { query: 'toString', params: {} }, /^unknown operation "toString"/],
      ['call', { operation: 'makecall\r\nX-Injected: 1', params: { extension: '117' } }, /^operation contains control characters$/],
      [
        'call',
        { operation: 'makecall', params: { extension: '117', destination: '0555\r\n1' } },
        /^destination contains control characters$/,
      ],
      ['call', { operation: 'makecall', params: { extension: '1'.repeat(1025), destination: '0555' } }, /^extension is longer than 1024/],
    ];
    for (const providerId of PROVIDER_IDS) {
      for (const [kind, request, message] of cases) {
        const r = await act(providerId, kind, request);
        assert.equal(r.status, 500, r.text);
        assert.equal(r.body.error.code, 'invalid_input', `${providerId}: ${r.body.error.message}`);
        assert.match(r.body.error.message, message);
      }
    }
    alive();
  });
});
