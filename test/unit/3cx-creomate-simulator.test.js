'use strict';
// The 3CX simulator's Creomate edition: chosen by option or by `pbx-simulator --edition`, it takes
// makecall as first/second and answers {chid}; the K2M form is refused, as the Creomate add-on would.
const assert = require('node:assert/strict');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const { parseCliArgs, UsageError } = require('../../dist/simulator/cli');

const KEY = DEFAULT_CREDENTIALS['3cx-webapi'].accessKey;

describe('3cx-webapi simulator, Creomate edition', () => {
  let sim;
  afterEach(async () => {
    if (sim) await sim.close();
    sim = undefined;
  });

  it('--edition picks the edition; k2m by default; anything else is a usage error', () => {
    assert.equal(parseCliArgs([]).edition, 'k2m');
    assert.equal(parseCliArgs(['--edition', 'creomate']).edition, 'creomate');
    assert.throws(() => parseCliArgs(['--edition', 'constructor']), UsageError);
  });

  it('makecall: first/second answered with a chid; firstnum/secondnum refused', async () => {
    sim = await startSimulator({ providers: ['3cx-webapi'], stepMs: 0, talkMs: 10000, threeCxEdition: 'creomate' });
    const k2m = await fetch(`${sim.url}/webapi/${KEY}/makecall?firstnum=117&secondnum=0555`);
    assert.equal(k2m.status, 400);
    const res = await fetch(`${sim.url}/webapi/${KEY}/makecall?first=117&second=0555&contact=100&timeout=2000`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ['chid']);
    assert.match(body.chid, /^00000000-01dc-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
  });

  it('a scenario with an unknown edition is refused', async () => {
    sim = await startSimulator({ providers: ['3cx-webapi'], stepMs: 0 });
    await assert.rejects(sim.provider('3cx-webapi').play('incoming-missed', { edition: 'other' }), /unknown edition other/);
  });
});
