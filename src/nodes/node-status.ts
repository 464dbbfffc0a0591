import type { Account } from '../core/account';
import type { ErrorCode } from '../core/errors';
import { t } from './i18n';
import type { ConfigFault, PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeStatus } from './red';

export interface HealthAwareStatus {
  /** Sets the node's own status; shown at once unless the account's credentials are failing. */
  set(status: NodeStatus | Record<string, never>): void;
  /** Stops following the account (on node close). */
  close(): void;
}

/**
 * The status of a node that uses a pbx-config: while an operation of that account has failed
 * with `auth_failed` and none has succeeded since, the node shows a red ring "auth failed"; in
 * cluster mode, while the shared store is down, a yellow ring "redis down". The node's own latest
 * status comes back when neither applies.
 */
export function healthAwareStatus(RED: NodeAPI, node: Node, account: Account | undefined): HealthAwareStatus {
  let own: NodeStatus | Record<string, never> = {};
  let authFailed = false;
  let storeDown = false;
  const show = (): void => {
    if (authFailed) node.status({ fill: 'red', shape: 'ring', text: t(RED, 'status.auth-failed') });
    else if (storeDown) node.status({ fill: 'yellow', shape: 'ring', text: t(RED, 'status.redis-down') });
    else node.status(own);
  };
  const unsubscribeHealth =
    account?.onHealth((health) => {
      authFailed = health === 'auth_failed';
      show();
    }) ?? (() => undefined);
  const unsubscribeStore =
    account?.onClusterHealth((up) => {
      storeDown = !up;
      show();
    }) ?? (() => undefined);
  return {
    set(status) {
      own = status;
      if (!authFailed && !storeDown) node.status(status);
    },
    close: () => {
      unsubscribeHealth();
      unsubscribeStore();
    },
  };
}

/** The red ring of a node whose pbx-config is missing or cannot start (it has no account): the reason, translated. */
export function configStatus(RED: NodeAPI, config: PbxConfigNode | null | undefined): NodeStatus {
  const text = config ? configFaultText(RED, config.configFault) : t(RED, 'status.no-config');
  return { fill: 'red', shape: 'ring', text };
}

function configFaultText(RED: NodeAPI, fault: ConfigFault | undefined): string {
  switch (fault) {
    case 'path-in-use':
      return t(RED, 'status.config.path-in-use');
    case 'unknown-provider':
      return t(RED, 'status.config.unknown-provider');
    case 'bad-base-url':
      return t(RED, 'status.config.bad-base-url');
    case 'bad-allow-list':
      return t(RED, 'status.config.bad-allow-list');
    case 'bad-trusted-proxies':
      return t(RED, 'status.config.bad-trusted-proxies');
    case 'bad-cluster-settings':
      return t(RED, 'status.config.bad-cluster-settings');
    default:
      return t(RED, 'status.config-error');
  }
}

/** The red ring of a failed action: the error code's short text, translated. */
export function errorStatus(RED: NodeAPI, code: ErrorCode): NodeStatus {
  return { fill: 'red', shape: 'ring', text: errorText(RED, code) };
}

function errorText(RED: NodeAPI, code: ErrorCode): string {
  switch (code) {
    case 'invalid_input':
      return t(RED, 'status.error.invalid-input');
    case 'unsupported':
      return t(RED, 'status.error.unsupported');
    case 'auth_failed':
      return t(RED, 'status.auth-failed');
    case 'not_found':
      return t(RED, 'status.error.not-found');
    case 'timeout':
      return t(RED, 'status.error.timeout');
    case 'unreachable':
      return t(RED, 'status.error.unreachable');
    case 'provider_error':
      return t(RED, 'status.error.provider-error');
    case 'outcome_unknown':
      return t(RED, 'status.error.outcome-unknown');
  }
}
