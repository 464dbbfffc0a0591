'use strict';
// WorkLine: the node's store work one item after the other, bounded, and waited for on close.
const assert = require('node:assert/strict');
const { WorkLine } = require('../../dist/nodes/work-line');

describe('WorkLine', () => {
  it('runs items in order, one at a time, whatever each takes; a failing item does not stop the next', async () => {
    const line = new WorkLine(10);
    const order = [];
    const item = (name, ms, fail) => () =>
      new Promise((resolve, reject) =>
        setTimeout(() => {
          order.push(name);
          if (fail) reject(new Error(name));
          else resolve(name);
        }, ms),
      );
    const a = line.run(item('a', 30));
    const b = line.run(item('b', 1, true));
    const c = line.run(item('c', 1));
    assert.equal(line.pending, 3);
    assert.equal(await a, 'a');
    await assert.rejects(b, /b/);
    assert.equal(await c, 'c');
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(line.pending, 0);
  });

  it('refuses past max waiting items, and takes work again once they ran', async () => {
    const line = new WorkLine(2);
    let release;
    const gate = new Promise((r) => (release = r));
    assert.ok(line.run(() => gate));
    assert.ok(line.run(async () => 'second'));
    assert.equal(
      line.run(async () => 'third'),
      undefined,
    );
    release();
    await line.settled(1000);
    assert.equal(await line.run(async () => 'again'), 'again');
  });

  it('settled: waits for queued work, but never longer than its bound (an item that hangs)', async () => {
    const line = new WorkLine(2);
    line.run(() => new Promise(() => undefined));
    const started = Date.now();
    await line.settled(50);
    assert.ok(Date.now() - started < 5000);
    assert.equal(line.pending, 1);
  });
});
