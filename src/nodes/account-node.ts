import type { Account } from '../core/account';
import { PbxError } from '../core/errors';
import { isStoreError } from '../core/state';
import { messageOf } from './as-pbx-error';
import { t } from './i18n';
import { migrateNode } from './migrate';
import { configStatus, healthAwareStatus, type HealthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage } from './red';

/** A node that follows its config's account: its migrated properties, the account, its status. */
export interface AccountNode {
  def: NodeDef;
  account: Account;
  status: HealthAwareStatus;
}

/**
 * Sets up a node that follows the account of its `pbx` config (pbx-missed, pbx-stats). Without a
 * usable config the node shows why, fails every input with `invalid_input`, and this returns
 * undefined: the caller sets nothing else up.
 */
export function accountNode(RED: NodeAPI, node: Node, saved: NodeDef): AccountNode | undefined {
  const def = migrateNode(RED, node, saved);
  const config = RED.nodes.getNode(String(def.pbx ?? '')) as PbxConfigNode | null;
  const account = config?.account;
  const status = healthAwareStatus(RED, node, account);
  if (account) return { def, account, status };
  status.set(configStatus(RED, config));
  node.on('input', (_msg, _send, done) => done(new PbxError('invalid_input', config?.configError ?? t(RED, 'errors.no-config'))));
  node.on('close', (_removed, done) => {
    status.close();
    done();
  });
  return undefined;
}

/** Fails an input as action nodes do: the details on msg.pbx.error too (SPEC section 4). */
export function failInput(account: Account, msg: NodeMessage, done: DoneFn, err: PbxError): void {
  msg.pbx = { provider: account.definition.id, error: err.toJSON() };
  done(err);
}

/**
 * What a failed state-store step reports: a PbxError as it is, else `unreachable` when the store
 * is down and `provider_error` otherwise, with the node's own text for `reason`.
 */
export function storeFailure(err: unknown, describe: (reason: string) => string): PbxError {
  if (err instanceof PbxError) return err;
  return new PbxError(isStoreError(err) ? 'unreachable' : 'provider_error', describe(messageOf(err)));
}
