#!/usr/bin/env node
'use strict';
// Makes sure Debian's redis-server is installed for the cluster-mode tests: when
// /usr/bin/redis-server is missing, runs `apt-get update` once and `apt-get install -y redis-server`,
// non-interactively (root, or `sudo -n`). Never downloads a binary of its own.
//
// The package would start a system Redis on port 6379 right away; the tests start their own on
// free ports and must never reach one by mistake, so the install runs with a policy-rc.d that
// forbids starting services (Docker images ship the same file; an existing one is left alone).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const REDIS_SERVER = '/usr/bin/redis-server';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const NO_SERVICE_START = '#!/bin/sh\n# written by scripts/ensure-redis.js while installing redis-server\nexit 101\n';

function ensureRedis({ log = (m) => console.log(m) } = {}) {
  if (fs.existsSync(REDIS_SERVER)) return REDIS_SERVER;
  if (process.platform !== 'linux') throw new Error(`${REDIS_SERVER} is missing; install redis-server (>= 6.2) to run the cluster tests`);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run = (cmd, args) => {
    const [file, argv] = asRoot ? [cmd, args] : ['sudo', ['-n', cmd, ...args]];
    execFileSync(file, argv, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 15 * 60 * 1000,
    });
  };
  const ownPolicy = !fs.existsSync(POLICY_RC_D);
  log(`${REDIS_SERVER} is missing: installing Debian's redis-server (apt-get)...`);
  run('apt-get', ['update']);
  if (ownPolicy) run('sh', ['-c', `printf '%s' '${NO_SERVICE_START}' > ${POLICY_RC_D} && chmod 755 ${POLICY_RC_D}`]);
  try {
    run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server']);
  } finally {
    if (ownPolicy) run('rm', ['-f', POLICY_RC_D]);
  }
  if (!fs.existsSync(REDIS_SERVER)) throw new Error(`apt-get installed redis-server but ${REDIS_SERVER} is still missing`);
  return REDIS_SERVER;
}

module.exports = { ensureRedis, REDIS_SERVER };

if (require.main === module) {
  try {
    console.log(ensureRedis());
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
