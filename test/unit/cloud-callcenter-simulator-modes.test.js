'use strict';
// The cloud-callcenter simulator's modes for the API variants real accounts show (issue 12) and
// the command-line flags that choose them; without flags it stays the newer API.
const assert = require('node:assert/strict');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { jsonWithoutCommas, DEFAULT_CALL_CENTER_MODES } = require('../../dist/simulator/cloud-callcenter');
const { parseCliArgs, helpText, UsageError } = require('../../dist/simulator/cli');
const { repairJson } = require('../../dist/core/tolerant-json');

const CREDS = DEFAULT_CREDENTIALS['cloud-callcenter'];

describe('cloud-callcenter simulator modes', () => {
  let sim;
  afterEach(async () => {
    if (sim) await sim.close();
    sim = undefined;
  });

  async function api(fields) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${sim.url}/callcenter`, { method: 'POST', body: form });
    return res.json();
  }
  const login = async () => (await api({ service: 'App.Sip_Auth.Login', appid: CREDS.appId, accesskey: CREDS.appKey })).data.result.token;

  it('defaults to the newer API: MakeCall names the call, CDRs carry recordurl', () => {
    assert.deepEqual(DEFAULT_CALL_CENTER_MODES, { cdr: 'recordurl', cdrWithoutCommas: false, makeCallUuid: true });
  });

  it('makeCallUuid false: MakeCall answers as documented, without uuid or result', async () => {
    sim = await startSimulator({ callCenterModes: { makeCallUuid: false } });
    const token = await login();
    const answer = await api({
      service: 'App.Sip_Call.MakeCall',
      token,
      extnumber: '90240001',
      destnumber: '13800138000',
      customuuid: 'r-1',
    });
    assert.equal(answer.ret, 200);
    assert.deepEqual(Object.keys(answer.data).sort(), ['desc', 'reqtime', 'rsptime', 'status']);
    assert.equal(answer.data.status, 0);
    assert.equal(sim.provider('cloud-callcenter').state().calls[0].customuuid, 'r-1', 'the call is placed all the same');
  });

  it('SipSignOut takes crmid as an integer', async () => {
    sim = await startSimulator();
    const token = await login();
    const signOut = (crmid) => api({ service: 'App.Sip_Queue.SipSignOut', token, extnumber: '90240001', queuename: 'queue-1', crmid });
    assert.deepEqual(await signOut('ten'), { ret: 400, data: null, msg: 'crmid must be an integer' });
    assert.equal((await signOut('10')).ret, 200);
  });

  it('prints a CDR the way the vendor does: no commas, which tolerant parsing repairs to the same fields', () => {
    const fields = { uuid: 'u-1', billsec: 12, recordfilename: '', customuuid: 'x "y"' };
    const text = jsonWithoutCommas(fields);
    assert.equal(text, '{\n    "uuid": "u-1"\n    "billsec": 12\n    "recordfilename": ""\n    "customuuid": "x \\"y\\""\n}');
    assert.throws(() => JSON.parse(text));
    assert.deepEqual(repairJson(text), fields);
  });

  it('command line: no flag keeps the defaults; each flag sets its mode', () => {
    assert.deepEqual(parseCliArgs([]).callCenterModes, {});
    assert.deepEqual(
      parseCliArgs(['--callcenter-cdr', 'downloadip', '--callcenter-cdr-without-commas', '--callcenter-makecall-without-uuid'])
        .callCenterModes,
      { cdr: 'downloadip', cdrWithoutCommas: true, makeCallUuid: false },
    );
    assert.deepEqual(parseCliArgs(['--callcenter-cdr', 'recordurl']).callCenterModes, { cdr: 'recordurl' });
    assert.throws(() => parseCliArgs(['--callcenter-cdr', 'ftp']), UsageError);
    const help = helpText();
    for (const flag of ['--callcenter-cdr <format>', '--callcenter-cdr-without-commas', '--callcenter-makecall-without-uuid']) {
      assert.ok(help.includes(flag), flag);
    }
  });
});
