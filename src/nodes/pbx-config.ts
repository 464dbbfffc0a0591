import { createHash, randomBytes } from 'node:crypto';
import { Account, DIRECTORY_KINDS, type AccountOptions, type DirectoryKind } from '../core/account';
import { AccountKeeper } from '../core/account-keeper';
import { PbxError, Redactor } from '../core/errors';
import { ownProperty } from '../core/lookup';
import { rateLimited } from '../core/rate-limit';
import type { AccountSettings, PbxCredentials } from '../core/types';
import {
  addressList,
  normalizePath,
  routerFor,
  validateAllowList,
  WebhookPathConflictError,
  type Middleware,
  type ServedAt,
} from '../core/webhook-router';
import type { ProviderDefinition } from '../core/provider';
import { clusterSettingsOf, type ClusterSettings } from '../core/cluster-settings';
import { catalogOf, credentialNames, REDIS_PASSWORD } from '../core/registry';
import { createStateStore } from '../core/state';
import { CallCloser, DEFAULT_STALE_AFTER_SECONDS } from '../core/call-closer';
import { flowGate } from './flow-gate';
import { PROVIDERS, providerOf } from '../providers';
import { asPbxError, messageOf } from './as-pbx-error';
import { checkDialogRedis, type PartResult } from './dialog-redis';
import { t } from './i18n';
import { migrateNode } from './migrate';
import type { AdminRequest, AdminResponse, Node, NodeAPI, NodeDef } from './red';

export interface PbxConfigNode extends Node {
  provider: string;
  baseUrl: string;
  webhookPath: string;
  /** Undefined when the node's settings are unusable; `configError` says why, `configFault` which kind of why. */
  account?: Account;
  configError?: string;
  configFault?: ConfigFault;
  /** Where this config's replicas share state (SPEC section 8); no `redisUrl` = single instance. */
  cluster?: ClusterSettings;
  /** False where Node-RED serves no HTTP node routes (`httpNodeRoot: false`): no call events can arrive. */
  receivesWebhooks?: boolean;
  /** Closes stale and reconciled calls of `account` (SPEC section 9). */
  closer?: CallCloser;
}

/** Why a pbx-config cannot start: the nodes that use it show it (translated) as their status. */
export type ConfigFault =
  'unknown-provider' | 'bad-base-url' | 'bad-allow-list' | 'bad-trusted-proxies' | 'bad-cluster-settings' | 'path-in-use' | 'config-error';

/** Every provider's credentials and the webhook secret; the editor declares the same (written by scripts/build.js). */
const CREDENTIALS = Object.fromEntries(credentialNames(PROVIDERS).map((name) => [name, { type: 'password' as const }]));

