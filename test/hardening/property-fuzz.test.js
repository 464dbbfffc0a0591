'use strict';
// Property-based fuzz (fast-check) of every webhook normalizer, the call tracker, the webhook
// pipeline without Node-RED, every action parameter and every provider answer. Seeded and
// bounded: FUZZ_SEED (default fixed) and FUZZ_RUNS per property (default 200, the `npm test`
// slice; `npm run test:fuzz` runs 10,000). A failure prints fast-check's seed, path and shrunk
// counterexample; FUZZ_SEED=<seed> replays it.
const assert = require('node:assert/strict');
const { PROVIDERS } = require('../../dist/providers');
const { WebhookPayloadError, KNOWN_OPERATIONS, NODE_PARAMS } = require('../../dist/core/provider');
const { CallTracker } = require('../../dist/core/call-tracker');
const { Account } = require('../../dist/core/account');
const { PbxError } = require('../../dist/core/errors');
const { resolveParams } = require('../../dist/nodes/action-node');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');
const h = require('../helpers/fuzz-properties');

const { fc } = h;
const { numRuns } = h.fuzzSettings();
const PROVIDER_IDS = Object.keys(PROVIDERS);
const quiet = { debug() {}, warn() {} };
/** Hang guard only: generous per run, never a speed assertion. */
const guard = (msPerRun) => Math.max(60000, numRuns * msPerRun);

/** Runs a normalizer: its events, or [] when it refused the payload with WebhookPayloadError. Anything else fails. */
function normalize(definition, input) {
  let events;
  try {
    events = definition.normalizeWebhook(input);
  } catch (err) {
    if (err instanceof WebhookPayloadError) return [];
    assert.fail(`the normalizer threw ${err?.name ?? typeof err}, not WebhookPayloadError: ${err?.message ?? err}`);
  }
  assert.ok(Array.isArray(events), `the normalizer returned ${h.describe(events)}, not an array`);
  return events;
}

function applyTracked(tracker, event) {
  try {
    return tracker.apply(event);
  } catch (err) {
    return assert.fail(`the call tracker threw ${err?.name}: ${err?.message}`);
  }
}

