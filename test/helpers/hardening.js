'use strict';
// Shared by the hardening tests and the benchmark: one pbx-config per provider in one flow,
// every output, error and status posted to a collector; a simulator whose credentials (and the
// tokens it issues) are long distinctive values, so a leak scan can look for them anywhere.
const { Simulator, ThreeCxSimulator, VoipNowSimulator, CloudCallCenterSimulator } = require('../../dist/simulator');
const { fn, post, wrapOutput, unpackRequest, wrapError } = require('./flows');

/** Short labels used in node ids and URLs. */
const LABELS = { '3cx-webapi': 'tcx', voipnow: 'vn', 'cloud-callcenter': 'cc' };
const PROVIDER_IDS = Object.keys(LABELS);
const SIM_PREFIX = { '3cx-webapi': '/webapi', voipnow: '/voipnow', 'cloud-callcenter': '/callcenter' };

/** Every credential of every provider, long and distinctive; `tokenPrefix` starts every token the simulator issues. */
function distinctiveSecrets(tag = 'LEAKCHECK') {
  const long = (what) => `${tag}-${what}-${'7f3a9c2e51d4b8a6'.repeat(3)}`;
  return {
    '3cx-webapi': { accessKey: long('3cx-access-key'), webhookSecret: long('3cx-webhook-secret') },
    voipnow: { clientId: long('vn-client-id'), clientSecret: long('vn-client-secret'), webhookSecret: long('vn-webhook-secret') },
    'cloud-callcenter': { appId: long('cc-app-id'), appKey: long('cc-app-key'), webhookSecret: long('cc-webhook-secret') },
    tokenPrefix: `${tag}TOKEN`,
  };
}

/** A loopback simulator of all three providers accepting `secrets`. */
async function startSecretSimulator(secrets, { stepMs = 10, talkMs = 100 } = {}) {
  const sim = new Simulator([
    new ThreeCxSimulator({ accessKey: secrets['3cx-webapi'].accessKey, stepMs, talkMs }),
    new CloudCallCenterSimulator({ ...secrets['cloud-callcenter'], tokenPrefix: secrets.tokenPrefix, stepMs, talkMs }),
    new VoipNowSimulator({ ...secrets.voipnow, tokenPrefix: secrets.tokenPrefix, stepMs, talkMs }),
  ]);
  await sim.listen(0);
  return sim;
}

// Function nodes run in their own realm; the http-in msg is built in Node-RED's, so its prototype is
// the Object.prototype every package object shares.
const probe = [
  'const P = Object.getPrototypeOf(msg);',
  'msg.payload = { objectNames: Object.getOwnPropertyNames(P).sort(), polluted: P.polluted === undefined ? null : String(P.polluted) };',
  'return msg;',
].join('\n');

function httpIn(id, url, method, wires, z) {
  return { id, type: 'http in', z, url, method, upload: false, swaggerDoc: '', wires: [wires] };
}

/**
 * One tab with a pbx-config per provider (`cfg-<label>`, webhook at `/pbx/hd-<label>`), its
 * pbx-event posting to `{collector}/events/<label>`, its three action nodes behind
 * `POST /h/<label>/<call|status|queue>` (body `{ operation | query, params }`), a catch node
 * posting to `/errors` and answering 500, a status node posting to `/status`, and `GET /h/probe`.
 *
 * @param {object} o
 * @param {string} o.collector  collector base URL
 * @param {string} o.simUrl     simulator base URL (or a dead address)
 * @param {object} o.secrets    from distinctiveSecrets()
 * @param {number} [o.timeout]  pbx-config timeout (ms)
 * @param {string} [o.name]     config node name (changing it makes a redeploy replace the nodes)
 * @param {string[]} [o.providers]
 */
