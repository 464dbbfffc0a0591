'use strict';
// Small assertion helpers shared by the unit and hardening tests.
const assert = require('node:assert/strict');

/** The error `promise` rejects with; fails the test when it resolves. */
async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected a failure');
}

/** A normalized call event as the tracker receives it (3CX, inbound), with `extra` fields. */
const callEvent = (callId, event, extra = {}) => ({
  event,
  provider: '3cx-webapi',
  providerEvent: event,
  callId,
  direction: 'inbound',
  timestamp: '2026-01-01T00:00:00.000Z',
  ...extra,
});

module.exports = { failure, callEvent };
