'use strict';
// Which address a webhook came from behind reverse proxies: X-Forwarded-For is believed only from
// the proxies in trustedProxies, read from the right (each proxy appends the address it got the
// request from), and the first address that is not itself a trusted proxy is the client.
const assert = require('node:assert/strict');
const http = require('node:http');
const { WebhookRouter, addressList, clientAddressOf } = require('../../dist/core/webhook-router');

describe('core: client address behind trusted proxies', () => {
  const trusted = addressList('127.0.0.1, 10.0.0.0/8, 2001:db8::/32', 'trustedProxies');

  const CASES = [
    // label, direct peer, X-Forwarded-For, expected client address
    ['no header: the peer', '127.0.0.1', undefined, '127.0.0.1'],
    ['untrusted peer: its header is ignored', '198.51.100.7', '192.0.2.10', '198.51.100.7'],
    ['trusted peer: the address it appended', '127.0.0.1', '192.0.2.10', '192.0.2.10'],
    ['IPv4-mapped trusted peer', '::ffff:127.0.0.1', '192.0.2.10', '192.0.2.10'],
    ['a client-forged entry left of the real one is not believed', '127.0.0.1', '10.0.0.1, 192.0.2.66, 192.0.2.10', '192.0.2.10'],
    ['a chain of trusted proxies is walked past', '127.0.0.1', '192.0.2.10, 10.1.2.3, 10.9.9.9', '192.0.2.10'],
    ['every entry trusted: the left-most', '127.0.0.1', '10.0.0.1, 10.0.0.2', '10.0.0.1'],
    ['IPv4 with a port', '127.0.0.1', '192.0.2.10:51234', '192.0.2.10'],
    ['bracketed IPv6 with a port', '127.0.0.1', '[2001:db9::5]:443', '2001:db9::5'],
    ['trusted IPv6 proxy in the chain', '127.0.0.1', '192.0.2.10, 2001:db8::1', '192.0.2.10'],
    ['empty entries are skipped', '127.0.0.1', '192.0.2.10, , ', '192.0.2.10'],
    ['a non-address entry stops the walk', '127.0.0.1', '192.0.2.10, unknown', 'unknown'],
  ];
  for (const [label, peer, forwarded, expected] of CASES) {
    it(label, () => assert.equal(clientAddressOf(peer, forwarded, trusted), expected));
  }

  it('without trusted proxies the header is never read', () => {
    assert.equal(clientAddressOf('127.0.0.1', '192.0.2.10', null), '127.0.0.1');
    assert.equal(addressList('', 'trustedProxies'), null);
  });

  it('a non-address entry is shown printable and short', () => {
    assert.equal(clientAddressOf('127.0.0.1', `x\ty${'z'.repeat(100)}`, trusted), `x?y${'z'.repeat(61)}`);
  });

  it('names the setting of a bad entry', () => {
    assert.throws(() => addressList('10.0.0.0/8, proxy.local', 'trustedProxies'), /trustedProxies: "proxy.local" is not an IP/);
    assert.throws(() => addressList('10.0.0.0/33', 'trustedProxies'), /trustedProxies: "10.0.0.0\/33" has a bad prefix/);
  });

  describe('on a router endpoint (peer 127.0.0.1)', () => {
    let server;
    let router;
    const rejections = [];
    let delivered = 0;

    before(async () => {
      router = new WebhookRouter();
      const endpoint = (path, trustedProxies) =>
        router.register({
          path,
          allowFrom: '192.0.2.0/24',
          trustedProxies,
          onDelivery: (_i, _f, reply) => {
            reply(200);
            delivered++;
          },
          onRejected: (status, reason, remote) => rejections.push({ path, status, remote }),
        });
      endpoint('/pbx/proxied', '127.0.0.1');
      endpoint('/pbx/direct', '');
      server = http.createServer((req, res) => router.handle(req, res, () => res.writeHead(404).end()));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise((resolve) => server.close(resolve)));

    async function post(path, forwardedFor) {
      const headers = { 'Content-Type': 'application/json' };
      if (forwardedFor) headers['X-Forwarded-For'] = forwardedFor;
      const res = await fetch(`http://127.0.0.1:${server.address().port}${path}`, { method: 'POST', headers, body: '{}' });
      await res.text();
      return res.status;
    }

    it('allowFrom sees the forwarded client from a trusted proxy, and the rejection names it', async () => {
      assert.equal(await post('/pbx/proxied', '192.0.2.10'), 200);
      assert.equal(await post('/pbx/proxied', '192.0.2.10, 198.51.100.7'), 401);
      assert.equal(await post('/pbx/proxied'), 401);
      assert.equal(delivered, 1);
      assert.deepEqual(
        rejections.filter((r) => r.path === '/pbx/proxied'),
        [
          { path: '/pbx/proxied', status: 401, remote: '198.51.100.7' },
          { path: '/pbx/proxied', status: 401, remote: '127.0.0.1' },
        ],
      );
    });

    it('an endpoint without trusted proxies ignores X-Forwarded-For', async () => {
      assert.equal(await post('/pbx/direct', '192.0.2.10'), 401);
      assert.deepEqual(rejections.at(-1), { path: '/pbx/direct', status: 401, remote: '127.0.0.1' });
    });
  });
});
