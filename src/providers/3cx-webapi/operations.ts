import { PbxError } from '../../core/errors';
import { joinPath, pathParam } from '../../core/http';
import { lookupTable } from '../../core/lookup';
import { op, type ProviderAdapter, type ProviderContext } from '../../core/provider';
import type { ActionResult, ExtensionState, ExtensionStateName, OperationName, OperationSpec, Params } from '../../core/types';

export const OPERATIONS: readonly OperationSpec[] = [
  op('makecall', 'call', ['extension', 'destination']),
  op('answer', 'call', ['extension']),
  op('drop', 'call', ['extension'], ['callId']),
  op('transfer', 'call', ['extension', 'destination'], ['callId']),
  op('join', 'call', ['extension']),
  op('extension-state', 'status', ['extension']),
  op('extensions', 'status', []),
  op('extension-info', 'status', ['extension']),
  op('active-calls', 'status', []),
  op('queue-agents', 'status', ['queue']),
  op('list', 'status', ['kind']),
  op('group-members', 'status', ['group']),
  op('usergroup-members', 'status', ['group']),
  op('call-count', 'status', []),
  op('call-connections', 'status', []),
  op('queue-talking', 'status', ['queue']),
  op('queue-free', 'status', ['queue']),
  op('group-free', 'status', ['group']),
  op('login', 'queue', ['extension'], ['queue']),
  op('logout', 'queue', ['extension'], ['queue']),
  op('set-status', 'queue', ['extension', 'status']),
  op('set-options', 'queue', ['extension', 'enabled', 'external', 'recording']),
];

/** `list` kinds → WebAPI method. */
export const LIST_METHODS = lookupTable({
  extensions: 'all.ext',
  registered: 'all.registered',
  queues: 'all.queue',
  ringgroups: 'all.group',
  ivrs: 'all.ivr',
  lines: 'all.line',
  usergroups: 'all.extgroup',
});

type Json = Record<string, unknown>;
interface Party {
  number?: string;
  type?: string;
  externalParty?: string;
  status?: string;
}

/** One 3CX WebAPI account: `GET {baseUrl}/{accessKey}/{method}?{params}`. */
export class ThreeCxAdapter implements ProviderAdapter {
  constructor(private readonly ctx: ProviderContext) {}