export default function register(RED: NodeAPI): void {
  function PbxConfig(this: PbxConfigNode, saved: NodeDef): void {
    RED.nodes.createNode(this, saved);
    const node = this;
    const def = migrateNode(RED, node, saved);
    node.provider = String(def.provider ?? '');
    node.baseUrl = String(def.baseUrl ?? '').trim();
    node.webhookPath = normalizePath(String(def.webhookPath || `/pbx/${node.id}`));
    const credentials = (node.credentials ?? {}) as PbxCredentials;
    const redactor = new Redactor(Object.values(credentials));
    const keeper = keeperFor(RED, node);

    // The step being taken, for the fault to show if it throws.
    let fault: ConfigFault = 'unknown-provider';
    try {
      const definition = providerOf(node.provider);
      if (!definition) throw new Error(t(RED, 'errors.unknown-provider', { provider: node.provider }));
      fault = 'bad-base-url';
      const settings = settingsOf(def, credentials, definition);
      fault = 'bad-allow-list';
      const allowFrom = String(def.allowFrom ?? '');
      validateAllowList(allowFrom);
      fault = 'bad-trusted-proxies';
      const trustedProxies = String(def.trustedProxies ?? '');
      addressList(trustedProxies, 'trustedProxies');
      fault = 'bad-cluster-settings';
      const cluster = clusterSettingsOf(def, credentials.redisPassword || undefined);
      node.cluster = cluster;
      fault = 'config-error';
      const publicUrl = String(def.publicUrl ?? '').trim();
      if (publicUrl && !isPublicUrl(publicUrl)) node.warn(t(RED, 'warn.bad-public-url', { url: publicUrl }));
      node.receivesWebhooks = receivesWebhooks(RED);
      if (!node.receivesWebhooks) node.warn(t(RED, 'warn.no-http-node'));
      const rejections = rateLimited((m) => node.warn(redactor.redact(m)));
      node.account = keeper.attach(node.id, {
        settingsKey: createHash('sha256')
          .update(JSON.stringify([settings, cluster]))
          .digest('base64'),
        provider: definition.id,
        create: (memory, log) => new Account({ settings, definition, log, memory, cluster: sharedStateOf(cluster, node.id) }),
        route: node.receivesWebhooks
          ? { path: node.webhookPath, secret: credentials.webhookSecret || undefined, allowFrom, trustedProxies }
          : undefined,
        onRejected: (status, reason, remote) => rejections(`${t(RED, 'warn.webhook-rejected')} ${status} (${reason}) from ${remote}`),
        log: { debug: (m) => node.debug(m), warn: (m) => node.warn(m) },
      });
      node.closer = closerOf(def, node.account, { debug: (m) => node.debug(m), warn: (m) => node.warn(m) });
      node.closer.start();
    } catch (err) {
      node.configFault = err instanceof WebhookPathConflictError ? 'path-in-use' : fault;
      node.configError = redactor.redact(messageOf(err));
      node.error(node.configError);
    }

    node.on('close', (removed, done) => {
      // A redeploy keeps the account for this node's successor (same id); a removal ends it.
      node.closer?.stop();
      node.closer = undefined;
      keeper.detach(node.id, removed === true);
      node.account = undefined;
      done();
    });
  }

  RED.nodes.registerType('pbx-config', PbxConfig, { credentials: CREDENTIALS });

  // What the editor knows of every provider (it has the same, from resources/providers.js).
  RED.httpAdmin.get('/pbx-config/providers', RED.auth.needsPermission('pbx-config.read'), (_req, res) => {
    res.json(catalogOf(PROVIDERS));
  });

  // What the config dialog says about how webhooks reach this runtime.
  RED.httpAdmin.get('/pbx-config/webhook-setup', RED.auth.needsPermission('pbx-config.read'), (_req, res) => {
    res.json({ bodiesParsedByNodeRed: nodeRedParsesWebhookBodies(RED), httpNodeAuth: hasHttpNodeAuth(RED) });
  });

  RED.httpAdmin.get('/pbx-config/secret', RED.auth.needsPermission('pbx-config.write'), (_req, res) => {
    res.json({ secret: randomBytes(18).toString('base64url') });
  });

  RED.httpAdmin.post('/pbx-config/test', RED.auth.needsPermission('pbx-config.write'), (req, res) => {
    void testConnection(RED, req, res);
  });

  // Completion lists for the action nodes' extension / queue / group fields.
  RED.httpAdmin.get('/pbx-config/:id/directory', RED.auth.needsPermission('pbx-config.read'), (req, res) => {
    void deployedDirectory(RED, req, res);
  });

  RED.httpAdmin.post('/pbx-config/directory', RED.auth.needsPermission('pbx-config.write'), (req, res) => {
    void dialogDirectory(RED, req, res);
  });
}

/** Whether Node-RED serves HTTP node routes: it always has an httpNode app, but `httpNodeRoot: false` serves none. */
function receivesWebhooks(RED: NodeAPI): boolean {
  return !!RED.httpNode && RED.settings.httpNodeRoot !== false;
}

const keepers = new WeakMap<object, AccountKeeper>();

/**
 * One keeper per Node-RED runtime (per HTTP app the webhooks are served on). Made by the first
 * config node that starts, which also logs, once, the settings of the runtime that stand between
 * a PBX and the webhooks.
 */
