'use strict';
// Action overhead: one pbx-status `extension-state` round trip (msg in → pbx-status → next node)
// against a raw axios GET of the same simulator endpoint (keep-alive agent, JSON parsed), one
// request at a time, in the same process: the Node-RED runtime of node-red-node-test-helper with
// its sinon spies on Node methods removed (they record every status and send call and would be
// measured too). The simulator runs in a process of its own. The config node's account is also
// timed alone (`account.run`, no Node-RED), to show where the difference goes.
const http = require('node:http');
const axios = require('axios');
const { helper, load } = require('../helpers/red');

const KEY = 'demo-3cx-access-key';

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p99: q(0.99) };
}

async function actionOverhead({ simUrl, iterations = 3000, block = 100, log = () => undefined }) {
  await load(
    [
      {
        id: 'cfg',
        type: 'pbx-config',
        provider: '3cx-webapi',
        baseUrl: `${simUrl}/webapi`,
        webhookPath: '/pbx/bench-actions',
        timeout: 10000,
      },
      { id: 'st', type: 'pbx-status', pbx: 'cfg', query: 'extension-state', extension: '117', extensionType: 'str', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ],
    { cfg: { accessKey: KEY } },
  );
  // The helper wraps Node.prototype.status/send/... in recording spies: measure Node-RED, not sinon.
  helper._sandbox.restore();
  helper._logSpy?.restore();
  // Node-RED copies Node.prototype.send onto each wired node when it starts: put the real one back.
  for (const id of ['st', 'out']) {
    const node = helper.getNode(id);
    if (node.send.isSinonProxy) node.send = helper._NodePrototype.send;
  }
  try {
    const st = helper.getNode('st');
    let resolveNext;
    helper.getNode('out').on('input', (msg) => resolveNext(msg));
    const viaNode = () =>
      new Promise((resolve, reject) => {
        resolveNext = (msg) => (msg.payload?.state ? resolve() : reject(new Error(JSON.stringify(msg.payload))));
        st.receive({ payload: {} });
      });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const viaAxios = async () => {
      const res = await axios.get(`${simUrl}/webapi/${KEY}/ext.state`, { params: { num: '117' }, httpAgent: agent, proxy: false });
      if (!res.data?.num) throw new Error('unexpected answer');
    };
    const account = helper.getNode('cfg').account;
    const viaAccount = async () => {
      const r = await account.run('status', 'extension-state', { extension: '117' });
      if (!r.payload.state) throw new Error('unexpected answer');
    };
    const time = async (fn) => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };

    log('  warm-up');
    const variants = { node: viaNode, account: viaAccount, axios: viaAxios };
    for (let i = 0; i < 500; i++) for (const fn of Object.values(variants)) await fn();
    const samples = { node: [], account: [], axios: [] };
    // Alternating blocks, so drift (GC, CPU frequency) hits every side alike.
    for (let b = 0; b < iterations / block; b++) {
      for (const [key, fn] of Object.entries(variants)) for (let i = 0; i < block; i++) samples[key].push(await time(fn));
    }
    agent.destroy();
    return { node: stats(samples.node), account: stats(samples.account), axios: stats(samples.axios) };
  } finally {
    await helper.unload();
  }
}

module.exports = { actionOverhead };
