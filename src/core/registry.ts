import type { CredentialField, ProviderDefinition, SettingField } from './provider';
import { LANGUAGES, NODE_PARAMS, type LocalizedText, type NodeKind, type OperationSpec, type ProviderId } from './types';

/** The credential every provider has: the secret a webhook request must carry. */
export const WEBHOOK_SECRET = 'webhookSecret';
/** The pbx-config credential every provider has for cluster mode (SPEC section 8). */
export const REDIS_PASSWORD = 'redisPassword';

/** What the editor knows of one provider: its definition without the code. */
export interface CatalogEntry {
  label: LocalizedText;
  credentials: readonly CredentialField[];
  settings: readonly SettingField[];
  baseUrlPlaceholder: string;
  webhookHint: LocalizedText;
  operations: readonly OperationSpec[];
}

/** Every provider by id, in the registry's order: served to the editor and written into resources/ at build. */
export type ProviderCatalog = Record<ProviderId, CatalogEntry>;

/** Every provider by id, in the order the editor lists them (no prototype: an id from input finds nothing else). */
export type ProviderMap = Readonly<Record<ProviderId, ProviderDefinition>>;

/**
 * Operation names of every provider registered in this process, per node kind, in registration
 * order: an operation outside these is a mistake (`invalid_input`), one inside them that a
 * provider lacks is `unsupported`.
 */
export const KNOWN_OPERATIONS: Readonly<Record<NodeKind, readonly string[]>> = { call: [], status: [], queue: [] };

const ID = /^(?!\d+$)[a-z0-9][a-z0-9-]*$/;
const PROPERTY = /^[A-Za-z][A-Za-z0-9]*$/;
const HINT_URL = /\{url(\?[^}]*)?\}/;

/** Checks every definition (a broken one throws here, when the package loads, naming what is wrong) and maps them by id. */
export function registerProviders(definitions: readonly ProviderDefinition[]): ProviderMap {
  const byId: Record<ProviderId, ProviderDefinition> = Object.create(null);
  for (const definition of definitions) {
    const problems = problemsOf(definition);
    if (Object.prototype.hasOwnProperty.call(byId, definition.id)) problems.push('registered twice');
    if (problems.length) throw new Error(`provider "${definition.id}": ${problems.join('; ')}`);
    byId[definition.id] = definition;
  }
  for (const definition of definitions) {
    for (const o of definition.operations) {
      const known = KNOWN_OPERATIONS[o.node] as string[];
      if (!known.includes(o.name)) known.push(o.name);
    }
  }
  return Object.freeze(byId);
}

/** Every provider's credential names and `webhookSecret`: what pbx-config declares to Node-RED. */
export function credentialNames(providers: ProviderMap): string[] {
  return unique([...Object.values(providers).flatMap((d) => d.credentials.map((c) => c.name)), WEBHOOK_SECRET, REDIS_PASSWORD]);
}

/** Every provider's extra setting names: pbx-config properties besides its own. */
export function settingNames(providers: ProviderMap): string[] {
  return unique(Object.values(providers).flatMap((d) => (d.settings ?? []).map((s) => s.name)));
}

/** What the editor knows of every provider: the definitions without their code. */
export function catalogOf(providers: ProviderMap): ProviderCatalog {
  const out: ProviderCatalog = {};
  for (const d of Object.values(providers)) {
    out[d.id] = {
      label: d.label,
      credentials: d.credentials,
      settings: d.settings ?? [],
      baseUrlPlaceholder: d.baseUrlPlaceholder,
      webhookHint: d.webhookHint,
      operations: d.operations,
    };
  }
  return out;
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function problemsOf(d: ProviderDefinition): string[] {
  const problems: string[] = [];
  const text = (what: string, value: LocalizedText | undefined): void => {
    for (const lang of LANGUAGES) if (!value?.[lang]?.trim()) problems.push(`${what} has no ${lang} text`);
  };
  const names = (what: string, list: readonly { name: string }[]): void => {
    const seen = new Set<string>();
    for (const { name } of list) {
      if (!PROPERTY.test(name) || name === WEBHOOK_SECRET || name === REDIS_PASSWORD)
        problems.push(`${what} "${name}" is not a usable name`);
      if (seen.has(name)) problems.push(`${what} "${name}" appears twice`);
      seen.add(name);
    }
  };
  if (!ID.test(d.id)) problems.push('the id must be lower-case letters, digits and dashes, not only digits');
  text('label', d.label);
  text('webhookHint', d.webhookHint);
  for (const lang of LANGUAGES) if (!HINT_URL.test(d.webhookHint?.[lang] ?? '')) problems.push(`webhookHint ${lang} has no {url}`);
  if (!/^https?:\/\/\S+$/.test(d.baseUrlPlaceholder)) problems.push('baseUrlPlaceholder is not an http(s) URL');
  names('credential', d.credentials);
  for (const c of d.credentials) text(`credential ${c.name}`, c.label);
  names('setting', d.settings ?? []);
  for (const s of d.settings ?? []) {
    text(`setting ${s.name}`, s.label);
    if (!s.options.length) problems.push(`setting ${s.name} has no options`);
    for (const o of s.options) text(`setting ${s.name} option ${o.value}`, o.label);
  }
  const ops = new Set<string>();
  for (const o of d.operations) {
    const key = `${o.node} ${o.name}`;
    const params: readonly string[] = NODE_PARAMS[o.node] ?? [];
    if (!params.length) problems.push(`operation ${o.name} is for an unknown node kind "${o.node}"`);
    if (!ID.test(o.name)) problems.push(`operation "${o.name}" must be lower-case letters, digits and dashes`);
    if (ops.has(key)) problems.push(`operation ${key} appears twice`);
    ops.add(key);
    for (const p of [...o.required, ...o.optional]) if (!params.includes(p)) problems.push(`operation ${key}: no node parameter "${p}"`);
    if (o.required.some((p) => o.optional.includes(p))) problems.push(`operation ${key}: a parameter both required and optional`);
  }
  return problems;
}
