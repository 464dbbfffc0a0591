'use strict';
// A real redis-server of the test's own (Debian's, installed by scripts/ensure-redis.js when
// missing): on a free loopback port, persistence off, no config file, in a temporary directory.
// Never the system's Redis on 6379. Every server started here is killed when the process exits.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { ensureRedis } = require('../../scripts/ensure-redis');
const { freePort } = require('./node-red-process');

const live = new Set();
process.once('exit', () => {
  for (const server of live) server.killNow();
});

/** Resolves when something on `port` answers an inline PING (PONG, or NOAUTH when it has a password). */
async function waitForPing(port, child, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`);
    const answered = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const done = (ok) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (chunk) => done(/^[+-]/.test(chunk.toString())));
    });
    if (answered) return;
    if (Date.now() > until) throw new Error(`redis-server on ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a redis-server; resolves once it answers PING.
 * @returns {Promise<{ url: string, port: number, password?: string, logs: string[], stop(): Promise<void>,
 *   kill(signal?: string): Promise<void>, restart(): Promise<void>, pause(): void, resume(): void }>}
 */
async function startRedis({ password } = {}) {
  const binary = ensureRedis({ log: () => undefined });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-redis-'));
  const port = await freePort();
  const logs = [];
  let child;
  let exited;

  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    args.push('--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', '--logfile', '');
    if (password) args.push('--requirepass', password);
    child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (c) => logs.length < 200 && logs.push(String(c).trimEnd()));
    }
    exited = new Promise((resolve) => child.once('exit', resolve));
    await waitForPing(port, child);
  };

  const running = () => child && child.exitCode === null && child.signalCode === null;

  const server = {
    url: `redis://127.0.0.1:${port}`,
    port,
    password,
    logs,
    /** Sends `signal` (default SIGKILL) and, unless it only stops or continues it, waits for the end. */
    async kill(signal = 'SIGKILL') {
      if (!running()) return;
      child.kill(signal);
      if (!['SIGSTOP', 'SIGCONT', 'SIGTSTP'].includes(signal)) await exited;
    },
    /** Ends it (SIGTERM, SIGKILL after 3 s) and removes its directory. */
    async stop() {
      live.delete(server);
      if (running()) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => running() && child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** Starts it again on the same port (ending it first if it runs); empty, as persistence is off. */
    async restart() {
      if (running()) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
        await exited;
      }
      await launch();
    },
    pause() {
      if (running()) child.kill('SIGSTOP');
    },
    resume() {
      if (running()) child.kill('SIGCONT');
    },
    killNow() {
      if (running()) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(server);
  try {
    await launch();
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\n${logs.join('\n')}`);
  }
  return server;
}

module.exports = { startRedis };
