import type { CredentialField, ProviderDefinition, SettingField } from './provider';
import { LANGUAGES, NODE_PARAMS, type LocalizedText, type NodeKind, type OperationSpec, type ProviderId } from './types';

/** The credential every provider has: the secret a webhook request must carry. */
export const WEBHOOK_SECRET = 'webhookSecret';

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

/**
 * Operation names of every provider registered in this process, per node kind, in registration
 * order: an operation outside these is a mistake (`invalid_input`), one inside them that a
 * provider lacks is `unsupported`.
 */
const vocabulary: Record<NodeKind, string[]> = { call: [], status: [], queue: [] };

export function operationNames(node: NodeKind): readonly string[] {
  return vocabulary[node];
}

const ID = /^[a-z0-9][a-z0-9-]*$/;
const PROPERTY = /^[A-Za-z][A-Za-z0-9]*$/;
const HINT_URL = /\{url(\?[^}]*)?\}/;

/** The providers of the package, looked up by id (a Map: an id from input finds no prototype member). */
export class ProviderRegistry {
  private readonly byId = new Map<ProviderId, ProviderDefinition>();

  /** Checks every definition; a broken one throws here, when the package loads, naming what is wrong. */
  constructor(definitions: readonly ProviderDefinition[]) {
    for (const definition of definitions) {
      const problems = problemsOf(definition);
      if (this.byId.has(definition.id)) problems.push('registered twice');
      if (problems.length) throw new Error(`provider "${definition.id}": ${problems.join('; ')}`);
      this.byId.set(definition.id, definition);
      for (const o of definition.operations) if (!vocabulary[o.node].includes(o.name)) vocabulary[o.node].push(o.name);
    }
  }

  get(id: string): ProviderDefinition | undefined {
    return this.byId.get(id);
  }

  list(): ProviderDefinition[] {
    return [...this.byId.values()];
  }

  /** Every provider's credential names and `webhookSecret`: what pbx-config declares to Node-RED. */
  credentialNames(): string[] {
    return unique([...this.list().flatMap((d) => d.credentials.map((c) => c.name)), WEBHOOK_SECRET]);
  }

  /** Every provider's extra setting names: pbx-config properties besides its own. */
  settingNames(): string[] {
    return unique(this.list().flatMap((d) => (d.settings ?? []).map((s) => s.name)));
  }

  catalog(): ProviderCatalog {
    const out: ProviderCatalog = {};
    for (const d of this.list()) {
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
      if (!PROPERTY.test(name) || name === WEBHOOK_SECRET) problems.push(`${what} "${name}" is not a usable name`);
      if (seen.has(name)) problems.push(`${what} "${name}" appears twice`);
      seen.add(name);
    }
  };
  if (!ID.test(d.id)) problems.push('the id must be lower-case letters, digits and dashes');
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
