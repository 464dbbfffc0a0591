'use strict';
// The simulator's queue load per provider: a small seeded load against a loopback collector; what
// arrived goes through the provider's real normalizer and the CallTracker, and must show each call
// entering its queues as pbx-stats recognizes them (SPEC section 10), one answer or none per visit,
// one final hangup per call, and agree with the load's ground-truth log.
const assert = require('node:assert/strict');
const http = require('node:http');
const { startSimulator, queueLoadFigures } = require('../../dist/simulator');
const { CallTracker } = require('../../dist/core/call-tracker');
const { parseForm, parseWebhookBody } = require('../../dist/core/webhook-router');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { normalizeVoipNowWebhook } = require('../../dist/providers/voipnow/webhook');
const { normalizeCallCenterWebhook } = require('../../dist/providers/cloud-callcenter/webhook');

/** Every delivery as the webhook endpoint would read it, with when it arrived. */
class RawCollector {
  constructor() {
    this.inputs = [];
    this.onInput = () => {};
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = req.url ?? '/';
        const q = raw.indexOf('?');
        const rawQuery = q >= 0 ? raw.slice(q + 1) : '';
        const parsed = parseWebhookBody(Buffer.concat(chunks).toString('utf8'), String(req.headers['content-type'] ?? ''));
        const input = {
          method: req.method,
          query: parseForm(rawQuery),
          rawQuery,
          body: parsed.ok ? parsed.body : undefined,
          receivedAt: new Date(),
        };
        this.inputs.push(input);
        this.onInput(input);
        res.end('ok');
      });
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/hook`;
    return this;
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }
}

const isQueueHop = (queues) => (e) => e.extensionType === 'queue' || queues.includes(e.extension);
/** How pbx-stats sees a call enter a queue, per provider (the brief's rules). */
const VARIANTS = [
  {
    name: '3cx-webapi (K2M)',
    id: '3cx-webapi',
    options: { threeCxEdition: 'k2m' },
    normalize: normalize3cxWebhook,
    transfers: true,
    entered: (e) => (e.event === 'ringing' && e.extensionType === 'queue' ? e.extension : undefined),
  },
  {
    name: '3cx-webapi (Creomate)',
    id: '3cx-webapi',
    options: { threeCxEdition: 'creomate' },
    normalize: normalize3cxWebhook,
    transfers: true,
    entered: (e) => (e.event === 'ringing' && e.extensionType === 'queue' ? e.extension : undefined),
  },
  {
    name: 'voipnow',
    id: 'voipnow',
    options: {},
    normalize: normalizeVoipNowWebhook,
    transfers: true,
    // Call Events do not say which extension is a queue: the user names the queue extensions.
    entered: (e, queues) => (e.event === 'ringing' && queues.includes(e.extension) ? e.extension : undefined),
  },
  {
    name: 'cloud-callcenter',
    id: 'cloud-callcenter',
    options: {},
    normalize: normalizeCallCenterWebhook,
    transfers: false,
    // The callbacks name no queue: the user names the hotline that was called.
    entered: (e, queues) =>
      e.event === 'ringing' && e.direction === 'inbound' && queues.includes(e.did ?? e.to) ? (e.did ?? e.to) : undefined,
  },
];

const LOAD = {
  seed: 20261129,
  calls: 8,
  ratePerSecond: 20,
  answerRatio: 0.6,
  transferRatio: 0.5,
  waitMs: [50, 300],
  abandonMs: [50, 300],
  talkMs: [50, 200],
};

describe('simulator queue load, per provider, through the real normalizers and call tracker', function () {
  this.timeout(30000);
  let collector;
  let sim;

  beforeEach(async () => {
    collector = await new RawCollector().start();
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await collector.close();
  });

  for (const variant of VARIANTS) {
    it(`${variant.name}: each call enters its queues, is answered there or abandons, ends once; the log agrees`, async () => {
      sim = await startSimulator({ providers: [variant.id], stepMs: 10, ...variant.options });
      sim.setWebhook(variant.id, collector.url);
      const provider = sim.provider(variant.id);
      const queues = provider.loadQueues.slice(0, 2);
      const log = await provider.playQueueLoad(LOAD);

      assert.equal(log.provider, variant.id);
      assert.equal(log.seed, LOAD.seed);
      assert.equal(log.stopped, false);
      assert.equal(log.calls.length, 8);
      assert.deepEqual(
        log.notes,
        variant.transfers
          ? []
          : [`transferRatio ignored: the call center's callbacks name no queue, so a move between queues cannot be shown`],
      );
      const results = log.calls.flatMap((c) => c.visits.map((v) => v.result));
      assert.ok(results.includes('answered') && results.includes('abandoned'), results.join());
      assert.equal(results.includes('moved'), variant.transfers, results.join());

      // What arrived, as Node-RED would read it.
      const tracker = new CallTracker();
      const byCall = new Map();
      for (const input of collector.inputs) {
        for (const event of variant.normalize(input)) {
          const out = tracker.apply(event);
          if (!out) continue;
          if (!byCall.has(out.callId)) byCall.set(out.callId, []);
          byCall.get(out.callId).push({ ...out, receivedAt: input.receivedAt.getTime() });
        }
      }
      assert.deepEqual([...byCall.keys()].sort(), log.calls.map((c) => c.callId).sort());

      for (const call of log.calls) {
        const events = byCall.get(call.callId);
        const where = `${call.callId}: ${events.map((e) => `${e.event}@${e.extension}`).join(' ')}`;
        // Entering: the queues of the log, in its order, at or after the logged moments.
        const entries = events.map((e) => ({ queue: variant.entered(e, queues), at: e.receivedAt })).filter((x) => x.queue);
        assert.deepEqual(
          entries.map((x) => x.queue),
          call.visits.map((v) => v.queue),
          where,
        );
        call.visits.forEach((v, i) => assert.ok(entries[i].at >= v.enteredAt, where));
        // Answers: by an agent of the visit's queue, one per answered visit, none otherwise.
        const answers = events.filter((e) => e.event === 'answered' && !isQueueHop(queues)(e));
        const answeredVisits = call.visits.filter((v) => v.answeredAt !== undefined);
        assert.equal(answers.length, answeredVisits.length, where);
        answeredVisits.forEach((v, i) => {
          assert.ok(provider.loadAgents(v.queue).includes(answers[i].extension), where);
          assert.ok(answers[i].receivedAt >= v.answeredAt && v.answeredAt > v.enteredAt, where);
          if (i > 0 && variant.id === '3cx-webapi') assert.equal(answers[i].transfer, 'blind', where);
        });
        // One final hangup, matching how the last visit ended.
        const hangups = events.filter((e) => e.event === 'hangup');
        assert.equal(hangups.length, 1, where);
        const last = call.visits.at(-1);
        assert.ok(hangups[0].receivedAt >= last.endedAt && last.endedAt >= (last.answeredAt ?? last.enteredAt), where);
        assert.equal(hangups[0].call.outcome, answeredVisits.length ? 'answered' : 'missed', where);
        if (last.result === 'abandoned' && variant.id !== 'cloud-callcenter') assert.equal(hangups[0].extension, last.queue, where);
        if (last.result === 'answered') assert.equal(hangups[0].extension, answers.at(-1).extension, where);
        // A move ends one visit where the next begins, its talk with it.
        call.visits.slice(0, -1).forEach((v, i) => {
          assert.equal(v.result, 'moved', where);
          assert.equal(v.endedAt, call.visits[i + 1].enteredAt, where);
          assert.equal(v.talkEndedAt, v.endedAt, where);
        });
        const summary = tracker.summaryOf(call.callId);
        // 3CX counts a blind transfer at the pickup that names it (Trtype Blind): not when the caller gives up in the next queue.
        const pickedUpAfterMove = call.visits.slice(1).filter((v) => v.answeredAt !== undefined).length;
        assert.equal(summary.transfers, variant.id === '3cx-webapi' ? pickedUpAfterMove : 0, where);
      }

      // The ground truth's offered counts are the entering events the wallboard saw.
      const figures = queueLoadFigures(log, { since: log.startedAt, now: log.endedAt, serviceLevelSeconds: 20, queues });
      const entered = [...byCall.values()]
        .flat()
        .map((e) => variant.entered(e, queues))
        .filter(Boolean);
      assert.deepEqual(
        figures.map((f) => f.offered),
        queues.map((q) => entered.filter((x) => x === q).length),
      );
      assert.equal(
        figures.reduce((n, f) => n + f.answered + f.abandoned, 0),
        log.calls.reduce((n, c) => n + c.visits.filter((v) => v.result !== 'moved' || v.answeredAt).length, 0),
      );
      assert.ok(figures.every((f) => f.waitingNow === 0));
    });
  }

  it('agents taken by a load call show busy while they talk (3CX queue.free, call center GetQueueSipStatus, VoipNow presence)', async () => {
    sim = await startSimulator({ stepMs: 5 });
    for (const p of sim.providers) sim.setWebhook(p.id, collector.url);
    const seen = [];
    collector.onInput = (input) => {
      // At the answer's arrival the agent is taken: what each provider's status says now.
      const f = { ...input.query, ...(typeof input.body === 'object' ? input.body : {}) };
      if (f.Event === 'incomingcall_started') seen.push(['3cx', f.User, statusOf3cx(f.User)]);
      if (f.event === 'answer-incoming') seen.push(['voipnow', f.CalledExtension, statusOfVoipNow(f.CalledExtension)]);
      if (f.status === 'answer') seen.push(['cc', f.extnumber, statusOfCallCenter(f.extnumber)]);
    };
    const statusOf3cx = (ext) =>
      sim
        .provider('3cx-webapi')
        .state()
        .extensions.find((e) => e.num === ext).status;
    const statusOfVoipNow = (ext) =>
      sim
        .provider('voipnow')
        .state()
        .extensions.find((e) => e.number === ext).status;
    const statusOfCallCenter = (ext) =>
      sim
        .provider('cloud-callcenter')
        .state()
        .extensions.find((e) => e.extnumber === ext).status;
    const one = { seed: 5, calls: 1, ratePerSecond: 50, answerRatio: 1, waitMs: 20, talkMs: 300 };
    await Promise.all(sim.providers.map((p) => p.playQueueLoad(one)));
    assert.deepEqual(seen.map(([p, , status]) => [p, status]).sort(), [
      ['3cx', 'Talking'],
      ['cc', 1204],
      ['voipnow', 3],
    ]);
    // Free again once the call ended.
    assert.equal(statusOf3cx(seen.find(([p]) => p === '3cx')[1]), 'Free');
    assert.equal(statusOfCallCenter(seen.find(([p]) => p === 'cc')[1]), 1201);
  });

  it('queue.free of 3CX leaves out the agent a load call talks with', async () => {
    sim = await startSimulator({ providers: ['3cx-webapi'], stepMs: 5 });
    sim.setWebhook('3cx-webapi', collector.url);
    const free = [];
    collector.onInput = (input) => {
      if (input.body?.Event === 'incomingcall_started') {
        const reply = sim.provider('3cx-webapi').handle({
          method: 'GET',
          url: new URL(`http://x/webapi/demo-3cx-access-key/queue.free?num=807`),
          headers: {},
          rawBody: Buffer.alloc(0),
        });
        free.push([input.body.User, reply.body.members.map((m) => m.num)]);
      }
    };
    await sim
      .provider('3cx-webapi')
      .playQueueLoad({ seed: 1, calls: 1, ratePerSecond: 50, queues: ['807'], answerRatio: 1, waitMs: 10, talkMs: 100 });
    assert.deepEqual(free, [['117', ['204']]]);
  });

  it('at most maxConcurrent calls at once: a call due while they last starts when one ends', async () => {
    sim = await startSimulator({ providers: ['cloud-callcenter'], stepMs: 0 });
    sim.setWebhook('cloud-callcenter', collector.url);
    const log = await sim
      .provider('cloud-callcenter')
      .playQueueLoad({ seed: 11, calls: 6, ratePerSecond: 100, maxConcurrent: 2, answerRatio: 0.5, waitMs: 40, abandonMs: 40, talkMs: 40 });
    const spans = log.calls.map((c) => [c.visits[0].enteredAt, c.visits.at(-1).endedAt]);
    const most = Math.max(...spans.map(([start]) => spans.filter(([s, e]) => s <= start && e > start).length));
    assert.equal(log.calls.length, 6);
    assert.ok(most <= 2, JSON.stringify(spans));
  });

  it("endless (the command's demo load): keeps no log, goes on until stopped, then sends nothing more", async () => {
    sim = await startSimulator({ providers: ['3cx-webapi'], stepMs: 0 });
    sim.setWebhook('3cx-webapi', collector.url);
    const provider = sim.provider('3cx-webapi');
    let hangups = 0;
    let enough;
    const reached = new Promise((r) => (enough = r));
    collector.onInput = (input) => {
      if (input.body?.Event === 'incoming' && ++hangups === 12) enough();
    };
    const running = provider.playQueueLoad({ calls: 2, ratePerSecond: 100, waitMs: 5, abandonMs: 5, talkMs: 5 }, { endless: true });
    await reached; // past `calls`: endless ignores it
    provider.stopQueueLoad();
    const log = await running;
    assert.equal(log.stopped, true);
    assert.deepEqual(log.calls, []);
    const count = collector.inputs.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(collector.inputs.length, count);
  });

  it('control API: POST /_sim/queue-load answers the log; 400 on bad options, 409 without a target; reset stops a load', async () => {
    sim = await startSimulator({ providers: ['voipnow'], stepMs: 5 });
    const post = async (body) => {
      const res = await fetch(`${sim.url}/_sim/queue-load`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    assert.equal((await post({ provider: 'voipnow', calls: 2 })).status, 409);
    sim.setWebhook('voipnow', collector.url);
    const bad = await post({ provider: 'voipnow', calls: 10001 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /calls must be an integer from 1 to 10000/);
    assert.equal((await post({ provider: 'voipnow', queues: ['0003*999'] })).status, 400);
    assert.equal(collector.inputs.length, 0);
    const ok = await post({ provider: 'voipnow', seed: 3, calls: 2, ratePerSecond: 50, waitMs: 10, abandonMs: 10, talkMs: 10 });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.calls.length, 2);
    assert.equal(ok.body.stopped, false);
    assert.ok(ok.body.calls.every((c) => c.visits.length === 1 && c.visits[0].endedAt >= c.visits[0].enteredAt));

    // A long load, stopped by a reset: the log says so, nothing is sent after.
    const long = sim.provider('voipnow').playQueueLoad({ seed: 2, calls: 100, ratePerMinute: 6, waitMs: 60000, abandonMs: 60000 });
    const reset = await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    assert.equal(reset.status, 200);
    const stopped = await long;
    assert.equal(stopped.stopped, true);
    // Seed 2 plans the first arrival 13 s in: the reset came first.
    assert.deepEqual(stopped.calls, []);
    const count = collector.inputs.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(collector.inputs.length, count);
  });
});
