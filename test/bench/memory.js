'use strict';
// Memory under endless traffic: 1,000,000 webhook deliveries over 100,000 distinct calls, driven
// straight into one account's pipeline (duplicate filter → 3CX normalizer → call tracker → a
// subscriber), in process: the HTTP path would need minutes for a million. 1,000 calls are live at
// a time, each playing the 10 webhooks of the documented attended-transfer scenario. Run as a
// child process (`node test/bench/memory.js`); prints one JSON line.
const v8 = require('node:v8');
const vm = require('node:vm');
const { Account } = require('../../dist/core/account');
const { CallTracker } = require('../../dist/core/call-tracker');
const { PROVIDERS } = require('../../dist/providers');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const EVENTS = Number(process.env.BENCH_EVENTS) || 1_000_000;
const CALLS = Number(process.env.BENCH_CALLS) || 100_000;
const LIVE = 1000;
const STEPS = [
  { Event: 'ringing', User: '800', Usertype: 'other', leg: 0 },
  { Event: 'ringing', User: '820', Usertype: 'queue', leg: 0 },
  { Event: 'ringing', User: '117', Usertype: 'ext', leg: 0 },
  { Event: 'incomingcall_started', User: '117', Trtype: 'NotDef', leg: 1 },
  { Event: 'incomingcall_started', User: '204', Trtype: 'Attended', leg: 2 },
  { Event: 'ringing', User: '204', Usertype: 'ext', leg: 1 },
  { Event: 'incoming', User: '117', Finishtype: 'Ok', Duration: '00:14', Transfer: 'True', leg: 1 },
  { Event: 'incoming', User: '204', Finishtype: 'Ok', Duration: '00:06', Transfer: 'False', leg: 2 },
  { Event: 'recording', User: '204', FileUrls: ['http://pbx.test/recording/x-2-1.mp3'], leg: 2 },
  { Event: 'recording', User: '117', FileUrls: ['http://pbx.test/recording/x-1-1.mp3'], leg: 1 },
];

const heap = () => {
  gc();
  gc();
  return process.memoryUsage();
};

function delivery(call, step) {
  const { leg, ...fields } = STEPS[step];
  const body = { ...fields, Id: `260301${String(call).padStart(6, '0')}_${call % 97}-${leg}`, Callerid: '05551239988', Did: '0211' };
  return { input: { method: 'POST', query: Object.create(null), rawQuery: '', body, receivedAt: new Date() }, text: JSON.stringify(body) };
}

/**
 * The tracker alone, full: heap per tracked call. Measured after `main` has returned, when its
 * account is out of every scope: a collection of the account's 10,000 calls between the two heap
 * readings would otherwise come out as a negative size.
 */
function bytesPerTrackedCall() {
  const before = heap().heapUsed;
  const tracker = new CallTracker();
  for (let call = 0; call < 10_000; call++) {
    for (let step = 0; step < STEPS.length; step++) {
      const [event] = PROVIDERS['3cx-webapi'].normalizeWebhook(delivery(call, step).input);
      tracker.apply(event);
    }
  }
  const full = heap().heapUsed;
  return (full - before) / tracker.size;
}

function main() {
  const empty = heap();
  const account = new Account({
    settings: { provider: '3cx-webapi', baseUrl: 'http://127.0.0.1:9/webapi', timeout: 1000, rejectUnauthorized: true, credentials: {} },
    definition: PROVIDERS['3cx-webapi'],
    log: { debug: () => undefined, warn: () => undefined },
  });
  let emitted = 0;
  account.subscribe(() => emitted++);
  const accountOnly = heap();
  const samples = [];
  const perCall = EVENTS / CALLS;
  const start = process.hrtime.bigint();
  let delivered = 0;
  // Batches of LIVE calls; within a batch the calls' steps interleave.
  for (let first = 0; first < CALLS && delivered < EVENTS; first += LIVE) {
    for (let step = 0; step < perCall; step++) {
      for (let call = first; call < first + LIVE; call++) {
        const d = delivery(call, step % STEPS.length);
        account.deliver(d.input, `POST\n\n${d.text}`);
        delivered++;
      }
    }
    if (delivered % 100_000 === 0) {
      const m = heap();
      samples.push({ events: delivered, rss: m.rss, heapUsed: m.heapUsed, tracked: account.tracker.size });
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  account.close();

  const warm = samples.find((s) => s.events >= 200_000) ?? samples[0];
  const last = samples.at(-1);
  return {
    events: delivered,
    calls: CALLS,
    emitted,
    seconds,
    eventsPerSecond: delivered / seconds,
    rssStart: empty.rss,
    rssAccount: accountOnly.rss,
    warm,
    last,
    samples,
    heapGrowthAfterWarmup: last.heapUsed - warm.heapUsed,
    rssGrowthAfterWarmup: last.rss - warm.rss,
    trackerSize: last.tracked,
  };
}

const result = main();
result.bytesPerTrackedCall = bytesPerTrackedCall();
process.stdout.write(`${JSON.stringify(result)}\n`);
