'use strict';
// Flows used by the integration tests: every output of the package's nodes is posted to a
// collector, and each action node is reachable over an http-in endpoint.

const wrapOutput =
  'msg.payload = { topic: msg.topic, payload: msg.payload, raw: msg.raw, pbx: msg.pbx, status: msg.status, error: msg.error }; return msg;';
const unpackRequest =
  'const body = msg.payload || {}; msg.operation = body.operation; msg.query = body.query; msg.payload = body.params || {}; return msg;';
const wrapError = 'msg.payload = { error: msg.error, pbx: msg.pbx }; msg.statusCode = 500; return msg;';

function post(id, url, z) {
  return {
    id,
    type: 'http request',
    z,
    name: '',
    method: 'POST',
    ret: 'txt',
    paytoqs: 'ignore',
    url,
    tls: '',
    persist: false,
    proxy: '',
    insecureHTTPParser: false,
    authType: '',
    senderr: false,
    headers: [],
    wires: [],
  };
}

function fn(id, func, wires, z) {
  return {
    id,
    type: 'function',
    z,
    name: id,
    func,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    wires: [wires],
  };
}

/**
 * @param {object} o
 * @param {string} o.collector  collector base URL
 * @param {object} o.config     pbx-config node properties (id 'cfg'), credentials inline
 * @param {string} [o.prefix]   http-in path prefix
 */
function integrationFlows({ collector, config, prefix = '/it' }) {
  const z = 'tab-it';
  const nodes = [
    { id: z, type: 'tab', label: 'integration' },
    { id: 'cfg', type: 'pbx-config', ...config },
  ];
  nodes.push(
    { id: 'ev', type: 'pbx-event', z, pbx: 'cfg', events: [], extension: '', direction: 'any', outputs: 1, wires: [['ev-wrap']] },
    fn('ev-wrap', wrapOutput, ['ev-post'], z),
    post('ev-post', `${collector}/events`, z),
    { id: 'st', type: 'status', z, scope: ['ev', 'act-call', 'act-status', 'act-queue'], wires: [['st-wrap']] },
    fn('st-wrap', wrapOutput, ['st-post'], z),
    post('st-post', `${collector}/status`, z),
    { id: 'err', type: 'catch', z, scope: null, uncaught: false, wires: [['err-wrap', 'err-reply']] },
    fn('err-wrap', wrapOutput, ['err-post'], z),
    post('err-post', `${collector}/errors`, z),
    fn('err-reply', wrapError, ['err-res'], z),
    { id: 'err-res', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
  );
  for (const [type, path] of [
    ['pbx-call', 'call'],
    ['pbx-status', 'status'],
    ['pbx-queue', 'queue'],
  ]) {
    nodes.push(
      {
        id: `in-${path}`,
        type: 'http in',
        z,
        url: `${prefix}/${path}`,
        method: 'post',
        upload: false,
        swaggerDoc: '',
        wires: [[`unpack-${path}`]],
      },
      fn(`unpack-${path}`, unpackRequest, [`act-${path}`], z),
      { id: `act-${path}`, type, z, pbx: 'cfg', operation: '', query: '', wires: [[`wrap-${path}`]] },
      fn(`wrap-${path}`, wrapOutput, [`res-${path}`], z),
      { id: `res-${path}`, type: 'http response', z, statusCode: '', headers: {}, wires: [] },
    );
  }
  // Node-RED treats a node without a position as a config node.
  return nodes.map((n, i) => (n.type === 'tab' || n.type === 'pbx-config' ? n : { x: 100 + (i % 6) * 160, y: 40 + i * 20, ...n }));
}

/**
 * An action node reachable over HTTP: POST `url` with `{ operation | query, params }` → `action`
 * (ids `in-<name>`, `unpack-<name>`, `action.id`, `wrap-<name>`, `res-<name>`) → the answer.
 */
function actionEndpoint({ name, url, action, z }) {
  return [
    { id: `in-${name}`, type: 'http in', z, url, method: 'post', upload: false, swaggerDoc: '', wires: [[`unpack-${name}`]] },
    fn(`unpack-${name}`, unpackRequest, [action.id], z),
    { z, ...action, wires: [[`wrap-${name}`]] },
    fn(`wrap-${name}`, wrapOutput, [`res-${name}`], z),
    { id: `res-${name}`, type: 'http response', z, statusCode: '', headers: {}, wires: [] },
  ];
}

/** Positions for every flow node: Node-RED treats a node without a position as a config node. */
function laidOut(nodes) {
  return nodes.map((n, i) => (n.type === 'tab' || n.type === 'pbx-config' ? n : { x: 100 + (i % 6) * 160, y: 40 + i * 20, ...n }));
}

/** A `pbx-event` node of config `cfg` on tab `z` passing every event to `to`, at the top left. */
function eventNode(id, to, z = 'tab') {
  return { id, type: 'pbx-event', z, pbx: 'cfg', events: [], extension: '', direction: 'any', outputs: 1, wires: [[to]], x: 100, y: 100 };
}

module.exports = { eventNode, integrationFlows, actionEndpoint, laidOut, fn, post, wrapOutput, unpackRequest, wrapError };