function keeperFor(RED: NodeAPI, node: PbxConfigNode): AccountKeeper {
  const key = RED.httpNode ?? RED;
  let keeper = keepers.get(key);
  if (!keeper) {
    const router = RED.httpNode ? routerFor(RED.httpNode, httpNodeMiddleware(RED), servedAt(RED)) : undefined;
    keeper = new AccountKeeper(router, flowGate(RED.events));
    keepers.set(key, keeper);
    if (hasHttpNodeAuth(RED)) node.warn(t(RED, 'warn.http-node-auth'));
    if (nodeRedParsesWebhookBodies(RED)) node.warn(t(RED, 'warn.admin-root'));
  }
  return keeper;
}

/**
 * The base URL the PBX reaches Node-RED at, as the config dialog accepts it: http(s), no query or
 * fragment (httpNodeRoot, the webhook path and the secret are appended to it).
 */
function isPublicUrl(url: string): boolean {
  return /^https?:\/\/[^\s/?#]+[^\s?#]*$/i.test(url);
}

/**
 * Node-RED's `httpNodeAuth` (or `httpAuth`) is set: it answers a webhook without those
 * credentials 401 before the router sees it, so no rejection is logged.
 */
function hasHttpNodeAuth(RED: NodeAPI): boolean {
  return RED.settings.httpNodeRoot !== false && !!(RED.settings.httpNodeAuth ?? RED.settings.httpAuth);
}

/**
 * Whether Node-RED's admin app parses webhook bodies before the router does: its root contains
 * httpNodeRoot (the default, both '/') and the router could not claim the requests on the server
 * (see `WebhookRouter.claimOn`). Malformed JSON is then rejected by Node-RED itself.
 */
function nodeRedParsesWebhookBodies(RED: NodeAPI): boolean {
  const { httpAdminRoot, httpNodeRoot } = RED.settings;
  if (!RED.httpNode || httpAdminRoot === false || httpNodeRoot === false || servedAt(RED)) return false;
  const admin = rootOf(httpAdminRoot).toLowerCase();
  const nodes = rootOf(httpNodeRoot).toLowerCase();
  return admin === '/' || nodes === admin || nodes.startsWith(admin + '/');
}

function rootOf(setting: unknown): string {
  return typeof setting === 'string' ? normalizePath(setting) : '/';
}

/**
 * The config's stale / reconciled call closing (SPEC section 9): `staleAfter` seconds (default
 * 14400, 0 = never), `reconcile` (default on). `reconcileEvery` (seconds, default 60) is not in
 * the dialog: it exists for tests. In cluster mode the instance holding the closer lease closes.
 */
function closerOf(def: NodeDef, account: Account, log: { debug(m: string): void; warn(m: string): void }): CallCloser {
  const every = secondsOf(def.reconcileEvery);
  return new CallCloser(account, {
    staleAfterSeconds: secondsOf(def.staleAfter) ?? DEFAULT_STALE_AFTER_SECONDS,
    reconcile: def.reconcile !== false && def.reconcile !== 'false',
    reconcileEveryMs: every ? every * 1000 : undefined,
    log,
  });
}

/** A non-negative number of seconds (a number or numeric text); undefined when absent or not one. */
function secondsOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The shared store of a config in cluster mode (a Redis URL is set); undefined for a single instance. */
function sharedStateOf(cluster: ClusterSettings, configId: string): AccountOptions['cluster'] {
  if (!cluster.redisUrl) return undefined;
  const store = createStateStore({ redisUrl: cluster.redisUrl, password: cluster.redisPassword, keyPrefix: cluster.keyPrefix, configId });
  return { store, redisDown: cluster.redisDown, namespace: `${cluster.keyPrefix}${configId}` };
}

function settingsOf(def: NodeDef, credentials: PbxCredentials, definition: ProviderDefinition): AccountSettings {
  const baseUrl = String(def.baseUrl ?? '').trim();
  if (!/^https?:\/\/[^\s]+$/i.test(baseUrl)) throw new Error(`base URL "${baseUrl}" is not an http(s) URL`);
  const timeout = Number(def.timeout);
  return {
    provider: definition.id,
    baseUrl,
    timeout: Number.isFinite(timeout) && timeout > 0 ? timeout : 10000,
    rejectUnauthorized: def.rejectUnauthorized !== false && def.rejectUnauthorized !== 'false',
    credentials,
    extra: extraSettingsOf(def, definition),
  };
}

/** The provider's extra settings: each the node's value when it is one of the options, else the first option. */
function extraSettingsOf(def: NodeDef, definition: ProviderDefinition): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const setting of definition.settings ?? []) {
    const value = ownProperty(def, setting.name);
    const chosen = setting.options.find((o) => o.value === value) ?? setting.options[0];
    extra[setting.name] = chosen.value;
  }
  return extra;
}

