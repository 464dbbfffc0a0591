import { ClusterSettingsError, clusterSettingsOf, withoutUserInfo } from '../core/cluster-settings';
import { PbxError, type ErrorCode } from '../core/errors';
import { RedisStore } from '../core/state';
import { t } from './i18n';
import type { Node, NodeAPI } from './red';

/** Connection and every command of the dialog's Redis check: long enough for a remote Redis, short enough to wait for. */
export const DIALOG_REDIS_DEADLINE_MS = 3000;

/** One part of Test connection (the PBX, or Redis): `message` never holds a credential. */
export interface PartResult {
  ok: boolean;
  code?: ErrorCode;
  message: string;
}

/** What the runtime keeps of the node being edited: its deployed Redis URL and stored password. */
export interface DeployedRedis {
  node: Node | null;
  redisUrl?: string;
  storedPassword?: string;
}

/** `${NAME}` as a whole value: Node-RED puts the environment variable in its place when the flows start. */
const ENV_REFERENCE = /^\$\{(\S+)\}$/;

/**
 * The Redis URL as the deployed node would get it: a whole-value `${NAME}` resolved the way
 * Node-RED resolves it (the node's flow and global environment, then the process's).
 */
export function resolvedRedisUrl(RED: NodeAPI, raw: string, node: Node | null): string {
  const reference = ENV_REFERENCE.exec(raw);
  if (!reference) return raw;
  let value: unknown;
  RED.util.evaluateNodeProperty(raw, 'env', node as Node, {}, (err, result) => {
    value = err ? undefined : result;
  });
  const url = typeof value === 'string' ? value.trim() : '';
  if (!url) throw new PbxError('invalid_input', t(RED, 'redis-test.env-unset', { name: reference[1] }));
  return url;
}

/**
 * Test connection's Redis part, for a dialog with a Redis URL: opens a store with the dialog's
 * values and a short deadline, reads through it once (which needs the password), and closes it.
 * `typedPassword` is what the dialog sent: `stored` stands for the deployed node's password, used
 * only when that node is deployed with the same Redis URL (so editing the URL cannot send it to
 * another server).
 */
export async function checkDialogRedis(
  RED: NodeAPI,
  body: Record<string, unknown>,
  typedPassword: unknown,
  deployed: DeployedRedis,
  stored: string,
): Promise<PartResult> {
  let shown = withoutUserInfo(String(body.redisUrl ?? '').trim());
  try {
    const url = resolvedRedisUrl(RED, String(body.redisUrl ?? '').trim(), deployed.node);
    shown = withoutUserInfo(url);
    const settings = clusterSettingsOf({ redisUrl: url, keyPrefix: body.keyPrefix, redisDown: body.redisDown });
    let password: string | undefined;
    if (typedPassword === stored) {
      if (!deployed.redisUrl || deployed.redisUrl !== url) throw new PbxError('invalid_input', t(RED, 'redis-test.stored-password'));
      password = deployed.storedPassword || undefined;
    } else if (typeof typedPassword === 'string' && typedPassword) {
      password = typedPassword;
    }
    const store = new RedisStore({
      url,
      password,
      keyPrefix: settings.keyPrefix,
      configId: 'dialog-test',
      commandTimeoutMs: DIALOG_REDIS_DEADLINE_MS,
      connectTimeoutMs: DIALOG_REDIS_DEADLINE_MS,
    });
    try {
      await store.get('connection-test');
    } finally {
      await store.close();
    }
    return { ok: true, message: t(RED, 'redis-test.connected', { url: shown, prefix: settings.keyPrefix }) };
  } catch (err) {
    if (err instanceof PbxError) return { ok: false, code: err.code, message: err.message };
    if (err instanceof ClusterSettingsError) return { ok: false, code: 'invalid_input', message: err.message };
    return failure(RED, err instanceof Error ? err.message : String(err), shown);
  }
}

/** Why the store could not answer, in the dialog's words: the store's messages carry no credential. */
function failure(RED: NodeAPI, message: string, url: string): PartResult {
  const reason = message.replace(/^Redis is down: /, '');
  if (/refused the password/.test(reason))
    return { ok: false, code: 'auth_failed', message: t(RED, 'redis-test.password-refused', { url }) };
  if (/\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET)\b|Connection timeout/i.test(reason)) {
    return { ok: false, code: 'unreachable', message: t(RED, 'redis-test.unreachable', { url, reason }) };
  }
  if (/RESP|protocol/i.test(reason)) return { ok: false, code: 'provider_error', message: t(RED, 'redis-test.not-redis', { url }) };
  if (/did not answer within/.test(reason)) {
    return { ok: false, code: 'timeout', message: t(RED, 'redis-test.no-answer', { url, ms: DIALOG_REDIS_DEADLINE_MS }) };
  }
  return { ok: false, code: 'provider_error', message: t(RED, 'redis-test.failed', { url, reason }) };
}
