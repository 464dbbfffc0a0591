'use strict';
// The simulator's VoipNow sender modes: `url` (default, `?event=<type>`) and `payload`
// (`EventType` in the payload, `Duration` on the hangup), by option, scenario and command line.
const assert = require('node:assert/strict');
const http = require('node:http');
const { startSimulator } = require('../../dist/simulator');
const { parseCliArgs, UsageError } = require('../../dist/simulator/cli');

describe('voipnow simulator sender modes', function () {
  this.timeout(10000);
  let sim;
  let collector;
  let received;

  beforeEach(async () => {
    received = [];
    collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method, url: new URL(req.url, 'http://x'), body: new URLSearchParams(body) });
        res.end('ok');
      });
    });
    await new Promise((r) => collector.listen(0, '127.0.0.1', r));
    sim = await startSimulator({ providers: ['voipnow'], stepMs: 0 });
    sim.setWebhook('voipnow', `http://127.0.0.1:${collector.address().port}/hook`, 'get');
  });
  afterEach(async () => {
    await sim.close();
    await new Promise((r) => collector.close(r));
  });

  const params = (r) => (r.method === 'GET' ? r.url.searchParams : r.body);

  it('by default the type travels in ?event=, as before', async () => {
    assert.equal(sim.provider('voipnow').eventSender, 'url');
    await sim.provider('voipnow').play('inbound-busy');
    assert.deepEqual(
      received.map((r) => [r.url.searchParams.get('event'), r.url.searchParams.get('EventType'), r.url.searchParams.get('CallStatus')]),
      [
        ['dial-in', null, 'CALLING'],
        ['hangup', null, 'BUSY'],
      ],
    );
  });

  it('payload: EventType in the fields, no ?event=, Duration on the hangup, the routing request named as such', async () => {
    const voipnow = sim.provider('voipnow');
    voipnow.useEventSender('payload');
    await voipnow.play('inbound-ivr-answered', { duration: 12, scheme: 'form' });
    assert.deepEqual(
      received.map((r) => [
        r.method,
        r.url.searchParams.get('event'),
        params(r).get('EventType'),
        params(r).get('CallStatus'),
        params(r).get('Duration'),
      ]),
      [
        ['POST', null, 'call_interactive', 'ANSWER', null],
        ['POST', null, 'dial-in', 'CALLING', null],
        ['POST', null, 'answer', 'ANSWER', null],
        ['POST', null, 'hangup', 'ANSWER', '12'],
      ],
    );
  });

  it('the mode survives a reset; a scenario may choose its own', async () => {
    const voipnow = sim.provider('voipnow');
    voipnow.useEventSender('payload');
    voipnow.reset();
    assert.equal(voipnow.eventSender, 'payload');
    await voipnow.play('outbound-congestion', { sender: 'url', extensionHost: 'pbx.example.com' });
    assert.deepEqual(
      received.map((r) => [
        r.url.searchParams.get('event'),
        r.url.searchParams.get('CallerExtension'),
        r.url.searchParams.get('CallStatus'),
      ]),
      [
        ['dial-out', '0003*210@pbx.example.com', 'CALLING'],
        ['hangup', '0003*210@pbx.example.com', 'CONGESTION'],
      ],
    );
    await assert.rejects(voipnow.play('inbound-busy', { sender: 'query' }), /sender must be url or payload/);
  });

  it('the command line takes --voipnow-sender url|payload', () => {
    assert.equal(parseCliArgs([]).voipnowSender, undefined);
    assert.equal(parseCliArgs(['--voipnow-sender', 'payload']).voipnowSender, 'payload');
    assert.equal(parseCliArgs(['--voipnow-sender', 'url', '--provider', 'voipnow']).voipnowSender, 'url');
    assert.throws(
      () => parseCliArgs(['--voipnow-sender', 'body']),
      (e) => e instanceof UsageError && /not url or payload/.test(e.message),
    );
    assert.throws(() => parseCliArgs(['--voipnow-sender', 'payload', '--provider', '3cx-webapi']), /voipnow is not simulated/);
  });
});