  async request(operation: OperationName, p: Params): Promise<ActionResult> {
    const ext = p.extension ?? '';
    switch (operation) {
      case 'makecall': {
        const raw = await this.call(operation, 'makecall', { firstnum: ext, secondnum: p.destination });
        return { payload: { ok: true, operation, extension: ext, destination: p.destination }, raw };
      }
      case 'answer':
        return this.action(operation, 'answer', { num: ext }, { extension: ext });
      case 'drop':
        return this.action(operation, 'drop', { num: ext, contact: p.callId }, { extension: ext, callId: p.callId });
      case 'transfer':
        return this.action(
          operation,
          'transfer',
          { num: ext, dest: p.destination, contact: p.callId },
          { extension: ext, destination: p.destination, callId: p.callId },
        );
      case 'join':
        return this.action(operation, 'join', { num: ext }, { extension: ext });
      case 'extension-state': {
        const raw = (await this.get(operation, 'ext.state', { num: ext })) as Json;
        return { payload: extensionStateOf(raw, ext), raw };
      }
      case 'extensions':
        return this.extensions();
      case 'extension-info': {
        const info = (await this.get(operation, 'ext.info', { num: ext })) as Json;
        const devices = (await this.get(operation, 'ext.devices', { num: ext })) as Json;
        return { payload: extensionInfoOf(info, devices, ext), raw: { info, devices } };
      }
      case 'active-calls': {
        const raw = (await this.get(operation, 'pbx.callsinfo')) as Json;
        return { payload: arrayOf(raw.callsInfo).map(activeCallOf), raw };
      }
      case 'queue-agents': {
        const members = (await this.get(operation, 'queue.members', { num: p.queue })) as Json;
        const free = (await this.get(operation, 'queue.free', { num: p.queue })) as Json;
        const freeSet = new Set(arrayOf(free.members).map((m) => str((m as Json).num)));
        const payload = arrayOf(members.members).map((m) => {
          const agent = queueMemberOf(m as Json);
          const state: ExtensionStateName = !agent.loggedIn ? 'offline' : freeSet.has(agent.extension) ? 'idle' : 'busy';
          return { ...agent, state };
        });
        return { payload, raw: { members, free } };
      }
      case 'queue-talking': {
        const raw = (await this.get(operation, 'queue.talk', { num: p.queue })) as Json;
        return { payload: arrayOf(raw.members).map((m) => ({ ...queueMemberOf(m as Json), state: 'busy' })), raw };
      }
      case 'queue-free': {
        const raw = (await this.get(operation, 'queue.isfree', { num: p.queue })) as Json;
        return { payload: { queue: p.queue, free: raw.result === true || raw.result === 'true' }, raw };
      }
      case 'list': {
        const method = LIST_METHODS.get(p.kind ?? '');
        if (!method) throw new PbxError('invalid_input', `list kind must be one of ${[...LIST_METHODS.keys()].join(', ')}`);
        const raw = (await this.get(operation, method)) as Json;
        const items =
          method === 'all.extgroup'
            ? arrayOf(raw.extGroups).map((g) => ({ number: str(g), name: str(g) }))
            : numsOf(raw).map((n) => ({ number: n }));
        return { payload: items, raw };
      }
      case 'group-members': {
        const members = (await this.get(operation, 'group.members', { num: p.group })) as Json;
        const free = (await this.get(operation, 'group.free', { num: p.group })) as Json;
        const freeSet = new Set(arrayOf(free.members).map(str));
        return { payload: arrayOf(members.members).map((m) => ({ extension: str(m), free: freeSet.has(str(m)) })), raw: { members, free } };
      }
      case 'group-free': {
        const raw = (await this.get(operation, 'group.free', { num: p.group })) as Json;
        return { payload: arrayOf(raw.members).map((m) => ({ extension: str(m), free: true })), raw };
      }
      case 'usergroup-members': {
        const raw = (await this.get(operation, 'extgroup.members', { name: p.group })) as Json;
        return { payload: arrayOf(raw.members).map((m) => ({ number: str(m) })), raw };
      }
      case 'call-count': {
        const raw = (await this.get(operation, 'pbx.calls')) as Json;
        return { payload: { count: Number(raw.result ?? 0) }, raw };
      }
      case 'call-connections': {
        const raw = (await this.get(operation, 'pbx.activesbycallid')) as Json;
        const payload = arrayOf(raw.AConnByCallID).map((c) => {
          const call = c as Json;
          return {
            callId: str(call.callID),
            direction: directionOf(str(call.direction)),
            did: str(call.did) || undefined,
            connections: arrayOf(call.AConnList).map(partyOf),
          };
        });
        return { payload, raw };
      }
      case 'login':
      case 'logout': {
        const log = operation === 'login' ? 'ON' : 'OFF';
        return p.queue
          ? this.action(operation, 'ext.queue.set', { num: ext, queue: p.queue, log }, { extension: ext, queue: p.queue })
          : this.action(operation, 'ext.queueglobal.set', { num: ext, log }, { extension: ext });
      }
      case 'set-status': {
        const status = (p.status ?? '').toLowerCase();
        if (status !== 'available' && status !== 'away') throw new PbxError('invalid_input', 'status must be "available" or "away"');
        return this.action(
          operation,
          'ext.fwd.set',
          { num: ext, status: status === 'available' ? 'Available' : 'Away' },
          { extension: ext, status },
        );
      }
      case 'set-options': {
        const enabled = onOff(p.enabled, 'enabled');
        const external = onOff(p.external, 'external');
        const recording = (p.recording ?? '').toUpperCase();
        if (!['ALL', 'EXTERNAL', 'OFF'].includes(recording))
          throw new PbxError('invalid_input', 'recording must be "all", "external" or "off"');
        return this.action(
          operation,
          'ext.options.set',
          { num: ext, enabled, external, recording },
          { extension: ext, enabled: enabled === 'ON', external: external === 'ON', recording: recording.toLowerCase() },
        );
      }
      default:
        throw new PbxError('unsupported', `${operation} is not supported by 3CX WebAPI`);
    }
  }

  async testConnection(): Promise<string> {
    const raw = (await this.get('test', 'pbx.calls')) as Json;
    return `connected, ${Number(raw.result ?? 0)} active call(s)`;
  }

  close(): void {}

  private async extensions(): Promise<ActionResult> {
    const all = (await this.get('extensions', 'all.ext')) as Json;
    const registered = (await this.get('extensions', 'all.registered')) as Json;
    const calls = (await this.get('extensions', 'pbx.callsinfo')) as Json;
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
    const payload: ExtensionState[] = numsOf(all).map((n) => {
      const isRegistered = registeredSet.has(n);
      return { extension: n, state: isRegistered ? (inCall.get(n) ?? 'idle') : 'offline', registered: isRegistered };
    });
    return { payload, raw: { all, registered, calls } };
  }

  /** A state-changing call: sent once, and its `{"result": false}` is a failure. */
  private async action(
    operation: OperationName,
    method: string,
    query: Record<string, string | undefined>,
    used: Json,
  ): Promise<ActionResult> {
    const raw = await this.call(operation, method, query);
    const result: Json = { ok: true, operation };
    for (const [k, v] of Object.entries(used)) if (v !== undefined) result[k] = v;
    return { payload: result, raw };
  }

