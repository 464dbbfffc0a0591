'use strict';
// Node-RED releases (and the Node.js they need) installed from the npm registry into
// .test-cache/ (git-ignored), once: a second test run finds them there.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const CACHE = path.join(ROOT, '.test-cache');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const INSTALL_TIMEOUT_MS = 5 * 60 * 1000;

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The newest release (no pre-release) of `versions` that starts with `line` ("3.1", "4", "5"). */
function newest(versions, line) {
  const matching = versions.filter((v) => /^\d+\.\d+\.\d+$/.test(v) && (v === line || v.startsWith(`${line}.`)));
  return matching.sort(compareVersions).pop();
}

/** Directories `.test-cache/<prefix>-<version>` whose install completed. */
function cached(prefix) {
  if (!fs.existsSync(CACHE)) return [];
  return fs
    .readdirSync(CACHE)
    .filter((d) => d.startsWith(`${prefix}-`) && fs.existsSync(path.join(CACHE, d, '.complete')))
    .map((d) => d.slice(prefix.length + 1));
}

/**
 * The newest Node-RED release of each line ("3.1", "4", "5"), from the registry (npm's metadata
 * cache first); without the registry, the newest already installed in .test-cache.
 */
function resolveNodeRedVersions(lines) {
  let published = [];
  try {
    published = JSON.parse(
      execFileSync(NPM, ['view', 'node-red', 'versions', '--json', '--prefer-offline'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 60000,
      }),
    );
  } catch {
    // offline: fall back to what is installed
  }
  const installed = cached('node-red');
  return lines.map((line) => {
    const version = newest(published, line) ?? newest(installed, line);
    if (!version) throw new Error(`no Node-RED ${line}.x: the registry cannot be reached and none is in .test-cache`);
    return version;
  });
}

/** Installs `spec` (e.g. node-red@4.1.15) into `.test-cache/<dir>` unless already there. */
function installOnce(dir, spec) {
  const target = path.join(CACHE, dir);
  const marker = path.join(target, '.complete');
  if (fs.existsSync(marker)) return target;
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, 'package.json'), JSON.stringify({ name: `cache-${dir}`, private: true, version: '0.0.0' }));
  execFileSync(NPM, ['install', spec, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], {
    cwd: target,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: INSTALL_TIMEOUT_MS,
  });
  fs.writeFileSync(marker, new Date().toISOString());
  return target;
}

/** A directory whose node_modules/node-red is Node-RED `version`. */
function installNodeRed(version) {
  const dir = installOnce(`node-red-${version}`, `node-red@${version}`);
  // Older installs of the same line are not needed any more.
  const line = version
    .split('.')
    .slice(0, version.startsWith('3.') ? 2 : 1)
    .join('.');
  for (const other of cached('node-red')) {
    if (other !== version && (other === line || other.startsWith(`${line}.`)) && newest([other, version], line) === version) {
      fs.rmSync(path.join(CACHE, `node-red-${other}`), { recursive: true, force: true });
    }
  }
  return dir;
}

/**
 * A Node.js binary of `major`: this one when it is that major, else the registry's `node`
 * package (which ships the binary as an npm package) installed into .test-cache.
 */
function nodeBinary(major) {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = installOnce(`node-${major}`, `node@${major}`);
  const bin = path.join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(bin)) throw new Error(`node@${major} installed no binary at ${bin}`);
  return bin;
}

/** The major version of Node.js a Node-RED release needs at least (its engines field). */
function requiredNodeMajor(nodeRedDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(nodeRedDir, 'node_modules', 'node-red', 'package.json'), 'utf8'));
  const m = /(\d+)/.exec(pkg.engines?.node ?? '');
  return m ? Number(m[1]) : 0;
}

module.exports = { CACHE, resolveNodeRedVersions, installNodeRed, nodeBinary, requiredNodeMajor, newest, compareVersions };
