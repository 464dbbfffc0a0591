import type { Account } from '../core/account';
import { PbxError } from '../core/errors';
import { t } from './i18n';
import { migrateNode } from './migrate';
import { configStatus, healthAwareStatus, type HealthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeDef } from './red';

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
