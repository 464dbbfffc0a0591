import { PbxError } from '../core/errors';
import { ownProperty } from '../core/lookup';
import { changeOf, keepDaysOf, MissedCallBook, type ResolvedMissedCall } from '../core/missed-calls';
import { parsePhoneNumber } from '../core/phone-number';
import { rateLimited } from '../core/rate-limit';
import { accountNode, failInput, storeFailure } from './account-node';
import { asPbxError, messageOf } from './as-pbx-error';
import { WorkLine } from './work-line';
import { t } from './i18n';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './red';

/** How often open entries are checked for expiry (they are on every input too). */
export const EXPIRY_CHECK_MS = 60_000;
/** Changes waiting for the store; past it an event is dropped with a warning (the store is too slow). */
export const MAX_PENDING_CHANGES = 1000;
/** How long a closing node waits for its queued changes. */
const CLOSE_WAIT_MS = 5000;
/** The longest topic quoted back in an error. */
const MAX_QUOTED = 40;

export default function register(RED: NodeAPI): void {
  function PbxMissed(this: Node, saved: NodeDef): void {
    RED.nodes.createNode(this, saved);
    const node = this;
    const setup = accountNode(RED, node, saved);
    if (!setup) return;
    const { def, account, status } = setup;

    const book = new MissedCallBook({ store: account.stateStore, owner: node.id, keepDays: keepDaysOf(def.keepDays) });
    const warnFailure = rateLimited((m) => node.warn(m));
    const line = new WorkLine(MAX_PENDING_CHANGES);

    const showCount = (): void =>
      status.set({ fill: 'green', shape: 'dot', text: t(RED, 'missed.status.open', { count: book.openCount }) });
    const resolvedMsg = (payload: ResolvedMissedCall): NodeMessage => ({ topic: 'resolved', payload });

    /** Runs `work` after every change queued before it, so outputs keep the order of events and inputs. */
    function enqueue(work: () => Promise<void>): boolean {
      const queued = line.run(work);
      queued?.catch((err: unknown) => warnFailure(t(RED, 'missed.warn.failed', { reason: messageOf(err) })));
      return queued !== undefined;
    }

    async function sendExpired(send: SendFn): Promise<void> {
      for (const resolved of await book.expire()) send([null, resolvedMsg(resolved)]);
    }

    const unsubscribe = account.subscribe((event) => {
      const change = changeOf(event);
      if (!change) return;
      const queued = enqueue(async () => {
        if (change.kind === 'missed') {
          const result = await book.recordMissed(change);
          if (result) node.send([{ topic: 'missed', payload: result.entry }, result.evicted ? resolvedMsg(result.evicted) : null]);
        } else {
          const resolved = await book.resolve(change.number, change.by, { callId: change.callId, extension: change.extension });
          if (resolved) node.send([null, resolvedMsg(resolved)]);
        }
        showCount();
      });
      if (!queued) warnFailure(t(RED, 'missed.warn.overloaded'));
    });

    const timer = setInterval(() => {
      enqueue(async () => {
        await sendExpired((msgs) => node.send(msgs));
        showCount();
      });
    }, EXPIRY_CHECK_MS);
    timer.unref?.();

    // The count at start: entries kept across a redeploy, or those other instances hold.
    enqueue(async () => {
      await book.list();
      showCount();
    });

    node.on('input', (msg, send, done) => {
      const fail = (err: PbxError): void => failInput(account, msg, done, err);
      let work: () => Promise<void>;
      try {
        work = inputWork(msg, send, done, fail);
      } catch (err) {
        return fail(asPbxError(err));
      }
      if (!enqueue(work)) fail(new PbxError('unreachable', t(RED, 'missed.errors.overloaded')));
    });

    /** The work of one input message; throws a PbxError `invalid_input` for a message it cannot take. */
    function inputWork(msg: NodeMessage, send: SendFn, done: DoneFn, fail: (err: PbxError) => void): () => Promise<void> {
      const topic = ownProperty(msg, 'topic');
      const settle = (work: () => Promise<void>) => async (): Promise<void> => {
        try {
          await sendExpired(send);
          await work();
          showCount();
          done();
        } catch (err) {
          fail(storeFailure(err, (reason) => t(RED, 'missed.errors.store', { reason })));
        }
      };
      if (topic === 'list') {
        return settle(async () => {
          msg.payload = await book.list();
          send([msg, null]);
        });
      }
      if (topic === 'resolve') {
        const caller = ownProperty(msg.payload, 'caller');
        const number = parsePhoneNumber(caller);
        if (!number) throw new PbxError('invalid_input', t(RED, 'missed.errors.caller'));
        return settle(async () => {
          const resolved = await book.resolve(number, 'manual');
          if (!resolved) return;
          msg.topic = 'resolved';
          msg.payload = resolved;
          send([null, msg]);
        });
      }
      throw new PbxError('invalid_input', t(RED, 'missed.errors.topic', { topic: quoted(topic) }));
    }

    node.on('close', (removed, done) => {
      clearInterval(timer);
      unsubscribe();
      status.close();
      // A removed node's entries go with it; a redeployed node's stay for its successor.
      if (removed) enqueue(() => book.clear());
      // Changes under way finish first (each store command has its own deadline), within a bound.
      void line.settled(CLOSE_WAIT_MS).then(done);
    });
  }
  RED.nodes.registerType('pbx-missed', PbxMissed);
}

/** A topic as an error quotes it: a string (cut), else its type. */
function quoted(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value);
}
