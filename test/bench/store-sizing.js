#!/usr/bin/env node
'use strict';
// Cluster-mode sizing: Redis keys per call and Redis memory per 10,000 calls, for the README's
// sizing advice, with the real key layout: each 3CX webhook of the documented scenarios (round
// robin over all of them) goes through the package's own normalizer and SharedCalls over a
// RedisStore, as a replica's webhook endpoint does. One delivery writes `seen:<sha256>` (the
// exactly-once claim, 10 minutes) and updates `call:<callId>` (the call's state, 6 hours), all
// under `{keyPrefix}{config id}:`. `INFO memory` and DBSIZE are read before, after, and once the
// claims are gone (as 10 minutes later), on a redis-server of its own. Bounded in calls and time.
// Prints one JSON line. Knobs: BENCH_STORE_CALLS (10000), BENCH_STORE_SECONDS (120).
const { createClient } = require('@redis/client');
const { RedisStore } = require('../../dist/core/state');
const { SharedCalls, SHARED_DUPLICATE_WINDOW_MS, SHARED_CALL_TTL_MS } = require('../../dist/core/shared-calls');
const { DuplicateFilter } = require('../../dist/core/duplicate-filter');
const { CallTracker } = require('../../dist/core/call-tracker');
const { normalize3cxWebhook } = require('../../dist/providers/3cx-webapi/webhook');
const { THREE_CX_SCENARIOS } = require('../../dist/simulator/3cx-scenarios');
const { startRedis } = require('../helpers/redis-server');

const CALLS = Number(process.env.BENCH_STORE_CALLS) || 10000;
const SECONDS = Number(process.env.BENCH_STORE_SECONDS) || 120;
/** Replicas writing at once, each with its own connection and line of deliveries. */
const WRITERS = 8;
const KEY_PREFIX = 'pbx:';
/** A Node-RED node id, as the config node's id is in the keys. */
const CONFIG_ID = '5f3a9c1e7b2d4068';
const SCENARIOS = Object.values(THREE_CX_SCENARIOS);

async function usedMemory(raw) {
  return Number(/used_memory:(\d+)/.exec(await raw.info('memory'))[1]);
}

/** The webhooks of call `n` in the POST scheme, as the simulator sends them (the body text of each). */
function deliveriesOf(n) {
  const scenario = SCENARIOS[n % SCENARIOS.length];
  const base = `${260101120000 + Math.floor(n / 1000)}_${n % 1000}`;
  const caller = `+4420794${String(n % 100000).padStart(5, '0')}`;
  return scenario.steps.map((step) => {
    const id = `${base}-${step.leg}`;
    const fields = { Event: step.Event };
    if (step.Event === 'recording') fields.FileUrls = [`https://pbx.example.com/webapi/recording/${id}-1.mp3`];
    fields.Callerid = step.makecall ? 'MAKECALL' : caller;
    fields.User = step.User;
    if (step.Usertype) fields.Usertype = step.Usertype;
    if (step.Trtype) fields.Trtype = step.Trtype;
    if (step.Finishtype) fields.Finishtype = step.Finishtype;
    if (step.Transfer) fields.Transfer = step.Transfer;
    if (step.Event !== 'recording' && step.Event !== 'dialing') fields.Did = '02071230000';
    if (step.Duration !== undefined) fields.Duration = step.Duration;
    fields.Id = id;
    return JSON.stringify(fields);
  });
}

/** Deletes the keys matching `pattern`; returns how many. */
async function deleteMatching(raw, pattern) {
  let deleted = 0;
  for await (const keys of raw.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    const list = Array.isArray(keys) ? keys : [keys];
    if (list.length) deleted += await raw.del(list);
  }
  return deleted;
}

