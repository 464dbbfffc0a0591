import { stringOf } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import type { ExtensionState, ExtensionStateName } from '../../core/types';

type Json = Record<string, unknown>;

/**
 * Numeric extension (12xx, `status`) and agent (121x, `state`) codes [unverified: seen in client
 * code, not in the vendor documents] → SPEC states. An offer that ended without a call
 * (1212 unanswered, 1216 rejected) leaves the seat free, so it counts as idle. 1217 paused is
 * not a phone state: it is reported as `paused: true` beside the phone state (see queueAgentOf).
 */
const STATE_CODES = lookupTable<ExtensionStateName>({
  '1201': 'idle',
  '1202': 'ringing',
  '1203': 'busy', // off-hook
  '1204': 'busy', // in a call
  '1212': 'idle', // last offer unanswered
  '1213': 'idle', // waiting for a call
  '1214': 'ringing', // receiving a call
  '1215': 'busy', // answered
  '1216': 'idle', // last offer rejected
});
const PAUSED_CODE = '1217';

/** Words GetGroupExt uses (`state` idle/busy, `status` answer/hangup), plus the numeric codes. */
export function stateOf(value: unknown): ExtensionStateName {
  const s = stringOf(value).toLowerCase();
  const coded = STATE_CODES.get(s);
  if (coded) return coded;
  if (s === 'idle' || s === 'free' || s === 'hangup') return 'idle';
  if (s === 'ring' || s === 'ringing') return 'ringing';
  if (s === 'busy' || s === 'answer' || s === 'talking') return 'busy';
  if (s === 'offline' || s === 'unregistered') return 'offline';
  return 'unknown';
}

/**
 * One GetGroupExt row → extension state. `state` (idle/busy) is the answer; `status` answer
 * (a call is up) makes it busy even when `state` lags behind.
 */
function rowState(row: Json): ExtensionStateName {
  const byState = stateOf(row.state);
  const byStatus = stateOf(row.status);
  if (byState === 'busy' || byStatus === 'busy') return 'busy';
  if (byState === 'ringing' || byStatus === 'ringing') return 'ringing';
  return byState !== 'unknown' ? byState : byStatus;
}

const RANK: Record<ExtensionStateName, number> = { busy: 4, ringing: 3, idle: 2, offline: 1, unknown: 0 };

/**
 * GetGroupExt rows (one per extension and group it is in) → one state per extension, in the
 * order first seen; an extension listed in several groups takes its most active state.
 */
export function extensionStatesOf(rows: Json[]): ExtensionState[] {
  const byExtension = new Map<string, ExtensionState & { groups: string[] }>();
  for (const row of rows) {
    const extension = stringOf(row.extnumber);
    if (!extension) continue;
    const state = rowState(row);
    const group = stringOf(row.name);
    let entry = byExtension.get(extension);
    if (!entry) {
      entry = { extension, state, groups: [] };
      byExtension.set(extension, entry);
    } else if (RANK[state] > RANK[entry.state]) {
      entry.state = state;
    }
    if (group && !entry.groups.includes(group)) entry.groups.push(group);
  }
  return [...byExtension.values()];
}

export interface QueueAgent {
  extension: string;
  name?: string;
  loggedIn: boolean;
  state: ExtensionStateName;
  /** Set only when the agent is paused (1217, SetSeatsStatus busy): signed in but taking no calls. */
  paused?: true;
  queue?: string;
}

/**
 * One GetQueueSipStatus row. The service lists the seats signed in to the queue, so a listed
 * agent is logged in. `state` (agent code) wins over `status` (extension code) unless it is
 * paused or unknown; a paused agent keeps the phone state from `status` and gets `paused: true`.
 */
export function queueAgentOf(row: Json): QueueAgent {
  const agentCode = stringOf(row.state);
  const byAgent = agentCode === PAUSED_CODE ? 'unknown' : stateOf(agentCode);
  const agent: QueueAgent = {
    extension: stringOf(row.extnumber),
    loggedIn: true,
    state: byAgent !== 'unknown' ? byAgent : stateOf(row.status === PAUSED_CODE ? '' : row.status),
  };
  const name = stringOf(row.seatsname);
  if (name) agent.name = name;
  if (agentCode === PAUSED_CODE || stringOf(row.status) === PAUSED_CODE) agent.paused = true;
  const queue = stringOf(row.queuename);
  if (queue) agent.queue = queue;
  return agent;
}

export function queueAgentsOf(rows: Json[]): QueueAgent[] {
  return rows.filter((r) => stringOf(r.extnumber)).map(queueAgentOf);
}
