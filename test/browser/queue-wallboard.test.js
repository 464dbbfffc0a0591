'use strict';
/* global window, document -- functions passed to page.evaluate / waitForFunction run in the wallboard page */
// The queue wallboard example (examples/3cx-queue-wallboard.json) in Chromium against a real
// Node-RED process with the packed package: the page its flow serves says "connecting…" until the
// first figures, shows each queue's figures as they come over its websocket (no reload), builds its
// DOM from text only, marks a queue stale after 3 intervals of silence, and reconnects after a
// redeploy drops the socket. Figures are posted to the example's socket by a test-only http in node,
// so the page is checked with exact values; with the pbx-stats runtime built, calls the simulator
// plays move the page too. Screenshots go to .test-artifacts/screenshots/ (git-ignored).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launchChromium } = require('../helpers/browser');
const { NodeRedProcess } = require('../helpers/node-red-process');
const { startSimulator, DEFAULT_CREDENTIALS } = require('../../dist/simulator');

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, '.test-artifacts', 'screenshots');
const EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples/3cx-queue-wallboard.json'), 'utf8'));
const SECRET = 'wallboard-webhook-secret-0123';
const TAB = { id: 'tab-wallboard', type: 'tab', label: 'queue wallboard' };
const LISTENER = EXAMPLE.find((n) => n.type === 'websocket-listener');
/** The runtime of pbx-stats (src/core/queue-stats.ts) is built: the example's node sends figures. */
const RUNTIME = fs.existsSync(path.join(ROOT, 'dist/core/queue-stats.js'));

/** Figures of one queue, as pbx-stats sends them. */
function figures(queue, changes = {}) {
  return {
    queue,
    window: 15,
    offered: 12,
    answered: 9,
    abandoned: 2,
    abandonRate: 16.7,
    serviceLevelPercent: 75,
    averageWaitSeconds: 19.6,
    longestWaitSeconds: 71.2,
    averageTalkSeconds: 140.3,
    waitingNow: 2,
    longestWaitingNowSeconds: 65.4,
    agents: { loggedIn: 4, available: 1, busy: 3 },
    ...changes,
  };
}

/** The example on a tab, its config on the simulator, and POST /test/queue-figures into its socket. */
function flows(sim) {
  const nodes = EXAMPLE.map((n) => {
    if (n.type === 'pbx-config') {
      return {
        ...n,
        baseUrl: `${sim.url}/webapi`,
        credentials: { accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey, webhookSecret: SECRET },
      };
    }
    return 'x' in n ? { ...n, z: TAB.id } : n;
  });
  return [
    TAB,
    ...nodes,
    {
      id: 'test-in',
      type: 'http in',
      z: TAB.id,
      url: '/test/queue-figures',
      method: 'post',
      x: 150,
      y: 400,
      wires: [['test-ws', 'test-res']],
    },
    { id: 'test-ws', type: 'websocket out', z: TAB.id, server: LISTENER.id, client: '', x: 400, y: 380, wires: [] },
    { id: 'test-res', type: 'http response', z: TAB.id, statusCode: '204', headers: {}, x: 400, y: 420, wires: [] },
  ];
}

