'use strict';
// A real Node-RED process with the package installed the way a user installs it: `npm pack`,
// then `npm install <tarball>` in a fresh user directory. Loopback only.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const NODE_RED = require.resolve('node-red/red.js');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let packed;

/**
 * Packs the package once per test run; returns the tarball path. dist/ is already built by the
 * test command, so the prepack build is skipped (it would rewrite dist/ under running tests).
 */
function packOnce() {
  if (!packed) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-pack-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    packed = path.join(dir, JSON.parse(out)[0].filename);
  }
  return packed;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A user directory with the packed package installed from its tarball (npm cache, offline-first). */
function prepareUserDir() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pbx-nr-'));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-user', private: true, version: '0.0.0' }));
  execFileSync(NPM, ['install', packOnce(), '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev'], {
    cwd: userDir,
    stdio: 'ignore',
  });
  return userDir;
}

class NodeRedProcess {
  /**
   * @param {object} [o]
   * @param {string} [o.adminRoot]   httpAdminRoot, default '/admin'
   * @param {string} [o.userDir]     a prepared user directory (default: a fresh one with the packed package)
   * @param {string} [o.nodeRedDir]  a directory whose node_modules/node-red is the Node-RED to run
   *                                 (default: the devDependency)
   * @param {string} [o.nodeBinary]  the Node.js binary to run it with (default: this one)
   * @param {object} [o.settings]    more settings.js entries
   * @param {string[]} [o.nodeArgs]  Node.js options before red.js, e.g. `--max-old-space-size=128`
   */
  constructor({ adminRoot = '/admin', userDir, nodeRedDir, nodeBinary, settings = {}, nodeArgs = [] } = {}) {
    this.adminRoot = adminRoot;
    this.userDir = userDir ?? prepareUserDir();
    this.redJs = nodeRedDir ? path.join(nodeRedDir, 'node_modules', 'node-red', 'red.js') : NODE_RED;
    this.nodeBinary = nodeBinary ?? process.execPath;
    this.extraSettings = settings;
    this.nodeArgs = nodeArgs;
    this.logs = [];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  adminUrl(p) {
    return `${this.url}${this.adminRoot === '/' ? '' : this.adminRoot}${p}`;
  }

  async start() {
    this.port = await freePort();
    const settings = path.join(this.userDir, 'settings.js');
    fs.writeFileSync(
      settings,
      `module.exports = ${JSON.stringify({
        uiHost: '127.0.0.1',
        uiPort: this.port,
        httpAdminRoot: this.adminRoot,
        httpNodeRoot: '/',
        flowFile: 'flows.json',
        credentialSecret: false,
        logging: { console: { level: 'debug', metrics: false, audit: false } },
        editorTheme: { tours: false, projects: { enabled: false } },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
        ...this.extraSettings,
      })};`,
    );
    this.child = spawn(this.nodeBinary, [...this.nodeArgs, this.redJs, '-u', this.userDir, '-s', settings], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
    });
    const onData = (chunk) => this.logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`node-red exited:\n${this.logs.join('\n')}`);
      try {
        const res = await fetch(this.adminUrl('/settings'));
        // "Server now running" comes before the first flows have started: wait for both.
        if (res.ok && this.logs.some((l) => /Server now running/.test(l)) && this.logs.some((l) => /Started flows/.test(l))) return this;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`node-red did not start:\n${this.logs.join('\n')}`);
  }

  /** Full deploy of `flows` (credentials inline on nodes, as the editor sends them). */
  async deploy(flows) {
    const before = this.logs.length;
    const res = await fetch(this.adminUrl('/flows'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows }),
    });
    if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
    // This deploy's own start: a "Started flows" after its "Starting flows" (a line of an earlier
    // start may still be on its way through the pipe).
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const lines = this.logs.slice(before);
      const starting = lines.findIndex((l) => /Starting flows/.test(l));
      if (starting >= 0 && lines.slice(starting).some((l) => /Started flows/.test(l))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('flows did not start');
  }

  async nodeTypes() {
    const res = await fetch(this.adminUrl('/nodes'), { headers: { Accept: 'application/json' } });
    return res.json();
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(timer);
  }

  cleanup() {
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

module.exports = { NodeRedProcess, prepareUserDir, freePort, packOnce };
