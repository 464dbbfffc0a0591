import { PbxError } from '../../core/errors';
import { stringOf } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import { op, type ProviderAdapter, type ProviderContext } from '../../core/provider';
import type { ActionResult, OperationName, OperationSpec, Params } from '../../core/types';
import { WebApi, type Json } from './api';
import {
  activeCallOf,
  arrayOf,
  callConnectionsOf,
  callCountOf,
  extensionInfoOf,
  extensionsOf,
  extensionStateOf,
  groupMembersOf,
  numsOf,
  queueAgentsOf,
  queueMemberOf,
} from './results';

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
const LIST_METHODS = lookupTable({
  extensions: 'all.ext',
  registered: 'all.registered',
  queues: 'all.queue',
  ringgroups: 'all.group',
  ivrs: 'all.ivr',
  lines: 'all.line',
  usergroups: 'all.extgroup',
});

/** The add-on's editions (pbx-config `edition`); they differ in makecall only. */
export type Edition = 'k2m' | 'creomate';

/** One operation as the adapter runs it; `ext` is the extension parameter ('' when absent). */
interface Call {
  api: WebApi;
  operation: OperationName;
  p: Params;
  ext: string;
  edition: Edition;
}
type Handler = (call: Call) => Promise<ActionResult>;

/** Operation name → how it runs. A Map: the name comes from msg input. */
const HANDLERS = lookupTable<Handler>({
  makecall: async ({ api, operation, p, ext, edition }) => {
    const used = { extension: ext, destination: p.destination };
    if (edition !== 'creomate') return api.change(operation, 'makecall', { firstnum: ext, secondnum: p.destination }, used);
    // Creomate answers `{ "chid": ... }`: the call chain id its webhooks carry, so the call's callId.
    const result = await api.change(operation, 'makecall', { first: ext, second: p.destination }, used);
    const chid = stringOf(result.raw && (result.raw as Json).chid);
    return chid ? { ...result, payload: { ...(result.payload as Json), callId: chid } } : result;
  },
  answer: ({ api, operation, ext }) => api.change(operation, 'answer', { num: ext }, { extension: ext }),
  drop: ({ api, operation, p, ext }) =>
    api.change(operation, 'drop', { num: ext, contact: p.callId }, { extension: ext, callId: p.callId }),
  transfer: ({ api, operation, p, ext }) =>
    api.change(
      operation,
      'transfer',
      { num: ext, dest: p.destination, contact: p.callId },
      { extension: ext, destination: p.destination, callId: p.callId },
    ),
  join: ({ api, operation, ext }) => api.change(operation, 'join', { num: ext }, { extension: ext }),
  'extension-state': async ({ api, operation, ext }) => {
    const raw = await api.read(operation, 'ext.state', { num: ext });
    return { payload: extensionStateOf(raw, ext), raw };
  },
  extensions: async ({ api, operation }) => {
    const all = await api.read(operation, 'all.ext');
    const registered = await api.read(operation, 'all.registered');
    const calls = await api.read(operation, 'pbx.callsinfo');
    return { payload: extensionsOf(all, registered, calls), raw: { all, registered, calls } };
  },
  'extension-info': async ({ api, operation, ext }) => {
    const info = await api.read(operation, 'ext.info', { num: ext });
    const devices = await api.read(operation, 'ext.devices', { num: ext });
    return { payload: extensionInfoOf(info, devices, ext), raw: { info, devices } };
  },
  'active-calls': async ({ api, operation }) => {
    const raw = await api.read(operation, 'pbx.callsinfo');
    return { payload: arrayOf(raw.callsInfo).map(activeCallOf), raw };
  },
  'queue-agents': membersAndFree('queue', queueAgentsOf),
  'queue-talking': async ({ api, operation, p }) => {
    const raw = await api.read(operation, 'queue.talk', { num: p.queue });
    return { payload: arrayOf(raw.members).map((m) => ({ ...queueMemberOf(m as Json), state: 'busy' })), raw };
  },
  'queue-free': async ({ api, operation, p }) => {
    const raw = await api.read(operation, 'queue.isfree', { num: p.queue });
    return { payload: { queue: p.queue, free: raw.result === true || raw.result === 'true' }, raw };
  },
  list: async ({ api, operation, p }) => {
    const method = LIST_METHODS.get(p.kind ?? '');
    if (!method) throw new PbxError('invalid_input', `list kind must be one of ${[...LIST_METHODS.keys()].join(', ')}`);
    const raw = await api.read(operation, method);
    const items =
      method === 'all.extgroup'
        ? arrayOf(raw.extGroups).map((g) => ({ number: stringOf(g), name: stringOf(g) }))
        : numsOf(raw).map((n) => ({ number: n }));
    return { payload: items, raw };
  },
  'group-members': membersAndFree('group', groupMembersOf),
  'group-free': async ({ api, operation, p }) => {
    const raw = await api.read(operation, 'group.free', { num: p.group });
    return { payload: arrayOf(raw.members).map((m) => ({ extension: stringOf(m), free: true })), raw };
  },
  'usergroup-members': async ({ api, operation, p }) => {
    const raw = await api.read(operation, 'extgroup.members', { name: p.group });
    return { payload: arrayOf(raw.members).map((m) => ({ number: stringOf(m) })), raw };
  },
  'call-count': async ({ api, operation }) => {
    const raw = await api.read(operation, 'pbx.calls');
    return { payload: { count: callCountOf(raw, operation) }, raw };
  },
  'call-connections': async ({ api, operation }) => {
    const raw = await api.read(operation, 'pbx.activesbycallid');
    return { payload: callConnectionsOf(raw), raw };
  },
  login: (call) => queueLog(call, 'ON'),
  logout: (call) => queueLog(call, 'OFF'),
  'set-status': ({ api, operation, p, ext }) => {
    const status = (p.status ?? '').toLowerCase();
    if (status !== 'available' && status !== 'away') throw new PbxError('invalid_input', 'status must be "available" or "away"');
    const word = status === 'available' ? 'Available' : 'Away';
    return api.change(operation, 'ext.fwd.set', { num: ext, status: word }, { extension: ext, status });
  },
  'set-options': ({ api, operation, p, ext }) => {
    const enabled = onOff(p.enabled, 'enabled');
    const external = onOff(p.external, 'external');
    const recording = (p.recording ?? '').toUpperCase();
    if (!['ALL', 'EXTERNAL', 'OFF'].includes(recording))
      throw new PbxError('invalid_input', 'recording must be "all", "external" or "off"');
    return api.change(
      operation,
      'ext.options.set',
      { num: ext, enabled, external, recording },
      { extension: ext, enabled: enabled === 'ON', external: external === 'ON', recording: recording.toLowerCase() },
    );
  },
});

