import type { Account } from '../core/account';
import { t } from './i18n';
import type { Node, NodeAPI, NodeStatus } from './red';

export interface HealthAwareStatus {
  /** Sets the node's own status; shown at once unless the account's credentials are failing. */
  set(status: NodeStatus | Record<string, never>): void;
  /** Stops following the account (on node close). */
  close(): void;
}

/**
 * The status of a node that uses a pbx-config: while an operation of that account has failed
 * with `auth_failed` and none has succeeded since, the node shows a red ring "auth failed"; the
 * node's own latest status comes back with the next success.
 */
export function healthAwareStatus(RED: NodeAPI, node: Node, account: Account | undefined): HealthAwareStatus {
  let own: NodeStatus | Record<string, never> = {};
  let failing = false;
  const unsubscribe =
    account?.onHealth((health) => {
      failing = health === 'auth_failed';
      node.status(failing ? { fill: 'red', shape: 'ring', text: t(RED, 'status.auth-failed') } : own);
    }) ?? (() => undefined);
  return {
    set(status) {
      own = status;
      if (!failing) node.status(status);
    },
    close: () => void unsubscribe(),
  };
}
