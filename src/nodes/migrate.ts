import { t } from './i18n';
import type { Node, NodeAPI, NodeDef } from './red';

/**
 * Saved node settings and how older ones load.
 *
 * Each node type saves a `version` with its settings (the `version` default in the editor's
 * `defaults`, nodes/<type>.html): the release of this package that last changed what that type
 * saves. Flows saved by 0.1.0 have none: no `version` means 0.1.0. A node passes the def it is
 * constructed with through `migrate` (`migrateNode`) and reads only the result, so the node code
 * knows one shape of settings, the current one.
 *
 * The rule, for a release that changes what a node type saves (adds, renames or reinterprets a
 * property):
 * 1. append a step to the type's list in MIGRATIONS, `{ to: '<that release>', up }`: `up` turns a
 *    def saved by the previous version into one that behaves the same under the new code (a new
 *    property gets the value that keeps the old behaviour, even where the editor's default for new
 *    nodes differs); it returns a new object and never throws (a value it does not expect stays);
 * 2. set the type's `version` default in nodes/<type>.html to the same release (a test compares them);
 * 3. add a def saved by the previous version to test/nodes/fixtures/ and check it loads the same.
 * A type whose saved settings did not change keeps its version. A def whose version this runtime
 * does not know (saved by a newer release, or not a version) is used as it is, with a warning:
 * settings cannot be migrated backwards.
 */
export const FIRST_VERSION = '0.1.0';

export type NodeType = 'pbx-config' | 'pbx-event' | 'pbx-call' | 'pbx-status' | 'pbx-queue' | 'pbx-missed' | 'pbx-stats';

export interface MigrationStep {
  /** The release whose saved settings this step produces. */
  to: string;
  up(def: NodeDef): NodeDef;
}

/** Per node type, the steps from FIRST_VERSION on, oldest first. */
export const MIGRATIONS: Readonly<Record<NodeType, readonly MigrationStep[]>> = {
  'pbx-config': [],
  'pbx-event': [],
  'pbx-call': [],
  'pbx-status': [],
  'pbx-queue': [],
  'pbx-missed': [],
  'pbx-stats': [],
};

/** The version a node type saves now: that of its last step. */
export function currentVersion(type: NodeType, migrations = MIGRATIONS): string {
  return migrations[type].at(-1)?.to ?? FIRST_VERSION;
}

/**
 * `def` at the current version of its type: the steps newer than its version applied in order,
 * `version` set. A def of another type, or of a version this runtime does not know, comes back
 * as it is. `def` itself is never changed.
 */
export function migrate(def: NodeDef, migrations = MIGRATIONS): NodeDef {
  const steps = stepsOf(def.type, migrations);
  const from = savedVersion(def);
  if (!steps || !isKnownVersion(from, def.type as NodeType, migrations)) return def;
  let out: NodeDef = { ...def };
  for (const step of steps) if (compareVersions(step.to, from) > 0) out = step.up(out);
  return { ...out, version: currentVersion(def.type as NodeType, migrations) };
}

/** True when `def` was saved with a version this runtime cannot migrate from (newer, or not a version). */
export function isUnknownVersion(def: NodeDef, migrations = MIGRATIONS): boolean {
  return stepsOf(def.type, migrations) !== undefined && !isKnownVersion(savedVersion(def), def.type as NodeType, migrations);
}

/** `migrate` for a node's constructor: warns (once, at construction) when the def's version is unknown. */
export function migrateNode(RED: NodeAPI, node: Node, def: NodeDef): NodeDef {
  if (isUnknownVersion(def)) node.warn(t(RED, 'warn.unknown-version', { version: String(def.version) }));
  return migrate(def);
}

function stepsOf(type: string, migrations: Readonly<Record<NodeType, readonly MigrationStep[]>>): readonly MigrationStep[] | undefined {
  return Object.hasOwn(migrations, type) ? migrations[type as NodeType] : undefined;
}

function savedVersion(def: NodeDef): unknown {
  return def.version === undefined || def.version === '' ? FIRST_VERSION : def.version;
}

function isKnownVersion(
  version: unknown,
  type: NodeType,
  migrations: Readonly<Record<NodeType, readonly MigrationStep[]>>,
): version is string {
  return typeof version === 'string' && VERSION.test(version) && compareVersions(version, currentVersion(type, migrations)) <= 0;
}

const VERSION = /^\d{1,9}\.\d{1,9}\.\d{1,9}$/;

/** Compares two `major.minor.patch` versions: negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