/** Node-RED's server and httpNodeRoot, where the router claims webhook requests before Node-RED's body parsers. */
function servedAt(RED: NodeAPI): ServedAt | undefined {
  const nodeRoot = RED.settings.httpNodeRoot;
  if (!RED.server || nodeRoot === false) return undefined;
  return { server: RED.server, nodeRoot: typeof nodeRoot === 'string' ? nodeRoot : '/' };
}

/** Node-RED's `httpNodeMiddleware` setting, applied to webhooks as the http-in node does. */
function httpNodeMiddleware(RED: NodeAPI): Middleware[] {
  const mw = RED.settings.httpNodeMiddleware;
  if (typeof mw === 'function') return [mw as Middleware];
  if (Array.isArray(mw)) return mw.filter((m): m is Middleware => typeof m === 'function');
  return [];
}

const STORED = '__PWRD__';

/** What an editor endpoint answers: `{ ok: true, ...result }`, or `{ ok: false, code, message }` redacted. */
async function answer(res: AdminResponse, redactor: Redactor, work: () => Promise<Record<string, unknown>>): Promise<void> {
  try {
    res.json({ ok: true, ...(await work()) });
  } catch (err) {
    const e = asPbxError(err);
    res.json({ ok: false, code: e.code, message: redactor.redact(e.message) });
  }
}

/**
 * The account a config dialog's values describe, for the editor endpoints that run before (or
 * without) a deploy. The body is what the dialog sends: `id`, `provider`, `baseUrl`, `timeout`,
 * `rejectUnauthorized`, `credentials`. A credential sent as `__PWRD__` stands for the one stored
 * for node `id`; stored credentials are used only when that node is deployed with the same
 * provider and base URL, so a dialog cannot send them to another host. Every answer goes through
 * `redactor`, which knows both the stored and the typed credentials. The Redis password is not
 * the account's: Test connection checks it apart (see `checkDialogRedis`).
 */
function dialogAccount(RED: NodeAPI, body: Record<string, unknown>): { redactor: Redactor; open(): Account } {
  const sent = (body.credentials && typeof body.credentials === 'object' ? body.credentials : {}) as Record<string, unknown>;
  const typed = Object.fromEntries(Object.entries(sent).filter(([name]) => name !== REDIS_PASSWORD));
  const id = typeof body.id === 'string' ? body.id : '';
  const stored = id ? (RED.nodes.getCredentials(id) ?? {}) : {};
  const redactor = new Redactor([...Object.values(stored), ...Object.values(sent).map(String)]);
  const open = (): Account => {
    const deployed = id ? (RED.nodes.getNode(id) as PbxConfigNode | null) : null;
    const baseUrl = String(body.baseUrl ?? '').trim();
    const wantsStored = Object.values(typed).some((v) => v === STORED);
    if (wantsStored && (!deployed || !deployed.account || deployed.account.definition.id !== body.provider)) {
      throw new PbxError('invalid_input', t(RED, 'errors.stored-credentials'));
    }
    if (wantsStored && deployed?.baseUrl !== baseUrl) {
      throw new PbxError('invalid_input', t(RED, 'errors.stored-credentials-base-url'));
    }
    const credentials: PbxCredentials = {};
    for (const key of Object.keys(CREDENTIALS)) {
      const v = ownProperty(typed, key);
      if (v === STORED) credentials[key] = ownProperty(stored, key);
      else if (typeof v === 'string' && v) credentials[key] = v;
    }
    const definition = providerOf(String(body.provider ?? ''));
    if (!definition) throw new PbxError('invalid_input', t(RED, 'errors.unknown-provider', { provider: String(body.provider) }));
    return new Account({
      settings: settingsOf({ ...body, id: 'dialog', type: 'pbx-config' } as NodeDef, credentials, definition),
      definition,
      log: { debug: () => undefined, warn: () => undefined },
      retryDelaysMs: [],
    });
  };
  return { redactor, open };
}