describe('hardening: property-based fuzz (fast-check)', function () {
  describe('(a) every normalizer returns well-formed CallEvents or throws WebhookPayloadError', function () {
    this.timeout(guard(50));
    for (const id of PROVIDER_IDS) {
      it(`${id}: ${numRuns} deliveries (JSON, form, query, split, text, bare URL)`, () =>
        h.checkProperty(
          fc.property(h.deliveryArb(id), (delivery) => {
            for (const event of normalize(PROVIDERS[id], h.inputOf(delivery))) h.checkCallEvent(id, event);
          }),
        ));
    }
  });

  describe('(b) the call tracker keeps any sequence of well-formed events well-formed', function () {
    this.timeout(guard(50));
    it(`${numRuns} sequences of up to 30 events, with eviction by count and age`, () =>
      h.checkProperty(
        fc.property(
          fc
            .constantFrom(...PROVIDER_IDS)
            .chain((id) => fc.array(fc.tuple(h.callEventArb(id), fc.nat(4 * 60 * 60 * 1000)), { minLength: 1, maxLength: 30 })),
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1000, max: 6 * 60 * 60 * 1000 }),
          (steps, maxCalls, ttlMs) => {
            let now = 0;
            const tracker = new CallTracker({ maxCalls, ttlMs, now: () => now });
            for (const [event, advance] of steps) {
              now += advance;
              const before = structuredClone(event);
              const out = applyTracked(tracker, event);
              assert.deepEqual(event, before, 'apply changed the event it was given');
              h.checkCallEvent(event.provider, out, { tracked: true });
            }
            assert.ok(tracker.size <= maxCalls, `the tracker holds ${tracker.size} calls, more than maxCalls ${maxCalls}`);
          },
        ),
      ));
  });

  describe('(c) raw request → parseWebhookBody → normalizer → tracker throws nothing but WebhookPayloadError', function () {
    this.timeout(guard(100));
    for (const id of PROVIDER_IDS) {
      it(`${id}: ${numRuns} sequences of up to 4 raw requests; Account.deliver never throws`, () =>
        h.checkProperty(
          fc.property(fc.array(h.rawRequestArb(id), { minLength: 1, maxLength: 4 }), (requests) => {
            const definition = PROVIDERS[id];
            const tracker = new CallTracker();
            const account = new Account({
              settings: { provider: id, baseUrl: 'http://127.0.0.1:9', timeout: 1000, rejectUnauthorized: true, credentials: {} },
              definition,
              log: quiet,
            });
            const emitted = [];
            account.subscribe((event) => emitted.push(event));
            try {
              for (const request of requests) {
                const routed = h.routerInputOf(request);
                if (!routed) continue; // answered 4xx
                // The real pipeline first (a throw there is what took Node-RED down), then step by step.
                try {
                  account.deliver(routed.input, routed.fingerprint);
                } catch (err) {
                  assert.fail(`Account.deliver threw ${err?.name}: ${err?.message}`);
                }
                for (const event of normalize(definition, routed.input)) {
                  const out = applyTracked(tracker, event);
                  // A hangup marked unlessEnded of a call that has ended is dropped (undefined).
                  if (out !== undefined || !event.unlessEnded) h.checkCallEvent(id, out, { tracked: true });
                }
              }
              for (const event of emitted) h.checkCallEvent(id, event, { tracked: true });
            } finally {
              account.close();
            }
          }),
        ));
    }
  });

  describe('actions against the loopback simulator', function () {
    let sim;
    const accounts = {};
    /** Paths each adapter handed to its HttpClient during the current run. */
    const asked = {};

    before(async () => {
      sim = await startSimulator({ stepMs: 5, talkMs: 60000 });
      for (const id of PROVIDER_IDS) {
        const account = new Account({
          settings: {
            provider: id,
            baseUrl: sim.url + sim.provider(id).prefix,
            timeout: 2000,
            rejectUnauthorized: true,
            credentials: DEFAULT_CREDENTIALS[id],
          },
          definition: PROVIDERS[id],
          log: quiet,
          retryDelaysMs: [1, 2],
        });
        // The path an adapter asks for, before axios resolves dot segments away (http is private in TS only).
        const http = account.http;
        const send = http.send.bind(http);
        asked[id] = [];
        http.send = (req) => {
          asked[id].push(req.path);
          return send(req);
        };
        accounts[id] = account;
      }
    });

    after(async () => {
      for (const account of Object.values(accounts)) account.close();
      for (const p of sim?.providers ?? []) p.reset();
      await sim?.close();
    });

    /**
     * One action through a node's parameter resolution and the account: it resolves with a
     * payload or rejects with a PbxError of a SPEC code whose texts hold no credential; every
     * request the provider received is one the adapter asked for, below its base path, with no
     * dot segment and no prototype's text in it.
     */
    async function runChecked(id, operation, payload, answer) {
      const account = accounts[id];
      asked[id].length = 0;
      sim.requests.length = 0;
      sim.clearFaults();
      if (answer) sim.addFault({ pathPrefix: `${sim.provider(id).prefix}${id === 'voipnow' ? '/uapi' : ''}`, ...answer, times: 1 });
      let result;
      let error;
      try {
        const params = await resolveParams(undefined, undefined, {}, operation.node, { payload });
        result = await account.run(operation.node, operation.name, params);
      } catch (err) {
        error = err;
      }
      const what = `${operation.node} ${h.describe(operation.name)}`;
      if (error) {
        assert.ok(error instanceof PbxError, `${what} rejected with ${error?.name ?? typeof error}, not a PbxError: ${error?.message}`);
        assert.ok(
          h.SPEC_ERROR_CODES.includes(error.code),
          `${what}: error code is not a SPEC code: ${h.describe(error.code)} (providerCode ${h.describe(error.providerCode)})`,
        );
        const texts = [error.message, JSON.stringify(error.toJSON())];
        for (const text of texts) {
          assert.equal(account.redactor.redact(text), text, `${what}: an error text shows a credential or token`);
          for (const secret of Object.values(DEFAULT_CREDENTIALS[id]))
            assert.ok(!text.includes(secret), `${what}: an error text shows ${secret}`);
        }
        if (error.providerCode !== undefined) assert.equal(typeof error.providerCode, 'string', `${what}: providerCode is not a string`);
      } else {
        assert.ok(result && typeof result === 'object' && result.payload !== undefined, `${what} resolved without a payload`);
        h.checkCloneable(`the payload of ${what}`, result.payload);
      }
      const base = new URL(account.http.baseUrl).pathname.replace(/\/$/, '');
      for (const path of asked[id])
        assert.ok(!path.split('/').some(h.isDotSegment), `${what}: request path with a dot segment: ${h.describe(path)}`);
      const expected = new Set(asked[id].map((p) => base + p));
      const hostileText = Object.values(payload).some((v) => h.LEAKED_OBJECT_TEXT.test(JSON.stringify(v) ?? ''));
      for (const r of sim.requests) {
        assert.ok(
          r.path === base || r.path.startsWith(`${base}/`),
          `${what}: request outside the base path ${base}: ${h.describe(r.path)}`,
        );
        assert.ok(expected.has(r.path), `${what}: the provider received ${h.describe(r.path)}, not a path the adapter asked for`);
        const sent = `${r.path}?${JSON.stringify(r.query)}\n${r.body}`;
        const leak = hostileText ? null : h.LEAKED_OBJECT_TEXT.exec(sent);
        if (leak)
          assert.fail(
            `${what}: a request carries an object's text: ${JSON.stringify(sent.slice(Math.max(0, leak.index - 40), leak.index + 30))}`,
          );
      }
    }

    describe('(d) every action parameter: a payload or a PbxError of a SPEC code, never a request outside the base path', function () {
      this.timeout(guard(250));
      for (const id of PROVIDER_IDS) {
        it(`${id}: ${numRuns} operations of its table with generated msg.payload parameters`, () =>
          h.checkProperty(
            fc.asyncProperty(
              h
                .operationArb(PROVIDERS[id], KNOWN_OPERATIONS)
                .chain((operation) =>
                  fc.tuple(fc.constant(operation), h.actionPayloadArb(id, NODE_PARAMS[operation.node], DEFAULT_CREDENTIALS[id])),
                ),
              ([operation, payload]) => runChecked(id, operation, payload),
            ),
          ));
      }
    });

    describe('(e) every provider answer: a payload or a PbxError of a SPEC code', function () {
      this.timeout(guard(250));
      for (const id of PROVIDER_IDS) {
        it(`${id}: ${numRuns} operations answered once with a generated body and status`, () =>
          h.checkProperty(
            fc.asyncProperty(
              fc
                .constantFrom(...PROVIDERS[id].operations)
                .chain((o) =>
                  fc.tuple(
                    fc.constant({ name: o.name, node: o.node }),
                    h.validPayloadArb(id, NODE_PARAMS[o.node]),
                    h.providerAnswerArb(id, DEFAULT_CREDENTIALS[id]),
                  ),
                ),
              ([operation, payload, answer]) => runChecked(id, operation, payload, answer),
            ),
          ));
      }
    });
  });
});