function providerFlows({ collector, simUrl, secrets, timeout = 600, name = 'hardening', providers = PROVIDER_IDS, pathSuffix = '' }) {
  const z = 'tab-hd';
  const nodes = [{ id: z, type: 'tab', label: 'hardening' }];
  const watched = [];
  for (const provider of providers) {
    const l = LABELS[provider];
    const { webhookSecret, ...creds } = secrets[provider];
    nodes.push({
      id: `cfg-${l}`,
      type: 'pbx-config',
      name: `${name} ${l}`,
      provider,
      baseUrl: `${simUrl}${SIM_PREFIX[provider]}`,
      webhookPath: `/pbx/hd-${l}${pathSuffix}`,
      timeout,
      rejectUnauthorized: true,
      allowFrom: '',
      credentials: { ...creds, webhookSecret },
    });
    nodes.push(
      {
        id: `ev-${l}`,
        type: 'pbx-event',
        z,
        pbx: `cfg-${l}`,
        events: [],
        extension: '',
        direction: 'any',
        outputs: 1,
        wires: [[`evw-${l}`]],
      },
      fn(`evw-${l}`, wrapOutput, [`evp-${l}`], z),
      post(`evp-${l}`, `${collector}/events/${l}`, z),
    );
    watched.push(`ev-${l}`);
    for (const [type, kind] of [
      ['pbx-call', 'call'],
      ['pbx-status', 'status'],
      ['pbx-queue', 'queue'],
    ]) {
      const act = `act-${l}-${kind}`;
      watched.push(act);
      nodes.push(
        httpIn(`in-${l}-${kind}`, `/h/${l}/${kind}`, 'post', [`unpack-${l}-${kind}`], z),
        fn(`unpack-${l}-${kind}`, unpackRequest, [act], z),
        { id: act, type, z, pbx: `cfg-${l}`, operation: '', query: '', wires: [[`wrap-${l}-${kind}`]] },
        fn(`wrap-${l}-${kind}`, wrapOutput, [`res-${l}-${kind}`], z),
        { id: `res-${l}-${kind}`, type: 'http response', z, statusCode: '', headers: {}, wires: [] },
      );
    }
  }
  nodes.push(
    { id: 'st', type: 'status', z, scope: watched, wires: [['st-wrap']] },
    fn('st-wrap', wrapOutput, ['st-post'], z),
    post('st-post', `${collector}/status`, z),
    { id: 'err', type: 'catch', z, scope: null, uncaught: false, wires: [['err-wrap', 'err-reply']] },
    fn('err-wrap', wrapOutput, ['err-post'], z),
    post('err-post', `${collector}/errors`, z),
    fn('err-reply', wrapError, ['err-res'], z),
    { id: 'err-res', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
    httpIn('probe-in', '/h/probe', 'get', ['probe-fn'], z),
    fn('probe-fn', probe, ['probe-res'], z),
    { id: 'probe-res', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
  );
  // Node-RED treats a node without a position as a config node.
  return nodes.map((n, i) => (n.type === 'tab' || n.type === 'pbx-config' ? n : { x: 120 + (i % 6) * 170, y: 40 + i * 20, ...n }));
}

/** Calls an action node of the flows above: `{ status, body }`. */
async function action(nrUrl, provider, kind, request) {
  const res = await fetch(`${nrUrl}/h/${LABELS[provider]}/${kind}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, text };
}

/** Every place a secret could be found, as lines naming where each occurrence is. */
function findSecrets(haystacks, needles) {
  const found = [];
  for (const [where, text] of haystacks) {
    for (const needle of needles) {
      if (!needle) continue;
      for (const form of new Set([needle, encodeURIComponent(needle)])) {
        const i = text.indexOf(form);
        if (i >= 0) found.push(`${where}: ${text.slice(Math.max(0, i - 120), i + form.length + 40).replace(/\s+/g, ' ')}`);
      }
    }
  }
  return found;
}

/** The secrets of `secrets` as a flat list (token prefix included: it starts every issued token). */
function secretValues(secrets) {
  const out = [secrets.tokenPrefix];
  for (const provider of PROVIDER_IDS) out.push(...Object.values(secrets[provider]));
  return out;
}

module.exports = {
  LABELS,
  PROVIDER_IDS,
  SIM_PREFIX,
  distinctiveSecrets,
  startSecretSimulator,
  providerFlows,
  action,
  findSecrets,
  secretValues,
};
