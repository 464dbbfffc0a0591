import { notTheApiError } from '../../core/errors';
import { stringOf, text } from '../../core/fields';
import type { ExtensionState, ExtensionStateName } from '../../core/types';
import { API_NAME, type Json } from './api';

interface Party {
  number?: string;
  type?: string;
  externalParty?: string;
  status?: string;
}

interface QueueMember {
  extension: string;
  name?: string;
  loggedIn: boolean;
}

/** `pbx.calls` → the number of calls in progress; an answer without a count is not the WebAPI's. */
export function callCountOf(raw: Json, operation: string): number {
  const count = raw.result;
  if ((typeof count === 'number' || typeof count === 'string') && /^\d+$/.test(String(count))) return Number(count);
  throw notTheApiError(operation, API_NAME, 'pbx.calls answered without a count of calls');
}

/** `ext.state` → the extension's state; a phone that is not registered is offline. */
export function extensionStateOf(raw: Json, requested: string): ExtensionState {
  const registered = raw.registered === true || raw.registered === 'true';
  const status = stringOf(raw.status);
  const state: ExtensionState = {
    extension: text(raw.num) ?? requested,
    state: registered ? stateOf(status) : 'offline',
    registered,
  };
  if (status) state.status = status;
  if (raw.fwdName !== undefined) state.forwarding = stringOf(raw.fwdName);
  if (raw.qGlobalStatus !== undefined) state.queuesLoggedIn = raw.qGlobalStatus === true;
  if (Array.isArray(raw.qStatus))
    state.queues = raw.qStatus.map((q) => ({ queue: stringOf((q as Json).num), loggedIn: (q as Json).status === true }));
  return state;
}

/** 3CX presence words → SPEC states. */
function stateOf(status: string): ExtensionStateName {
  const s = status.toLowerCase();
  if (/free|idle|available/.test(s)) return 'idle';
  if (/ring/.test(s)) return 'ringing';
  if (/busy|talk|connect|dial|hold|call/.test(s)) return 'busy';
  return 'unknown';
}

/**
 * Every extension (`all.ext`): offline unless registered (`all.registered`), busy when it is a
 * party of a call, ringing when a call is routed to it (`pbx.callsinfo`), else idle.
 */
export function extensionsOf(all: Json, registered: Json, calls: Json): ExtensionState[] {
  const registeredSet = new Set(numsOf(registered));
  const inCall = new Map<string, ExtensionStateName>();
  for (const c of arrayOf(calls.callsInfo)) {
    const call = c as Json;
    for (const party of [call.owner, ...arrayOf(call.talkTo)]) {
      const pt = partyOf(party);
      if (pt.type === 'extension' && pt.number) inCall.set(pt.number, 'busy');
    }
    for (const party of arrayOf(call.routingTo)) {
      const pt = partyOf(party);
      if (pt.type === 'extension' && pt.number && !inCall.has(pt.number)) inCall.set(pt.number, 'ringing');
    }
  }
  return numsOf(all).map((n) => {
    const isRegistered = registeredSet.has(n);
    return { extension: n, state: isRegistered ? (inCall.get(n) ?? 'idle') : 'offline', registered: isRegistered };
  });
}

export function extensionInfoOf(info: Json, devices: Json, requested: string): Json {
  return {
    extension: text(info.num) ?? requested,
    name: [stringOf(info.name), stringOf(info.lastname)].filter(Boolean).join(' '),
    firstName: stringOf(info.name),
    lastName: stringOf(info.lastname),
    email: text(info.email),
    mobile: text(info.mobile),
    enabled: info.enabled === true,
    externalCalls: info.externalCalls === true,
    recording: text(info.recordType)?.toLowerCase(),
    devices: arrayOf(devices.devices).map((d) => ({ userAgent: stringOf((d as Json).userAgent), contact: stringOf((d as Json).contact) })),
  };
}

/** `queue.members` with `queue.free`: a logged-in member is idle when free, else busy. */
export function queueAgentsOf(members: Json, free: Json): Array<QueueMember & { state: ExtensionStateName }> {
  const freeSet = new Set(arrayOf(free.members).map((m) => stringOf((m as Json).num)));
  return arrayOf(members.members).map((m) => {
    const agent = queueMemberOf(m as Json);
    const state: ExtensionStateName = !agent.loggedIn ? 'offline' : freeSet.has(agent.extension) ? 'idle' : 'busy';
    return { ...agent, state };
  });
}

export function queueMemberOf(m: Json): QueueMember {
  const name = [stringOf(m.name), stringOf(m.lastname)].filter(Boolean).join(' ');
  const out: QueueMember = { extension: stringOf(m.num), loggedIn: m.loggedIn === true };
  if (name) out.name = name;
  return out;
}

/** `group.members` with `group.free`. */
export function groupMembersOf(members: Json, free: Json): Array<{ extension: string; free: boolean }> {
  const freeSet = new Set(arrayOf(free.members).map(stringOf));
  return arrayOf(members.members).map((m) => ({ extension: stringOf(m), free: freeSet.has(stringOf(m)) }));
}

export function activeCallOf(c: unknown): Json {
  const call = c as Json;
  return {
    callId: stringOf(call.callID),
    state: stringOf(call.state).toLowerCase(),
    startedAt: text(call.startedAt),
    answeredAt: text(call.answeredAt),
    did: text(call.did),
    owner: partyOf(call.owner),
    talkTo: arrayOf(call.talkTo).map(partyOf),
    routingTo: arrayOf(call.routingTo).map(partyOf),
  };
}

/** `pbx.activesbycallid`: each call with its connections. */
export function callConnectionsOf(raw: Json): Json[] {
  return arrayOf(raw.AConnByCallID).map((c) => {
    const call = c as Json;
    return {
      callId: stringOf(call.callID),
      direction: directionOf(stringOf(call.direction)),
      did: text(call.did),
      connections: arrayOf(call.AConnList).map(partyOf),
    };
  });
}

function partyOf(p: unknown): Party {
  const party = (p ?? {}) as Json;
  return {
    number: text(party.dnNum),
    type: text(party.dnType),
    externalParty: text(party.externalParty),
    status: text(party.status),
  };
}

function directionOf(d: string): string {
  const s = d.toLowerCase();
  return s === 'inbound' || s === 'outbound' || s === 'internal' ? s : 'unknown';
}

export function numsOf(raw: Json): string[] {
  return arrayOf(raw.nums).map(stringOf);
}

export function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
