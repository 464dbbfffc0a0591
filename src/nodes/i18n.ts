import type { NodeAPI } from './red';

/** Every runtime string lives in the pbx-config catalog (nodes/locales/<lang>/pbx-config.json). */
const CATALOG = '@callflow/node-red-pbx/pbx-config';

export function t(RED: NodeAPI, key: string, substitutions?: Record<string, unknown>): string {
  const full = `${CATALOG}:${key}`;
  const text = RED._(full, substitutions);
  // Without a loaded catalog (unit tests) i18next hands the key back: show something readable.
  return text === full || text === key ? key.split('.').pop()!.replace(/-/g, ' ') : text;
}
