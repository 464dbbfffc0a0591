'use strict';
// The call tracker as a pure reducer over (state, event), the form a shared store (cluster mode)
// uses: the state is plain JSON and is never changed in place, and a call played event by event
// through JSON round trips gives the same summaries as the in-process tracker.
const assert = require('node:assert/strict');
const { threeCxScenarios } = require('../helpers/vendor-docs');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { parseWebhookBody, parseForm } = require('../../dist/core/webhook-router');
const { CallTracker, reduceCall, MAX_LEGS_PER_CALL } = require('../../dist/core/call-tracker');

const AT = new Date('2026-11-29T08:00:00.000Z');
const NOW = AT.getTime();

function eventsOf(scenario) {
  return scenario.rows.flatMap((row) => {
    if (scenario.scheme === 'post') {
      const parsed = parseWebhookBody(row.payload, 'application/json');
      return normalize3cxWebhook({ method: 'POST', query: Object.create(null), rawQuery: '', body: parsed.body, receivedAt: AT });
    }
    const rawQuery = row.payload.includes('=') ? row.payload : encodeURIComponent(row.payload);
    return normalize3cxWebhook({ method: 'GET', query: parseForm(rawQuery), rawQuery, body: undefined, receivedAt: AT });
  });
}

/** Plays `events` through the reducer, storing each state as JSON as a shared store does. */
function playThroughStore(events) {
  const store = new Map();
  return events.map((event) => {
    const stored = store.get(event.callId);
    const { state, event: out } = reduceCall(stored === undefined ? undefined : JSON.parse(stored), event, NOW);
    store.set(event.callId, JSON.stringify(state));
    return out;
  });
}

describe('call reducer (state as plain JSON)', () => {
  const scenarios = threeCxScenarios();

  scenarios.forEach((scenario, i) => {
    it(`#${i + 1} ${scenario.scheme} "${scenario.title}": same events and summaries as the tracker`, () => {
      const events = eventsOf(scenario);
      const tracker = new CallTracker({ now: () => NOW });
      const expected = events.map((e) => tracker.apply(e));
      assert.deepEqual(playThroughStore(events), expected);
    });
  });

  it('the attended transfer: one summary with both answers, the transfer counted once, the talk time of both legs', () => {
    const out = playThroughStore(eventsOf(scenarios[1]));
    const last = out[out.length - 1];
    assert.equal(last.event, 'recording');
    assert.equal(last.call.transfers, 1);
    assert.deepEqual(
      last.call.route.map((h) => `${h.event}:${h.extension}`),
      // In arrival order: the document sends 204's ringing after its answer.
      ['ringing:800', 'ringing:820', 'ringing:117', 'answered:117', 'transfer:204', 'answered:204', 'ringing:204'],
    );
    assert.equal(last.call.durationSeconds, 20);
    assert.equal(last.call.answeredBy, '204');
    assert.equal(last.call.outcome, 'answered');
  });

  it('never changes the state it is given', () => {
    const [ringing, answered] = eventsOf(scenarios[0]).filter((e) => e.event !== 'ringing' || e.extension === '202');
    const first = reduceCall(undefined, ringing, NOW).state;
    const frozen = JSON.stringify(first);
    const second = reduceCall(first, answered, NOW + 1000).state;
    assert.equal(JSON.stringify(first), frozen);
    assert.equal(second.summary.answeredAt, answered.timestamp);
    assert.equal(second.touchedAt, NOW + 1000);
    assert.equal(first.touchedAt, NOW);
  });

  it('a leg named like a prototype property is an ordinary leg; legs stay bounded', () => {
    let state;
    const hangup = (legId, seconds) => ({
      event: 'hangup',
      provider: '3cx-webapi',
      providerEvent: 'incoming',
      callId: 'c1',
      legId,
      direction: 'inbound',
      durationSeconds: seconds,
      legTransferred: true,
      timestamp: AT.toISOString(),
    });
    for (const leg of ['__proto__', 'constructor', 'toString']) state = reduceCall(state, hangup(leg, 2), NOW).state;
    state = JSON.parse(JSON.stringify(state));
    assert.equal(Object.getPrototypeOf(state), Object.prototype);
    assert.equal(state.summary.durationSeconds, 6);
    for (let i = 0; i < MAX_LEGS_PER_CALL + 10; i++) state = reduceCall(state, hangup(`leg-${i}`, 1), NOW).state;
    assert.equal(state.legs.length, MAX_LEGS_PER_CALL);
    assert.equal(state.summary.durationSeconds, 6 + MAX_LEGS_PER_CALL - 3);
  });
});
