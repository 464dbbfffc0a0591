import { CALL_EVENT_NAMES, type CallEvent, type CallEventName, type RouteHop } from '../core/types';
import { t } from './i18n';
import { migrateNode } from './migrate';
import { configStatus, healthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './red';

const DIRECTIONS = new Set(['any', 'inbound', 'outbound', 'internal']);

/**
 * Where the extension filter looks: `event`, the extension the event is about; `route`, that or
 * any hop of the call's route so far ("rang at": a ring-all call missed on 204 passes 117 too).
 */
export type ExtensionMatch = 'event' | 'route';

/** What a pbx-event node lets through, from its settings. */
export interface EventFilter {
  events: Set<CallEventName>;
  extension?: string;
  extensionMatch: ExtensionMatch;
  direction: string;
}

export function filterOf(def: NodeDef): EventFilter {
  const raw = Array.isArray(def.events) ? def.events : typeof def.events === 'string' && def.events ? String(def.events).split(',') : [];
  const events = new Set(
    raw.map((e) => String(e).trim()).filter((e): e is CallEventName => (CALL_EVENT_NAMES as readonly string[]).includes(e)),
  );
  const extension = String(def.extension ?? '').trim() || undefined;
  // Saved before extensionMatch existed (or anything else): `event`, the old behaviour, so no migration step.
  const extensionMatch: ExtensionMatch = def.extensionMatch === 'route' ? 'route' : 'event';
  const direction = DIRECTIONS.has(String(def.direction)) ? String(def.direction) : 'any';
  return { events, extension, extensionMatch, direction };
}

/**
 * Whether `event` passes `filter`. `routeOf` gives the route of a call so far, for `route` on
 * events that carry no `call` summary (ringing, answered): the call tracker's, read as the event
 * is delivered, so it holds this event's hop and every earlier one.
 */
export function passes(filter: EventFilter, event: CallEvent, routeOf?: (callId: string) => readonly RouteHop[] | undefined): boolean {
  if (filter.events.size && !filter.events.has(event.event)) return false;
  if (filter.direction !== 'any' && event.direction !== filter.direction) return false;
  if (filter.extension && event.extension !== filter.extension) {
    if (filter.extensionMatch !== 'route') return false;
    const route = event.call?.route ?? routeOf?.(event.callId) ?? [];
    if (!route.some((hop) => hop.extension === filter.extension)) return false;
  }
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
    status.set(
      config.receivesWebhooks === false
        ? { fill: 'red', shape: 'ring', text: t(RED, 'status.no-webhooks') }
        : { fill: 'grey', shape: 'ring', text: t(RED, 'status.waiting') },
    );
    const tracker = config.account.tracker;
    const routeOf = (callId: string) => tracker.routeOf(callId);
    const unsubscribe = config.account.subscribe((event, raw) => {
      if (!passes(filter, event, routeOf)) return;
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
