import type { DeliveryGate } from '../core/account-keeper';

/** The part of Node-RED's runtime event emitter the gate listens to. */
export interface RuntimeEvents {
  on(event: string, listener: () => void): unknown;
}

const gates = new WeakMap<object, DeliveryGate>();

/**
 * Open while Node-RED's flows run: closed from `flows:stopping` (a deploy or a shutdown begins)
 * until `flows:started` (every node of the new flows exists and has subscribed). Closed at first,
 * since the package is loaded before the flows start. One gate per runtime.
 */
export function flowGate(events: RuntimeEvents | undefined): DeliveryGate {
  if (!events) return ALWAYS_OPEN;
  let gate = gates.get(events);
  if (!gate) {
    gate = runtimeGate(events);
    gates.set(events, gate);
  }
  return gate;
}

const ALWAYS_OPEN: DeliveryGate = { open: true, onChange: () => () => undefined };

function runtimeGate(events: RuntimeEvents): DeliveryGate {
  const listeners = new Set<(open: boolean) => void>();
  let open = false;
  const set = (value: boolean) => {
    if (value === open) return;
    open = value;
    for (const listener of [...listeners]) listener(value);
  };
  events.on('flows:stopping', () => set(false));
  events.on('flows:started', () => set(true));
  return {
    get open() {
      return open;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
