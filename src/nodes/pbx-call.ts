import type { Account } from '../core/account';
import type { Outcome, Params } from '../core/types';
import { registerActionNode, type ActionNode, type HeldResult, type ResultHold } from './action-node';
import { OutcomeWait, shareDials, WAITED_OPERATIONS, waitSecondsOf } from './call-outcome';
import { t } from './i18n';
import type { NodeAPI, NodeDef, NodeStatus } from './red';

export default function register(RED: NodeAPI): void {
  registerActionNode(RED, 'pbx-call', 'call', undefined, (node, def) => outcomeHold(RED, node as ActionNode, def));
}

/** The status each outcome shows: its colour and its text. */
const OUTCOME_STATUS: Record<Outcome, (RED: NodeAPI) => NodeStatus> = {
  answered: (RED) => ({ fill: 'green', shape: 'dot', text: t(RED, 'status.outcome.answered') }),
  missed: (RED) => ({ fill: 'yellow', shape: 'dot', text: t(RED, 'status.outcome.missed') }),
  busy: (RED) => ({ fill: 'yellow', shape: 'dot', text: t(RED, 'status.outcome.busy') }),
  failed: (RED) => ({ fill: 'red', shape: 'dot', text: t(RED, 'status.outcome.failed') }),
  unknown: (RED) => ({ fill: 'grey', shape: 'dot', text: t(RED, 'status.outcome.unknown') }),
};

/** `wait` (SPEC section 9): makecall / doublecall results held until the call's outcome is known. */
function outcomeHold(RED: NodeAPI, node: ActionNode, def: NodeDef): ResultHold | undefined {
  const seconds = waitSecondsOf(def.wait);
  if (!seconds) return undefined;
  const open = new Set<{ wait: OutcomeWait; closed: () => void }>();
  // Cluster mode: this instance's dials, for a node on another instance waiting for a call by its numbers.
  const account = node.pbx?.account;
  const stopSharing = account ? shareDials({ subscribe: (l) => account.subscribe((e) => l(e)), store: account.store }) : () => undefined;
  return {
    begin(account: Account, operation: string, params: Params): HeldResult | undefined {
      if (!WAITED_OPERATIONS.includes(operation)) return undefined;
      const wait = new OutcomeWait(
        {
          subscribe: (listener) => account.subscribe((event) => listener(event)),
          store: account.store,
          summaryOf: (callId) => account.tracker.summaryOf(callId),
        },
        { operation, extension: params.extension ?? '', destination: params.destination ?? '' },
        seconds * 1000,
      );
      let closed!: () => void;
      const closing = new Promise<undefined>((resolve) => (closed = () => resolve(undefined)));
      const entry = { wait, closed };
      open.add(entry);
      const forget = () => open.delete(entry);
      return {
        waitingStatus: { fill: 'blue', shape: 'ring', text: t(RED, 'status.waiting-answer') },
        async settle(payload) {
          const outcome = await Promise.race([wait.start(payload), closing]);
          forget();
          if (!outcome) return undefined;
          const fields: Record<string, unknown> = { outcome: outcome.outcome };
          if (outcome.call) fields.call = outcome.call;
          return { fields, status: OUTCOME_STATUS[outcome.outcome](RED) };
        },
        cancel() {
          wait.cancel();
          forget();
        },
      };
    },
    close() {
      stopSharing();
      for (const entry of open) {
        entry.wait.cancel();
        entry.closed();
      }
      open.clear();
    },
  };
}