  private call(operation: OperationName, method: string, query: Record<string, string | undefined> = {}): Promise<unknown> {
    return this.send(operation, method, query, true);
  }

  private get(operation: string, method: string, query: Record<string, string | undefined> = {}): Promise<unknown> {
    return this.send(operation, method, query, false);
  }

  private async send(
    operation: string,
    method: string,
    query: Record<string, string | undefined>,
    stateChanging: boolean,
  ): Promise<unknown> {
    const accessKey = this.ctx.settings.credentials.accessKey;
    if (!accessKey) throw new PbxError('auth_failed', 'no access key set in the pbx-config node');
    const res = await this.ctx.http.send({
      method: 'GET',
      path: joinPath(pathParam('accessKey', accessKey), method),
      query,
      operation,
      stateChanging,
    });
    const data = res.data;
    if (typeof data !== 'object' || data === null) {
      throw new PbxError('provider_error', `${operation}: 3CX WebAPI ${method} answered with a body that is not JSON`, {
        status: res.status,
      });
    }
    if ((data as Json).result === false) {
      throw new PbxError('provider_error', `${operation}: 3CX WebAPI ${method} answered result false`, { status: res.status });
    }
    return data;
  }
}

function extensionStateOf(raw: Json, requested: string): ExtensionState {
  const registered = raw.registered === true || raw.registered === 'true';
  const status = str(raw.status);
  const state: ExtensionState = {
    extension: str(raw.num) || requested,
    state: registered ? stateOf(status) : 'offline',
    registered,
  };
  if (status) state.status = status;
  if (raw.fwdName !== undefined) state.forwarding = str(raw.fwdName);
  if (raw.qGlobalStatus !== undefined) state.queuesLoggedIn = raw.qGlobalStatus === true;
  if (Array.isArray(raw.qStatus))
    state.queues = raw.qStatus.map((q) => ({ queue: str((q as Json).num), loggedIn: (q as Json).status === true }));
  return state;
}

/** 3CX presence words → SPEC states. */
export function stateOf(status: string): ExtensionStateName {
  const s = status.toLowerCase();
  if (/free|idle|available/.test(s)) return 'idle';
  if (/ring/.test(s)) return 'ringing';
  if (/busy|talk|connect|dial|hold|call/.test(s)) return 'busy';
  return 'unknown';
}

function extensionInfoOf(info: Json, devices: Json, requested: string): Json {
  return {
    extension: str(info.num) || requested,
    name: [str(info.name), str(info.lastname)].filter(Boolean).join(' '),
    firstName: str(info.name),
    lastName: str(info.lastname),
    email: str(info.email) || undefined,
    mobile: str(info.mobile) || undefined,
    enabled: info.enabled === true,
    externalCalls: info.externalCalls === true,
    recording: str(info.recordType).toLowerCase() || undefined,
    devices: arrayOf(devices.devices).map((d) => ({ userAgent: str((d as Json).userAgent), contact: str((d as Json).contact) })),
  };
}

function queueMemberOf(m: Json): { extension: string; name?: string; loggedIn: boolean } {
  const name = [str(m.name), str(m.lastname)].filter(Boolean).join(' ');
  const out: { extension: string; name?: string; loggedIn: boolean } = { extension: str(m.num), loggedIn: m.loggedIn === true };
  if (name) out.name = name;
  return out;
}

function activeCallOf(c: unknown): Json {
  const call = c as Json;
  return {
    callId: str(call.callID),
    state: str(call.state).toLowerCase(),
    startedAt: str(call.startedAt) || undefined,
    answeredAt: str(call.answeredAt) || undefined,
    did: str(call.did) || undefined,
    owner: partyOf(call.owner),
    talkTo: arrayOf(call.talkTo).map(partyOf),
    routingTo: arrayOf(call.routingTo).map(partyOf),
  };
}

function partyOf(p: unknown): Party {
  const party = (p ?? {}) as Json;
  return {
    number: str(party.dnNum) || undefined,
    type: str(party.dnType) || undefined,
    externalParty: str(party.externalParty) || undefined,
    status: str(party.status) || undefined,
  };
}

function directionOf(d: string): string {
  const s = d.toLowerCase();
  return s === 'inbound' || s === 'outbound' || s === 'internal' ? s : 'unknown';
}

function onOff(value: string | undefined, name: string): 'ON' | 'OFF' {
  const v = (value ?? '').toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return 'ON';
  if (['off', 'false', '0', 'no'].includes(v)) return 'OFF';
  throw new PbxError('invalid_input', `${name} must be on or off`);
}

function numsOf(raw: Json): string[] {
  return arrayOf(raw.nums).map(str);
}

function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}
