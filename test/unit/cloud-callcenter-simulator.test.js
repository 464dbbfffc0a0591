'use strict';
// The cloud-callcenter simulator itself: its scenarios produce callbacks the normalizer maps,
// and its API speaks the PhalApi envelope for bad requests.
const assert = require('node:assert/strict');
const http = require('node:http');
const { providerOf } = require('../../dist/providers');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseFormBody } = require('../../dist/simulator/cloud-callcenter');

const definition = providerOf('cloud-callcenter');

describe('cloud-callcenter simulator', () => {
  let sim;
  let cc;
  let hook;
  const received = [];

  before(async () => {
    hook = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.end('OK');
      });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    sim = await startSimulator({ stepMs: 5 });
    cc = sim.provider('cloud-callcenter');
    sim.setWebhook('cloud-callcenter', `http://127.0.0.1:${hook.address().port}/hook`);
  });
  after(async () => {
    await sim.close();
    hook.close();
  });
  beforeEach(() => (received.length = 0));

  const events = () =>
    received.flatMap((d) => definition.normalizeWebhook({ method: 'POST', query: {}, rawQuery: '', body: d.body, receivedAt: new Date() }));

  const EXPECTED = {
    'inbound-answered': { events: 'ringing answered hangup recording', direction: 'inbound', method: '6' },
    'inbound-missed': { events: 'ringing hangup', direction: 'inbound', method: '6' },
    'outbound-answered': { events: 'ringing answered hangup recording', direction: 'outbound', method: '2' },
    'outbound-unanswered': { events: 'ringing hangup', direction: 'outbound', method: '2' },
    'api-doublecall': { events: 'ringing answered ringing answered hangup recording', direction: 'outbound', method: '4' },
    'extension-to-extension': { events: 'ringing ringing answered hangup recording', direction: 'internal', method: '1' },
  };

  it('offers the documented scenarios', () => {
    assert.deepEqual(cc.scenarios(), [
      ...Object.keys(EXPECTED),
      'missed-callback-answered',
      'missed-callback-unanswered',
      'missed-callback-busy',
      'lost-hangup',
    ]);
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    it(`scenario ${name} sends JSON callbacks that normalize to ${want.events}`, async () => {
      const { callId } = await cc.play(name, { customuuid: 'crm-1' });
      assert.ok(received.every((d) => d.type === 'application/json'));
      assert.ok(received.every((d) => d.body.uuid === callId && d.body.customuuid === 'crm-1'));
      const statuses = received.slice(0, -1);
      assert.ok(statuses.every((d) => d.body.type === 'call' && d.body.method === want.method && d.body.companycode === '9024'));
      assert.equal(received.at(-1).body.callmethod, want.method, 'the CDR comes last');
      const evs = events();
      assert.equal(evs.map((e) => e.event).join(' '), want.events);
      for (const e of evs.filter((x) => x.event !== 'recording')) assert.equal(e.direction, want.direction);
    });
  }

  it('double call: the b side rings with isbleg true', async () => {
    await cc.play('api-doublecall');
    assert.deepEqual(
      received.slice(0, -1).map((d) => `${d.body.status}:${d.body.isbleg}`),
      ['ring:false', 'answer:false', 'ring:true', 'answer:true', 'hangup:true'],
    );
  });

  it('a makecall to a number ending in 0000 rings, hangs up unanswered, and its CDR has no recording', async () => {
    const token = await login();
    const answer = await api({ service: 'App.Sip_Call.MakeCall', token, extnumber: '90240003', destnumber: '13800000000' });
    assert.equal(answer.data.status, 0);
    for (let i = 0; i < 100 && received.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      received.map((d) => d.body.status ?? `cdr:${d.body.billsec}:${d.body.recordurl}`),
      ['ring', 'hangup', 'cdr:0:'],
    );
    assert.ok(received.every((d) => d.body.uuid === answer.data.result.uuid));
  });

  async function api(fields, { method = 'POST', raw } = {}) {
    const form = new globalThis.FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${sim.url}/callcenter`, { method, body: method === 'POST' ? (raw ?? form) : undefined });
    const text = await res.text();
    return res.headers.get('content-type').includes('json') ? JSON.parse(text) : { httpStatus: res.status, text };
  }
  async function login() {
    const answer = await api({
      service: 'App.Sip_Auth.Login',
      appid: DEFAULT_CREDENTIALS['cloud-callcenter'].appId,
      accesskey: DEFAULT_CREDENTIALS['cloud-callcenter'].appKey,
    });
    return answer.data.result.token;
  }

  it('answers bad requests the PhalApi way', async () => {
    assert.deepEqual(await api({ token: 'x' }), { ret: 400, data: null, msg: 'missing parameter: service' });
    assert.equal((await api({ service: 'App.Sip_Nope.Nothing' })).ret, 400);
    assert.deepEqual(await api({ service: 'App.Sip_Call.MakeCall', token: 'x', extnumber: '90240001' }), {
      ret: 400,
      data: null,
      msg: 'missing parameter: destnumber',
    });
    assert.equal((await api({ service: 'App.Sip_Extgroup.GetGroupExt', token: 'not-a-token' })).ret, 600);
    assert.equal((await api({ service: 'App.Sip_Auth.Login', appid: 'a', accesskey: 'b' })).ret, 601);
    assert.equal((await api({}, { method: 'GET' })).httpStatus, 405);
    assert.equal((await api({}, { raw: 'plain text' })).ret, 400);
  });

  it('logout ends the token', async () => {
    const token = await login();
    assert.equal((await api({ service: 'App.Sip_Extgroup.GetGroupExt', token })).ret, 200);
    assert.equal((await api({ service: 'App.Sip_Auth.Logout', token })).ret, 200);
    assert.equal((await api({ service: 'App.Sip_Extgroup.GetGroupExt', token })).ret, 600);
  });

  it('parses multipart bodies with quoted boundaries and tolerates url-encoded ones', () => {
    const body = Buffer.from(
      '--x\r\nContent-Disposition: form-data; name="service"\r\n\r\nApp.Sip_Auth.Login\r\n--x\r\nContent-Disposition: form-data; name="multi"\r\n\r\nline 1\r\nline 2\r\n--x--\r\n',
    );
    assert.deepEqual(parseFormBody(body, 'multipart/form-data; boundary="x"'), {
      service: 'App.Sip_Auth.Login',
      multi: 'line 1\r\nline 2',
    });
    assert.deepEqual(parseFormBody(Buffer.from('a=1&b=%C3%A4'), 'application/x-www-form-urlencoded'), { a: '1', b: 'ä' });
    assert.equal(parseFormBody(Buffer.from('{}'), 'application/json'), undefined);
  });
});