/**
 * Test connection from the editor, with the dialog's values. With a Redis URL it checks Redis too,
 * at the same time, and answers both parts in one message (`...; Redis: ...`) plus `redis`.
 */
async function testConnection(RED: NodeAPI, req: AdminRequest, res: AdminResponse): Promise<void> {
  const body = req.body ?? {};
  const dialog = dialogAccount(RED, body);
  const provider = async (): Promise<string> => {
    const account = dialog.open();
    try {
      return await account.testConnection();
    } finally {
      account.close();
    }
  };
  if (!String(body.redisUrl ?? '').trim()) {
    await answer(res, dialog.redactor, async () => ({ message: await provider() }));
    return;
  }
  const [pbx, redis] = await Promise.all([
    provider().then(
      (message): PartResult => ({ ok: true, message }),
      (err: unknown): PartResult => {
        const e = asPbxError(err);
        return { ok: false, code: e.code, message: `${e.code}: ${e.message}` };
      },
    ),
    dialogRedis(RED, body),
  ]);
  const failed = !pbx.ok ? pbx : !redis.ok ? redis : undefined;
  res.json({
    ok: !failed,
    ...(failed ? { code: failed.code } : {}),
    message: dialog.redactor.redact(`${pbx.message}; Redis: ${redis.message}`),
    redis: { ...redis, message: dialog.redactor.redact(redis.message) },
  });
}

/** The Redis part of Test connection, with the deployed node's Redis URL and stored password (see `dialogAccount`). */
function dialogRedis(RED: NodeAPI, body: Record<string, unknown>): Promise<PartResult> {
  const id = typeof body.id === 'string' ? body.id : '';
  const node = id ? (RED.nodes.getNode(id) as PbxConfigNode | null) : null;
  const deployed = node?.type === 'pbx-config' ? node : null;
  const sent = (body.credentials && typeof body.credentials === 'object' ? body.credentials : {}) as Record<string, unknown>;
  return checkDialogRedis(
    RED,
    body,
    ownProperty(sent, REDIS_PASSWORD),
    {
      node: deployed,
      redisUrl: deployed?.cluster?.redisUrl,
      storedPassword: deployed ? ownProperty(RED.nodes.getCredentials(id) ?? {}, REDIS_PASSWORD) : undefined,
    },
    STORED,
  );
}

function directoryKindOf(RED: NodeAPI, value: unknown): DirectoryKind {
  const kind = String(value ?? '');
  if (!(DIRECTORY_KINDS as readonly string[]).includes(kind)) {
    throw new PbxError('invalid_input', t(RED, 'errors.directory-kind', { kind, kinds: DIRECTORY_KINDS.join(', ') }));
  }
  return kind as DirectoryKind;
}

/** Extensions, queues, ring groups or user groups of a deployed config node, for completion. */
async function deployedDirectory(RED: NodeAPI, req: AdminRequest, res: AdminResponse): Promise<void> {
  const node = RED.nodes.getNode(String(req.params.id ?? '')) as PbxConfigNode | null;
  if (!node || node.type !== 'pbx-config') {
    res.status(404).json({ ok: false, code: 'not_found', message: t(RED, 'errors.not-deployed') });
    return;
  }
  const account = node.account;
  await answer(res, account?.redactor ?? new Redactor(Object.values(node.credentials ?? {})), async () => {
    if (!account) throw new PbxError('invalid_input', node.configError ?? t(RED, 'errors.not-deployed'));
    const kind = directoryKindOf(RED, req.query.kind);
    return { kind, ...(await account.directory(kind)) };
  });
}

/** The same with the dialog's values, for a config node that is new or changed since deploy. */
async function dialogDirectory(RED: NodeAPI, req: AdminRequest, res: AdminResponse): Promise<void> {
  const body = req.body ?? {};
  const dialog = dialogAccount(RED, body);
  await answer(res, dialog.redactor, async () => {
    const kind = directoryKindOf(RED, body.kind);
    const account = dialog.open();
    try {
      return { kind, ...(await account.directory(kind)) };
    } finally {
      account.close();
    }
  });
}