/** Mean `MEMORY USAGE` of up to `n` keys matching `pattern`. */
async function meanKeyBytes(raw, pattern, n = 200) {
  const sizes = [];
  for await (const keys of raw.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    for (const key of Array.isArray(keys) ? keys : [keys]) {
      if (sizes.length < n) sizes.push(Number(await raw.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])));
    }
    if (sizes.length >= n) break;
  }
  return Math.round(sizes.reduce((a, s) => a + s, 0) / sizes.length);
}

async function main() {
  const server = await startRedis();
  const raw = createClient({ url: server.url });
  raw.on('error', () => undefined);
  await raw.connect();
  const writers = Array.from({ length: WRITERS }, () => {
    const store = new RedisStore({ url: server.url, keyPrefix: KEY_PREFIX, configId: CONFIG_ID, commandTimeoutMs: 5000 });
    const shared = new SharedCalls({
      store,
      redisDown: 'reject',
      local: { duplicates: new DuplicateFilter(), tracker: new CallTracker() },
    });
    return { store, shared };
  });
  const until = Date.now() + SECONDS * 1000;
  try {
    for (const w of writers) while (!w.store.isUp) await new Promise((r) => setTimeout(r, 10));
    const memoryBefore = await usedMemory(raw);
    const keysBefore = await raw.dbSize();
    let next = 0;
    let calls = 0;
    let deliveries = 0;
    let events = 0;
    const write = async ({ shared }) => {
      while (next < CALLS && Date.now() < until) {
        const n = next++;
        for (const body of deliveriesOf(n)) {
          const input = { method: 'POST', query: {}, rawQuery: '', body: JSON.parse(body), receivedAt: new Date() };
          const outcome = await shared.take(`POST\n\n${body}`, normalize3cxWebhook(input));
          if (!Array.isArray(outcome)) throw new Error(`delivery of call ${n} ${outcome}`);
          const failed = outcome.find((e) => e instanceof Error);
          if (failed) throw failed;
          deliveries++;
          events += outcome.filter(Boolean).length;
        }
        calls++;
      }
    };
    const started = Date.now();
    await Promise.all(writers.map(write));
    const seconds = (Date.now() - started) / 1000;
    const keys = (await raw.dbSize()) - keysBefore;
    const bytes = (await usedMemory(raw)) - memoryBefore;
    const base = `${KEY_PREFIX}${CONFIG_ID}:`;
    const seenKeyBytes = await meanKeyBytes(raw, `${base}seen:*`);
    const callKeyBytes = await meanKeyBytes(raw, `${base}call:*`);
    // 10 minutes later the claims have expired; only the calls' state is left (for 6 hours).
    const claims = await deleteMatching(raw, `${base}seen:*`);
    const keysAfterWindow = (await raw.dbSize()) - keysBefore;
    const bytesAfterWindow = (await usedMemory(raw)) - memoryBefore;
    const version = /redis_version:(\S+)/.exec(await raw.info('server'))[1];
    const per10k = (b) => Number(((b / calls) * 10000) / 1048576).toFixed(2);
    console.log(
      JSON.stringify({
        redis: version,
        calls,
        scenarios: SCENARIOS.length,
        deliveriesPerCall: Number((deliveries / calls).toFixed(2)),
        eventsPerCall: Number((events / calls).toFixed(2)),
        keys,
        claims,
        keysPerCall: Number((keys / calls).toFixed(2)),
        keysPerCallAfterWindow: Number((keysAfterWindow / calls).toFixed(2)),
        bytesPerCall: Math.round(bytes / calls),
        mbPer10kCalls: Number(per10k(bytes)),
        mbPer10kCallsAfterWindow: Number(per10k(bytesAfterWindow)),
        seenKeyBytes,
        callKeyBytes,
        claimTtlMinutes: SHARED_DUPLICATE_WINDOW_MS / 60000,
        callTtlHours: SHARED_CALL_TTL_MS / 3600000,
        seconds: Number(seconds.toFixed(1)),
        deliveriesPerSecond: Math.round(deliveries / seconds),
        complete: calls === CALLS,
      }),
    );
  } finally {
    for (const w of writers) await w.store.close();
    await raw.destroy();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
