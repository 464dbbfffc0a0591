'use strict';
// `pbx-simulator --queue-load <provider>[,<provider>]`: parsed and refused as the other options
// are, documented in --help, and run by the command until it is stopped.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { parseCliArgs, helpText, UsageError } = require('../../dist/simulator/cli');
const { Collector } = require('../helpers/collector');

const HOOK = 'http://127.0.0.1:1880/pbx/x/secret';

describe('pbx-simulator --queue-load', function () {
  this.timeout(20000);

  it('names providers (or all), each simulated and with a webhook target', () => {
    assert.deepEqual(parseCliArgs([]).queueLoad, []);
    assert.deepEqual(parseCliArgs(['--queue-load', 'voipnow', '--webhook', HOOK]).queueLoad, ['voipnow']);
    assert.deepEqual(
      parseCliArgs(['--queue-load', '3cx-webapi,voipnow', '--webhook', `3cx-webapi=${HOOK}`, '--webhook', `voipnow=${HOOK}`]).queueLoad,
      ['3cx-webapi', 'voipnow'],
    );
    assert.deepEqual(parseCliArgs(['--queue-load', 'all', '--webhook', HOOK]).queueLoad, ['3cx-webapi', 'cloud-callcenter', 'voipnow']);
    const refused = [
      [['--queue-load', 'voipnow'], /voipnow has no webhook target/],
      [['--queue-load', '3cx-webapi,voipnow', '--webhook', `voipnow=${HOOK}`], /3cx-webapi has no webhook target/],
      [['--queue-load', 'asterisk', '--webhook', HOOK], /no provider "asterisk"/],
      [['--queue-load', 'constructor', '--webhook', HOOK], /no provider "constructor"/],
      [['--queue-load', 'voipnow', '--provider', '3cx-webapi', '--webhook', HOOK], /voipnow is not simulated/],
    ];
    for (const [argv, message] of refused)
      assert.throws(
        () => parseCliArgs(argv),
        (err) => err instanceof UsageError && message.test(err.message),
        argv.join(' '),
      );
  });

  it("--help documents the option, the control API and each provider's queues", () => {
    const help = helpText();
    assert.match(help, /--queue-load <provider>\[,<provider>\]\|all/);
    assert.match(help, /about 6 calls a minute each/);
    assert.match(help, /POST \/_sim\/queue-load/);
    for (const name of [
      'seed',
      'ratePerMinute',
      'ratePerSecond',
      'calls',
      'durationMs',
      'queues',
      'answerRatio',
      'transferRatio',
      'waitMs',
      'abandonMs',
      'talkMs',
      'maxConcurrent',
    ])
      assert.match(help, new RegExp(`\\b${name}: `));
    assert.match(help, /queue load queues 807, 820/);
    assert.match(help, /queue load queues 0003\*300, 0003\*301/);
    assert.match(help, /queue load queues 4008009001, 4008009002/);
  });

  it('the command announces the load and stops cleanly on SIGTERM', async () => {
    const collector = await new Collector().start();
    const child = spawn(
      process.execPath,
      [
        path.join(__dirname, '../../dist/simulator/index.js'),
        '--port',
        '0',
        '--provider',
        'voipnow',
        '--queue-load',
        'voipnow',
        '--webhook',
        `${collector.url}/hook`,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 10000;
      while (!/Ctrl-C stops it/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /Queue load voipnow: queues 0003\*300, 0003\*301, 6 calls a minute, until stopped/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      await collector.close();
    }
  });
});
