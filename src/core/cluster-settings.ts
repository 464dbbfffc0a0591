/**
 * The cluster settings of a pbx-config (SPEC section 8): where the replicas of one Node-RED share
 * state. Without a Redis URL the config runs on its own, as a single instance always did.
 */
export interface ClusterSettings {
  /** `redis://host:port[/db]` or `rediss://...`; undefined = single instance. */
  redisUrl?: string;
  /** Sent with AUTH when set (the `redisPassword` credential); never shown or logged. */
  redisPassword?: string;
  /** Every key of this config is `{keyPrefix}{config id}:...`. */
  keyPrefix: string;
  /** Redis unreachable: `local` emits from this instance's own state, `reject` answers webhooks 503. */
  redisDown: RedisDownMode;
}

export const REDIS_DOWN_MODES = ['local', 'reject'] as const;
export type RedisDownMode = (typeof REDIS_DOWN_MODES)[number];

export const DEFAULT_KEY_PREFIX = 'pbx:';
/** Longest key prefix accepted: keys stay short, whatever the dialog was given. */
export const MAX_KEY_PREFIX_LENGTH = 64;

/** A Redis URL as node-redis takes it: redis:// or rediss://, a host, no spaces. */
const REDIS_URL = /^rediss?:\/\/[^\s/?#]+(\/\d{1,2})?\/?$/i;
/** Printable ASCII without spaces: safe inside any key, readable in `redis-cli`. */
const KEY_PREFIX = /^[\x21-\x7e]*$/;

export class ClusterSettingsError extends Error {}

/**
 * Reads the cluster properties of a pbx-config node definition; throws ClusterSettingsError,
 * naming the property, when one is unusable (the message never contains the password).
 */
export function clusterSettingsOf(def: Record<string, unknown>, redisPassword?: string): ClusterSettings {
  const redisUrl = String(def.redisUrl ?? '').trim();
  if (redisUrl && !REDIS_URL.test(redisUrl)) {
    throw new ClusterSettingsError(`Redis URL "${withoutUserInfo(redisUrl)}" is not redis://host:port[/db] or rediss://...`);
  }
  const rawPrefix = def.keyPrefix;
  const keyPrefix = rawPrefix === undefined || rawPrefix === null || rawPrefix === '' ? DEFAULT_KEY_PREFIX : String(rawPrefix);
  if (keyPrefix.length > MAX_KEY_PREFIX_LENGTH || !KEY_PREFIX.test(keyPrefix)) {
    throw new ClusterSettingsError(`key prefix must be at most ${MAX_KEY_PREFIX_LENGTH} printable characters without spaces`);
  }
  const redisDown: RedisDownMode = def.redisDown === 'reject' ? 'reject' : 'local';
  return {
    ...(redisUrl ? { redisUrl } : {}),
    ...(redisPassword ? { redisPassword } : {}),
    keyPrefix,
    redisDown,
  };
}

/** The URL as it may be shown: a password written in it (`redis://:secret@host`) is replaced. */
export function withoutUserInfo(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/i, '$1***@');
}