describe('queue wallboard example in Chromium', function () {
  this.timeout(60000);
  let nr;
  let sim;
  let browser;
  let page;
  let pageErrors = [];

  async function post(body) {
    const res = await fetch(`${nr.url}/test/queue-figures`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 204);
  }

  /** What the page shows: its state line and, per card, the queue, stale mark and every figure. */
  function shown() {
    return page.evaluate(() => ({
      state: document.getElementById('state').textContent,
      cards: Array.from(document.querySelectorAll('.card')).map((card) => ({
        queue: card.querySelector('.name').textContent,
        mark: card.querySelector('.mark').textContent,
        agents: card.querySelector('.agents').style.display !== 'none',
        figures: Object.fromEntries(
          Array.from(card.querySelectorAll('.big > div, .small > div'))
            .filter((box) => box.parentNode.style.display !== 'none')
            .map((box) => [box.querySelector('.label').textContent, box.querySelector('.value').textContent]),
        ),
      })),
    }));
  }

  /** Waits until the card of `queue` shows `label` = `value`. */
  function until(queue, label, value) {
    return page.waitForFunction(
      ([q, l, v]) =>
        Array.from(document.querySelectorAll('.card')).some(
          (card) =>
            card.querySelector('.name').textContent === q &&
            Array.from(card.querySelectorAll('.label')).some((e) => e.textContent === l && e.previousSibling.textContent === v),
        ),
      [queue, label, value],
      { timeout: 20000 },
    );
  }

  before(async function () {
    this.timeout(20 * 60 * 1000); // a first run may install Chromium with apt-get
    fs.mkdirSync(SHOTS, { recursive: true });
    sim = await startSimulator({ stepMs: 15, talkMs: 200 });
    nr = await new NodeRedProcess({ adminRoot: '/admin', settings: { telemetry: { enabled: false } } }).start();
    await nr.deploy(flows(sim));
    browser = await launchChromium();
    ({ page, pageErrors } = browser);
    // Counts the page's sockets, and lets the test tell a reload from a live update.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      window.socketsOpened = 0;
      window.WebSocket = function (...args) {
        window.socketsOpened++;
        return new Native(...args);
      };
      window.WebSocket.prototype = Native.prototype;
    });
  });

  after(async () => {
    await browser?.close();
    await nr?.stop();
    nr?.cleanup();
    await sim?.close();
  });

  it('is one self-contained page: no other origin, no reload tag', async () => {
    const res = await fetch(`${nr.url}/queue-wallboard`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const html = await res.text();
    assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//i, 'nothing loaded from elsewhere');
    assert.doesNotMatch(html, /http-equiv="refresh"/i);
    assert.doesNotMatch(html, /innerHTML|insertAdjacentHTML|document\.write/);
  });

  it('says connecting… until the first figures, then shows each queue live, without a reload', async () => {
    // ?interval=2: a queue is stale after 6 s without figures (the flow's pbx-stats sends every 5 s).
    await page.goto(`${nr.url}/queue-wallboard?interval=2`);
    await page.waitForFunction(() => window.socketsOpened === 1 && document.getElementById('state').textContent === 'connecting…');
    assert.deepEqual(await shown(), { state: 'connecting…', cards: [] });
    assert.equal(await page.locator('#empty').innerText(), 'connecting…');
    await page.evaluate(() => {
      window.sameLoad = true;
    });
    // The socket is open once a posted message arrives: post until the first one does.
    for (let i = 0; i < 50 && (await shown()).cards.length === 0; i++) {
      await post(figures('820'));
      await page.waitForTimeout(100);
    }
    await until('820', 'waiting now', '2');
    assert.deepEqual(await shown(), {
      state: 'live',
      cards: [
        {
          queue: '820',
          mark: '',
          agents: true,
          figures: {
            'waiting now': '2',
            'longest waiting': '1:05',
            offered: '12',
            answered: '9',
            abandoned: '2',
            'service level': '75.0%',
            'abandon rate': '16.7%',
            'average wait': '0:20',
            'agents available': '1',
            'agents busy': '3',
            'agents logged in': '4',
          },
        },
      ],
    });
    assert.equal(await page.locator('#empty').count(), 0);

    // New figures replace the old ones; a queue without agents (VoipNow) shows none; nothing offered shows dashes.
    await post(figures('820', { offered: 13, answered: 10, serviceLevelPercent: 76.9, waitingNow: 0, longestWaitingNowSeconds: 0 }));
    await post(
      figures('807', {
        offered: 0,
        answered: 0,
        abandoned: 0,
        abandonRate: null,
        serviceLevelPercent: null,
        averageWaitSeconds: null,
        waitingNow: 0,
        longestWaitingNowSeconds: 0,
        agents: undefined,
      }),
    );
    await until('820', 'offered', '13');
    await until('807', 'offered', '0');
    const { cards } = await shown();
    assert.deepEqual(
      cards.map((c) => c.queue),
      ['807', '820'],
      'in name order',
    );
    assert.deepEqual(cards[0], {
      queue: '807',
      mark: '',
      agents: false,
      figures: {
        'waiting now': '0',
        'longest waiting': '0:00',
        offered: '0',
        answered: '0',
        abandoned: '0',
        'service level': '–',
        'abandon rate': '–',
        'average wait': '–',
      },
    });
    assert.equal(cards[1].figures.answered, '10');
    assert.equal(cards[1].figures['service level'], '76.9%');
    assert.equal(cards[1].figures['waiting now'], '0');
    assert.equal(await page.evaluate(() => window.sameLoad), true, 'updated in place');
    await page.screenshot({ path: path.join(SHOTS, 'queue-wallboard.png') });
  });

  it('shows a queue name as text, never as markup', async () => {
    const name = '<img src=x onerror="window.injected=1">';
    await post(figures(name));
    await page.waitForFunction((n) => Array.from(document.querySelectorAll('.card .name')).some((e) => e.textContent === n), name);
    assert.equal(await page.locator('.card img').count(), 0);
    assert.equal(await page.evaluate(() => window.injected), undefined);
    // Not figures of a queue: ignored (the figures posted after them arrive after them).
    await post({ queue: '' });
    await post([1, 2]);
    await post(figures('807', { offered: 1 }));
    await until('807', 'offered', '1');
    assert.deepEqual((await shown()).cards.map((c) => c.queue).sort(), ['807', '820', name].sort());
  });

  it('marks queues stale after 3 intervals without figures', async () => {
    await post(figures('820', { offered: 14 }));
    await until('820', 'offered', '14');
    await page.waitForFunction(() => /^stale: no figures since /.test(document.getElementById('state').textContent), null, {
      timeout: 20000,
    });
    const { cards } = await shown();
    assert.deepEqual(
      cards.map((c) => c.mark),
      ['stale', 'stale', 'stale'],
    );
    assert.equal(await page.locator('.card.stale').count(), 3);
    await page.screenshot({ path: path.join(SHOTS, 'queue-wallboard-stale.png') });
    await post(figures('820', { offered: 15 }));
    await until('820', 'offered', '15');
    const after = await shown();
    assert.equal(after.state, 'live');
    assert.equal(after.cards.find((c) => c.queue === '820').mark, '');
  });

  it('reconnects by itself when a redeploy drops its socket', async () => {
    const opened = await page.evaluate(() => window.socketsOpened);
    await nr.deploy(flows(sim));
    await page.waitForFunction((n) => window.socketsOpened > n, opened, { timeout: 20000 });
    for (let i = 0; i < 50; i++) {
      await post(figures('820', { offered: 16 }));
      const card = (await shown()).cards.find((c) => c.queue === '820');
      if (card.figures.offered === '16') break;
      await page.waitForTimeout(200);
    }
    await until('820', 'offered', '16');
    assert.equal(await page.evaluate(() => window.sameLoad), true, 'no reload');
  });

  (RUNTIME ? it : it.skip)('moves when the simulator plays calls through queue 820 (pbx-stats runtime)', async () => {
    sim.setWebhook('3cx-webapi', `${nr.url}/pbx/demo-3cx/${SECRET}`, 'post');
    await page.goto(`${nr.url}/queue-wallboard`);
    // IVR 800 → queue 820 → 202 answers; then the same route, hung up while 202 rings.
    await sim.provider('3cx-webapi').play('incoming-answered');
    await until('820', 'offered', '1');
    await until('820', 'answered', '1');
    await sim.provider('3cx-webapi').play('incoming-missed');
    await until('820', 'offered', '2');
    await until('820', 'abandoned', '1');
    const card = (await shown()).cards.find((c) => c.queue === '820');
    assert.equal(card.figures.answered, '1');
    assert.equal(card.figures['waiting now'], '0');
    assert.equal(card.figures['abandon rate'], '50.0%');
    await page.screenshot({ path: path.join(SHOTS, 'queue-wallboard-simulator.png') });
  });

  it('raised no error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