/** `{queue|group}.members` and `{queue|group}.free` of the queue or group named by the same parameter. */
function membersAndFree(kind: 'queue' | 'group', payloadOf: (members: Json, free: Json) => unknown): Handler {
  return async ({ api, operation, p }) => {
    const members = await api.read(operation, `${kind}.members`, { num: p[kind] });
    const free = await api.read(operation, `${kind}.free`, { num: p[kind] });
    return { payload: payloadOf(members, free), raw: { members, free } };
  };
}

/** Queue login / logout: of one queue when named, else of every queue (the global switch). */
function queueLog({ api, operation, p, ext }: Call, log: 'ON' | 'OFF'): Promise<ActionResult> {
  return p.queue
    ? api.change(operation, 'ext.queue.set', { num: ext, queue: p.queue, log }, { extension: ext, queue: p.queue })
    : api.change(operation, 'ext.queueglobal.set', { num: ext, log }, { extension: ext });
}

function onOff(value: string | undefined, name: string): 'ON' | 'OFF' {
  const v = (value ?? '').toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return 'ON';
  if (['off', 'false', '0', 'no'].includes(v)) return 'OFF';
  throw new PbxError('invalid_input', `${name} must be on or off`);
}

/** One 3CX WebAPI account. */
export class ThreeCxAdapter implements ProviderAdapter {
  private readonly api: WebApi;
  private readonly edition: Edition;

  constructor(ctx: ProviderContext) {
    this.api = new WebApi(ctx);
    this.edition = ctx.settings.extra?.edition === 'creomate' ? 'creomate' : 'k2m';
  }

  async request(operation: OperationName, p: Params): Promise<ActionResult> {
    const handler = HANDLERS.get(operation);
    if (!handler) throw new PbxError('unsupported', `${operation} is not supported by 3CX WebAPI`);
    return handler({ api: this.api, operation, p, ext: p.extension ?? '', edition: this.edition });
  }

  async testConnection(): Promise<string> {
    const raw = await this.api.read('test', 'pbx.calls');
    return `connected, ${callCountOf(raw, 'test')} active call(s)`;
  }

  close(): void {}
}
