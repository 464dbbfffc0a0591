import { CALL_EVENT_NAMES, type CallEvent, type CallEventName } from '../core/types';
import { t } from './i18n';
import { migrateNode } from './migrate';
import { configStatus, healthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './red';

const DIRECTIONS = new Set(['any', 'inbound', 'outbound', 'internal']);

/** What a pbx-event node lets through, from its settings. */
export interface EventFilter {
  events: Set<CallEventName>;
  extension?: string;
  direction: string;
}

export function filterOf(def: NodeDef): EventFilter {
  const raw = Array.isArray(def.events) ? def.events : typeof def.events === 'string' && def.events ? String(def.events).split(',') : [];
  const events = new Set(
    raw.map((e) => String(e).trim()).filter((e): e is CallEventName => (CALL_EVENT_NAMES as readonly string[]).includes(e)),
  );
  const extension = String(def.extension ?? '').trim() || undefined;
  const direction = DIRECTIONS.has(String(def.direction)) ? String(def.direction) : 'any';
  return { events, extension, direction };
}

export function passes(filter: EventFilter, event: CallEvent): boolean {
  if (filter.events.size && !filter.events.has(event.event)) return false;
  if (filter.extension && event.extension !== filter.extension) return false;
  if (filter.direction !== 'any' && event.direction !== filter.direction) return false;
  return true;
}

export default function register(RED: NodeAPI): void {
  function PbxEvent(this: Node, saved: NodeDef): void {
    RED.nodes.createNode(this, saved);
    const node = this;
    const def = migrateNode(RED, node, saved);
    const config = RED.nodes.getNode(String(def.pbx ?? '')) as PbxConfigNode | null;
    const filter = filterOf(def);
    const perEventOutputs = Number(def.outputs) === 4;
    let count = 0;

    if (!config?.account) {
      node.status(configStatus(RED, config));
      return;
    }
    const status = healthAwareStatus(RED, node, config.account);
    status.set({ fill: 'grey', shape: 'ring', text: t(RED, 'status.waiting') });
    const unsubscribe = config.account.subscribe((event, raw) => {
      if (!passes(filter, event)) return;
      const msg: NodeMessage = { topic: event.event, payload: event, raw };
      count++;
      status.set({ fill: 'green', shape: 'dot', text: `${count} · ${new Date().toTimeString().slice(0, 8)}` });
      if (perEventOutputs) {
        const out: Array<NodeMessage | null> = [null, null, null, null];
        out[CALL_EVENT_NAMES.indexOf(event.event)] = msg;
        node.send(out);
      } else {
        node.send(msg);
      }
    });
    node.on('close', (_removed, done) => {
      unsubscribe();
      status.close();
      done();
    });
  }
  RED.nodes.registerType('pbx-event', PbxEvent);
}
