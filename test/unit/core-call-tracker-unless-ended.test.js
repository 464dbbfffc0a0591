'use strict';
// The adapter hint `unlessEnded`: a hangup a provider repeats with a later delivery (3CX Creomate
// sends its recording on a second call-end event) counts only when the call has not ended yet.
const assert = require('node:assert/strict');
const { CallTracker } = require('../../dist/core/call-tracker');
const { callEvent: event } = require('../helpers/expect');

describe('core: call tracker, hangup only while the call is open (unlessEnded)', () => {
  it('drops a marked hangup of a call that already ended, and keeps its summary', () => {
    const tracker = new CallTracker();
    tracker.apply(event('c1', 'answered', { extension: '105' }));
    const first = tracker.apply(event('c1', 'hangup', { outcome: 'answered', durationSeconds: 5, hangupCause: 'declined' }));
    assert.equal(first.call.outcome, 'answered');
    const again = tracker.apply(
      event('c1', 'hangup', {
        outcome: 'missed',
        durationSeconds: 9,
        hangupCause: 'other',
        unlessEnded: true,
        timestamp: '2026-01-01T00:01:00.000Z',
      }),
    );
    assert.equal(again, undefined);
    const rec = tracker.apply(event('c1', 'recording', { recordingUrls: ['https://pbx.test/r.mp3'] }));
    assert.equal(rec.call.outcome, 'answered');
    assert.equal(rec.call.durationSeconds, 5);
    assert.equal(rec.call.hangupCause, 'declined');
    assert.equal(rec.call.endedAt, '2026-01-01T00:00:00.000Z');
  });

  it('emits a marked hangup of an open call as an ordinary hangup, without the marker', () => {
    const tracker = new CallTracker();
    tracker.apply(event('c2', 'answered', { extension: '105' }));
    const out = tracker.apply(event('c2', 'hangup', { outcome: 'answered', durationSeconds: 5, unlessEnded: true }));
    assert.equal(out.event, 'hangup');
    assert.equal('unlessEnded' in out, false);
    assert.equal(out.call.durationSeconds, 5);
    assert.equal(tracker.apply(event('c2', 'hangup', { outcome: 'answered', unlessEnded: true })), undefined);
  });

  it('still emits an unmarked repeated hangup, as before', () => {
    const tracker = new CallTracker();
    tracker.apply(event('c3', 'hangup', { outcome: 'missed' }));
    assert.equal(tracker.apply(event('c3', 'hangup', { outcome: 'missed' })).event, 'hangup');
  });

  it('a marked hangup of a call never seen starts and ends it', () => {
    const tracker = new CallTracker();
    const out = tracker.apply(event('c4', 'hangup', { outcome: 'missed', unlessEnded: true }));
    assert.equal(out.call.outcome, 'missed');
    assert.equal('unlessEnded' in out, false);
  });
});
