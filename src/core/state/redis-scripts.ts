import { createHash } from 'node:crypto';

export interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Compare-and-set. KEYS[1] the value, ARGV[1] the text read ('' = none), ARGV[2] the new text
 * ('' = delete), ARGV[3] TTL ms. With KEYS[2] (a lease) and ARGV[4] (a fence), writes only while
 * the lease is held under that fence. 1 written, 0 changed meanwhile, -1 lease lost.
 */
export const COMPARE_AND_SET = script(`
if #KEYS > 1 then
  local lease = redis.call('GET', KEYS[2])
  if not lease or string.match(lease, '^(%d+):') ~= ARGV[4] then return -1 end
end
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
`);

/**
 * KEYS[1] the lease, KEYS[2] its fencing counter; ARGV[1] owner, ARGV[2] TTL ms, ARGV[3] the
 * counter's TTL ms. The fence (a new one, or the owner's own current one), or -1 while another
 * owner holds it.
 */
export const ACQUIRE_LEASE = script(`
local current = redis.call('GET', KEYS[1])
if current then
  local fence, owner = string.match(current, '^(%d+):(.*)$')
  if owner ~= ARGV[1] then return -1 end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(fence)
end
local fence = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'PX', ARGV[2])
return fence
`);

/** KEYS[1] = ARGV[1] → PEXPIRE ARGV[2], 1; else 0. */
export const EXPIRE_IF_EQUAL = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** KEYS[1] = ARGV[1] → DEL, 1; else 0. */
export const DELETE_IF_EQUAL = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);

/**
 * KEYS[1] a sorted set; ARGV[1] score, ARGV[2] member, ARGV[3] TTL ms, ARGV[4] most members kept
 * (the lowest scores go first).
 */
export const INDEX_SET = script(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);
