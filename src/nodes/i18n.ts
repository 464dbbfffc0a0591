import type { NodeAPI } from './red';

/** Every runtime string lives in the pbx-config catalog (nodes/locales/<lang>/pbx-config.json). */
const CATALOG = '@callflow/node-red-pbx/pbx-config';

/**
 * The text of `key` in Node-RED's language. Node-RED loads the catalog with the node set; a key
 * missing from it comes back as the key itself (visible, and failed by the node tests, which load
 * the real catalogs).
 */
export function t(RED: NodeAPI, key: string, substitutions?: Record<string, unknown>): string {
  return RED._(`${CATALOG}:${key}`, substitutions);
}
