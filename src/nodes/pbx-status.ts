import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ExtensionState } from '../core/types';
import { registerActionNode } from './action-node';
import { asPbxError } from './as-pbx-error';
import { t } from './i18n';
import { errorStatus, type HealthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import { PresenceWatch } from './presence-watch';
import type { Node, NodeAPI, NodeDef } from './red';

export const MIN_WATCH_SECONDS = 2;
/** This Node-RED process, as a lease holder among the instances of a cluster. */
const INSTANCE_ID = `${hostname()}/${process.pid}/${randomUUID()}`;

export default function register(RED: NodeAPI): void {
  registerActionNode(RED, 'pbx-status', 'status', (node: Node, def: NodeDef, pbx: PbxConfigNode | undefined, status: HealthAwareStatus) => {
    if (!(def.watch === true || def.watch === 'true')) return false;
    const seconds = Math.max(MIN_WATCH_SECONDS, Number(def.interval) || 10);
    const account = pbx?.account;
    if (!account) return true;
    const watch = new PresenceWatch({
      intervalMs: seconds * 1000,
      poll: async () => (await account.run('status', 'extensions', {})).payload as ExtensionState[],
      onChange: (change) =>
        node.send({ topic: change.extension, payload: change, pbx: { provider: account.definition.id, operation: 'extensions' } }),
      shared: account.store ? { store: account.store, name: node.id, owner: INSTANCE_ID } : undefined,
      onPoll: (outcome) => {
        if ('standby' in outcome) status.set({ fill: 'grey', shape: 'ring', text: t(RED, 'status.standby') });
        else if (outcome.ok) status.set({ fill: 'green', shape: 'dot', text: t(RED, 'status.watching', { count: outcome.count }) });
        else {
          const error = asPbxError(outcome.error);
          status.set(errorStatus(RED, error.code));
          node.warn(`${t(RED, 'warn.watch-failed')}: ${error.message}`);
        }
      },
    });
    watch.start();
    node.on('close', (_removed, done) => {
      // In cluster mode the lease is released first (within the store's deadline): another
      // instance then takes over at its next poll.
      void watch.stop().then(() => done());
    });
    return true;
  });
}
