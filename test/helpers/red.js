'use strict';
// node-red-node-test-helper set up once for all node tests, with the package's five node files.
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const supertest = require('supertest');
const { i18n } = require('@node-red/util');
const PACKAGE = require('../../package.json');

helper.init(require.resolve('node-red'));

const configNode = require('../../nodes/pbx-config.js');
let httpNode;
// Captures the runtime's httpNode app so tests can send webhooks to it.
const capturingConfigNode = (RED) => {
  httpNode = RED.httpNode;
  return configNode(RED);
};

const NODES = [
  capturingConfigNode,
  require('../../nodes/pbx-event.js'),
  require('../../nodes/pbx-call.js'),
  require('../../nodes/pbx-status.js'),
  require('../../nodes/pbx-queue.js'),
];

let catalogsLoaded;
/** Registers the package's en-US message catalogs the way Node-RED does for an installed package (once). */
function loadCatalogs() {
  catalogsLoaded ??= (async () => {
    i18n.init({ lang: 'en-US' });
    const dir = path.resolve(__dirname, '../../nodes/locales');
    for (const set of Object.keys(PACKAGE['node-red'].nodes))
      await i18n.registerMessageCatalog(`${PACKAGE.name}/${set}`, dir, `${set}.json`);
  })();
  return catalogsLoaded;
}

/** The package's nodes, seeing Node-RED's real message catalogs instead of the helper's `RED._` (which hands keys back). */
const NODES_WITH_CATALOGS = NODES.map((node) => (RED) => node(Object.create(RED, { _: { value: i18n._ } })));

/**
 * Loads a flow with every package node available; resolves once it runs. With `catalogs`, the
 * nodes show the texts of nodes/locales/en-US, as in a real Node-RED.
 */
async function load(flow, credentials = {}, { catalogs = false } = {}) {
  if (catalogs) await loadCatalogs();
  await helper.load(catalogs ? NODES_WITH_CATALOGS : NODES, flow, credentials);
}

/** An HTTP client for Node-RED's httpNode app (where webhooks arrive). */
function webhook() {
  return supertest(httpNode);
}

/** The runtime's httpNode express app itself (to serve it on a port). */
function webhookApp() {
  return httpNode;
}

/** Resolves with the next `count` messages a helper node receives. */
function collect(nodeId, count, timeoutMs = 5000) {
  const node = helper.getNode(nodeId);
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`${nodeId}: got ${got.length} of ${count} messages`)), timeoutMs);
    node.on('input', (msg) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** Resolves when `predicate(status)` holds for a status the node set. */
function statusOf(node, predicate, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const original = node.status.bind(node);
    const timer = setTimeout(() => reject(new Error('status not reached')), timeoutMs);
    node.status = (s) => {
      original(s);
      if (predicate(s)) {
        clearTimeout(timer);
        resolve(s);
      }
    };
  });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/** A pbx-config node `cfg` with the dialog's defaults; `props` sets provider, baseUrl, webhookPath... */
function pbxConfig(props) {
  return { id: 'cfg', type: 'pbx-config', name: props.provider, timeout: 2000, rejectUnauthorized: true, allowFrom: '', ...props };
}

/** Action node `n1` (on config `cfg`) → helper `out`, with a catch node → helper `caught`. */
function actionNodes(type, props) {
  return [
    { id: 'n1', type, pbx: 'cfg', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

/** pbx-event `ev` with four outputs → helpers `ringing`, `answered`, `hangup`, `recording`. */
function eventNodes(props = {}) {
  return [
    {
      id: 'ev',
      type: 'pbx-event',
      pbx: 'cfg',
      events: [],
      extension: '',
      direction: 'any',
      outputs: 4,
      wires: [['ringing'], ['answered'], ['hangup'], ['recording']],
      ...props,
    },
    ...['ringing', 'answered', 'hangup', 'recording'].map((id) => ({ id, type: 'helper' })),
  ];
}

module.exports = { helper, load, webhook, webhookApp, collect, statusOf, wait, pbxConfig, actionNodes, eventNodes };
