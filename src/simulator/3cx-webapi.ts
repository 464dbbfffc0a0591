import { lookupTable, ownProperty } from '../core/lookup';
import { placedCallOutcome } from './call-outcomes';
import { CREOMATE_EVENT, GET_SCHEME_EVENT, THREE_CX_SCENARIOS, type ThreeCxStep } from './3cx-scenarios';
import { LOST_HANGUP, OUTCOME_SCENARIO_NAMES, missedCallbackScenarios } from './outcome-scenarios';
import { QueueLoadPlayer, type QueueLoadCall, type QueueLoadHost, type QueueLoadLog, type QueueLoadMode } from './queue-load';
import { sleep } from './server';
import type { ProviderSimulator, SimReply, SimRequest } from './types';
import { WebhookSender, type WebhookScheme } from './webhook-sender';

export interface ThreeCxSimOptions {
  accessKey: string;
  /** Pause between the webhooks of one call. */
  stepMs?: number;
  /** How long a makecall talks before it hangs up. */
  talkMs?: number;
  scheme?: WebhookScheme;
  /** Whose add-on to speak: K2M's (default) or Creomate's webhooks and makecall. */
  edition?: ThreeCxEdition;
}

export type ThreeCxEdition = 'k2m' | 'creomate';
export const THREE_CX_EDITIONS: readonly ThreeCxEdition[] = ['k2m', 'creomate'];

/** What one call's webhooks are built from. */
interface CallContext {
  base: string;
  /** Creomate's call chain id: one for all the call's webhooks, and what its makecall answers. */
  chid: string;
  caller: string;
  did: string;
  scheme: WebhookScheme;
  direction: 'inbound' | 'outbound';
  edition: ThreeCxEdition;
}

/** The call id pbx-event emits for a scenario's call: Creomate's `chid`, else K2M's `Id` without its leg. */
function publicCallId(ctx: CallContext): string {
  return ctx.edition === 'creomate' ? ctx.chid : ctx.base;
}

interface Extension {
  num: string;
  name: string;
  lastname: string;
  email: string;
  mobile: string;
  registered: boolean;
  enabled: boolean;
  externalCalls: boolean;
  recordType: 'All' | 'External' | 'Off';
  fwd: 'Available' | 'Away';
  queueGlobal: boolean;
  devices: Array<{ userAgent: string; contact: string }>;
}

interface ActiveCall {
  callID: number;
  base: string;
  chid: string;
  leg: number;
  ext: string;
  party: string;
  direction: 'Inbound' | 'Outbound';
  state: 'Routing' | 'Talking';
  startedAt: string;
  answeredAt?: string;
  timer?: NodeJS.Timeout;
}

const EXTENSIONS = ['100', '101', '102', '110', '111', '112', '113', '114', '115', '117', '120', '201', '202', '203', '204', '301'];
const REGISTERED = ['100', '110', '112', '115', '117', '120', '202', '204'];
const QUEUES = lookupTable({ '820': ['201', '202', '203', '204'], '807': ['117', '204'] });
const RING_GROUPS = lookupTable({ '860': ['114', '112'], '861': ['117', '204'] });
const IVRS = ['800', '801'];
const LINES = ['10000', '10001'];
const USER_GROUPS = lookupTable({ __DEFAULT__: EXTENSIONS, Sales: ['117', '204'], Support: ['201', '202', '203'] });
/** The add-on has no busy signal: a callback to a busy line ends Missed, as an unanswered one. */
const CALLBACK_SCENARIOS = missedCallbackScenarios({
  missed: 'incoming-missed',
  answered: 'outgoing-answered',
  unanswered: 'outgoing-unanswered',
  busy: 'outgoing-unanswered',
});
/**
 * A live inbound call: IVR 800 → queue 820, where it waits (a `transfer` with the queue's number
 * routes it on) until the queue's agent 202 rings and answers it, talks, hangs up.
 */
const QUEUE_WAITING = 'queue-waiting';
const WAITING_QUEUE = '820';
const QUEUE_AGENT = '202';
/** `ext.options.set` `recording` → the extension's record type. */
const RECORD_TYPES = lookupTable<Extension['recordType']>({ ALL: 'All', EXTERNAL: 'External', OFF: 'Off' });

/**
 * The 3CX WebAPI add-on on loopback: `GET /webapi/{accessKey}/{method}` with the documented
 * responses, in-memory extensions, queues and calls, and the documented webhooks.
 */
export class ThreeCxSimulator implements ProviderSimulator, QueueLoadHost {
  readonly id = '3cx-webapi';
  readonly prefix = '/webapi';
  readonly sender: WebhookSender;
  private extensions = new Map<string, Extension>();
  private queueLogins = new Map<string, Set<string>>();
  private calls = new Map<number, ActiveCall>();
  private nextCall = 1;
  private seq = 1;
  private readonly stepMs: number;
  private readonly talkMs: number;
  readonly edition: ThreeCxEdition;
  private readonly queueLoad = new QueueLoadPlayer(this);

  constructor(private readonly options: ThreeCxSimOptions) {
    this.sender = new WebhookSender(options.scheme ?? 'post');
    this.stepMs = options.stepMs ?? 300;
    this.talkMs = options.talkMs ?? 1500;
    this.edition = options.edition ?? 'k2m';
    this.reset();
  }

  reset(): void {
    this.queueLoad.stop();
    for (const c of this.calls.values()) clearTimeout(c.timer);
    this.calls.clear();
    this.extensions.clear();
    for (const num of EXTENSIONS) {
      this.extensions.set(num, {
        num,
        name: `Agent ${num}`,
        lastname: '',
        email: `agent${num}@example.test`,
        mobile: '',
        registered: REGISTERED.includes(num),
        enabled: true,
        externalCalls: true,
        recordType: 'All',
        fwd: 'Available',
        queueGlobal: true,
        devices: REGISTERED.includes(num) ? [{ userAgent: 'Simulated Phone 1.0', contact: `sip:${num}@127.0.0.1:5060` }] : [],
      });
    }
    this.queueLogins.clear();
    for (const [q, members] of QUEUES) this.queueLogins.set(q, new Set(members.filter((m) => REGISTERED.includes(m))));
  }

  scenarios(): string[] {
    return [...Object.keys(THREE_CX_SCENARIOS), QUEUE_WAITING, ...OUTCOME_SCENARIO_NAMES];
  }

  readonly scenarioOptions = {
    caller: 'the external number (default 05551239988)',
    did: 'the DID the call came in on (default none)',
    scheme: 'post (JSON, default) or get (query string; k2m edition only)',
    edition: 'k2m (default) or creomate: whose add-on sends the webhooks',
    dropHangup: 'true: the call-end webhook (Finishtype) is lost (never sent), for stale calls',
  };

  placesCall(req: SimRequest): boolean {
    return req.method === 'GET' && req.url.pathname.endsWith('/makecall');
  }

  state(): unknown {
    return {
      extensions: [...this.extensions.values()].map((e) => ({
        num: e.num,
        registered: e.registered,
        status: this.statusOf(e.num),
        fwd: e.fwd,
      })),
      calls: [...this.calls.values()].map(({ timer: _t, ...c }) => c),
      queues: Object.fromEntries([...this.queueLogins].map(([q, s]) => [q, [...s]])),
    };
  }

  handle(req: SimRequest): SimReply {
    const parts = req.url.pathname.slice(this.prefix.length + 1).split('/');
    if (req.method !== 'GET') return { status: 405, body: 'Method Not Allowed' };
    if (parts.length === 2 && parts[0] === 'recording')
      return { status: 200, body: 'ID3-simulated-audio', headers: { 'Content-Type': 'audio/mpeg' } };
    if (parts.length !== 2) return { status: 404, body: 'Not Found' };
    const [key, method] = [decodeURIComponent(parts[0]), parts[1]];
    if (key !== this.options.accessKey) return { status: 401, body: 'Unauthorized' };
    const q = (name: string) => req.url.searchParams.get(name) ?? '';
    return this.method(method, q);
  }

  private method(method: string, q: (name: string) => string): SimReply {
    const ok = (body: unknown): SimReply => ({ status: 200, body });
    const ext = (num: string) => this.extensions.get(num);
    // An unknown extension, queue or group is a 404 with a text body, for every method (the WebAPI
    // documents no error answers; 404 is what it serves for what it does not have).
    const needExt = (num: string): SimReply | undefined => (ext(num) ? undefined : { status: 404, body: `Extension ${num} not found` });
    switch (method) {
      case 'makecall': {
        if (this.edition === 'creomate') {
          // Creomate: first / second (contact and timeout optional), answered with the call chain id.
          if (!q('first') || !q('second')) return { status: 400, body: 'first and second are required' };
          const missing = needExt(q('first'));
          if (missing) return missing;
          const chid = this.newChid();
          void this.playMakecall(q('first'), q('second'), chid);
          return ok({ chid });
        }
        const first = q('firstnum');
        const second = q('secondnum');
        if (!first || !second) return { status: 400, body: 'firstnum and secondnum are required' };
        const missing = needExt(first);
        if (missing) return missing;
        void this.playMakecall(first, second, this.newChid());
        return ok({ firstNum: first, secondNum: second });
      }
      case 'answer': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        const call = this.callOf(q('num'), 'Routing');
        if (!call) return ok({ result: false });
        void this.answerCall(call);
        return ok({ result: 'Answer' });
      }
      case 'drop': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        const call = this.callOf(q('num'));
        if (!call) return ok({ result: false });
        void this.endCall(call);
        return ok({ result: 'Drop' });
      }
      case 'transfer': {
        // A call waiting in a queue is routed on by the queue's number [unverified: the add-on documents num as an extension].
        const queued = QUEUES.has(q('num')) ? this.callOf(q('num'), 'Routing') : undefined;
        if (queued) {
          if (!q('dest')) return ok({ result: false });
          void this.routeQueued(queued, q('dest'));
          return ok({ result: 'Transfer' });
        }
        const missing = needExt(q('num'));
        if (missing) return missing;
        const call = this.callOf(q('num'), 'Talking');
        const dest = q('dest');
        if (!call || !dest) return ok({ result: false });
        void this.blindTransfer(call, dest);
        return ok({ result: 'Transfer' });
      }
      case 'join':
        return ok({ result: 'joined together' });
      case 'ext.devices': {
        const e = ext(q('num'));
        return e ? ok({ count: e.devices.length, devices: e.devices }) : { status: 404, body: 'Extension not found' };
      }
      case 'pbx.callsinfo':
        return ok({ count: this.calls.size, callsInfo: [...this.calls.values()].map((c) => this.callInfo(c)) });
      case 'pbx.calls':
        return ok({ result: this.calls.size });
      case 'pbx.activesbycallid':
        return ok({
          count: this.calls.size,
          AConnByCallID: [...this.calls.values()].map((c) => ({
            callID: c.callID,
            direction: c.direction,
            did: '',
            AConnList: [
              this.lineParty(c),
              { dnNum: c.ext, dnType: 'extension', externalParty: c.party, status: c.state === 'Talking' ? 'Connected' : 'Ringing' },
            ],
          })),
        });
      case 'all.ext':
        return ok({ nums: [...this.extensions.keys()] });
      case 'all.registered':
        return ok({ nums: [...this.extensions.values()].filter((e) => e.registered).map((e) => e.num) });
      case 'all.group':
        return ok({ nums: [...RING_GROUPS.keys()] });
      case 'all.queue':
        return ok({ nums: [...QUEUES.keys()] });
      case 'all.ivr':
        return ok({ nums: IVRS });
      case 'all.line':
        return ok({ nums: LINES });
      case 'all.extgroup':
        return ok({ extGroups: [...USER_GROUPS.keys()] });
      case 'ext.info': {
        const e = ext(q('num'));
        if (!e) return { status: 404, body: 'Extension not found' };
        return ok({
          num: e.num,
          name: e.name,
          lastname: e.lastname,
          email: e.email,
          mobile: e.mobile,
          enabled: e.enabled,
          externalCalls: e.externalCalls,
          recordType: e.recordType,
        });
      }
      case 'ext.state': {
        const e = ext(q('num'));
        if (!e) return { status: 404, body: 'Extension not found' };
        return ok({
          num: e.num,
          registered: e.registered,
          status: this.statusOf(e.num),
          fwdName: e.fwd,
          qGlobalStatus: e.queueGlobal,
          qStatus: [...QUEUES]
            .filter(([, members]) => members.includes(e.num))
            .map(([qn]) => ({ num: qn, status: this.queueLogins.get(qn)!.has(e.num) })),
        });
      }
      case 'queue.members':
      case 'queue.free':
      case 'queue.talk': {
        const members = QUEUES.get(q('num'));
        if (!members) return { status: 404, body: 'Queue not found' };
        const rows = members
          .map((num) => ({ num, name: ext(num)!.name, lastname: '', loggedIn: this.loggedIn(q('num'), num) }))
          .filter(
            (m) =>
              method === 'queue.members' ||
              (m.loggedIn && (method === 'queue.free' ? this.statusOf(m.num) === 'Free' : this.statusOf(m.num) === 'Talking')),
          );
        return ok({ count: rows.length, members: rows });
      }
      case 'queue.isfree': {
        const members = QUEUES.get(q('num'));
        if (!members) return { status: 404, body: 'Queue not found' };
        return ok({ result: members.some((m) => this.loggedIn(q('num'), m) && this.statusOf(m) === 'Free') });
      }
      case 'group.members':
      case 'group.free': {
        const members = RING_GROUPS.get(q('num'));
        if (!members) return { status: 404, body: 'Ring group not found' };
        const rows = method === 'group.members' ? members : members.filter((m) => ext(m)!.registered && this.statusOf(m) === 'Free');
        return ok({ count: rows.length, members: rows });
      }
      case 'extgroup.members': {
        const members = USER_GROUPS.get(q('name'));
        if (!members) return { status: 404, body: 'User group not found' };
        return ok({ count: members.length, members });
      }
      case 'ext.fwd.set': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        const e = ext(q('num'));
        const status = q('status');
        if (!e || (status !== 'Available' && status !== 'Away')) return ok({ result: false });
        e.fwd = status;
        return ok({ result: true });
      }
      case 'ext.queueglobal.set': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        const e = ext(q('num'));
        if (!e || !/^(ON|OFF)$/.test(q('log'))) return ok({ result: false });
        e.queueGlobal = q('log') === 'ON';
        return ok({ result: true });
      }
      case 'ext.queue.set': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        if (!QUEUES.has(q('queue'))) return { status: 404, body: 'Queue not found' };
        const logins = this.queueLogins.get(q('queue'));
        if (!ext(q('num')) || !logins || !QUEUES.get(q('queue'))?.includes(q('num')) || !/^(ON|OFF)$/.test(q('log')))
          return ok({ result: false });
        if (q('log') === 'ON') logins.add(q('num'));
        else logins.delete(q('num'));
        return ok({ result: true });
      }
      case 'ext.options.set': {
        const missing = needExt(q('num'));
        if (missing) return missing;
        const e = ext(q('num'));
        const rec = RECORD_TYPES.get(q('recording'));
        if (!e || !/^(ON|OFF)$/.test(q('enabled')) || !/^(ON|OFF)$/.test(q('external')) || !rec) return ok({ result: false });
        e.enabled = q('enabled') === 'ON';
        e.externalCalls = q('external') === 'ON';
        e.recordType = rec;
        return ok({ result: true });
      }
      default:
        return { status: 404, body: 'Not Found' };
    }
  }

  /** Plays a documented scenario with fresh ids; the webhook scheme may be overridden. */
  async play(name: string, options: Record<string, unknown> = {}): Promise<{ callId: string }> {
    if (name === LOST_HANGUP) return this.playLostHangup(options);
    if (name === QUEUE_WAITING) return this.playQueueWaiting(options);
    const composite = ownProperty(CALLBACK_SCENARIOS, name);
    if (composite) {
      let last = { callId: '' };
      for (const part of composite.parts) last = await this.play(part, options);
      return last;
    }
    const scenario = ownProperty(THREE_CX_SCENARIOS, name);
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    const call = this.scenarioContext(scenario.direction, options);
    const dropHangup = options.dropHangup === true || options.dropHangup === 'true';
    for (const step of scenario.steps) {
      if (dropHangup && step.Finishtype !== undefined) continue;
      await this.emit(step, call);
      if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    }
    return { callId: publicCallId(call) };
  }

  /** A live inbound call of scenario `ctx`, routing at `ext`: listed in the simulator's state from now. */
  private liveInboundCall(ctx: CallContext, ext: string): ActiveCall {
    const call: ActiveCall = {
      callID: this.nextCall++,
      base: ctx.base,
      chid: ctx.chid,
      leg: 0,
      ext,
      party: ctx.caller,
      direction: 'Inbound',
      state: 'Routing',
      startedAt: new Date().toISOString(),
    };
    this.calls.set(call.callID, call);
    return call;
  }

  private scenarioContext(direction: 'inbound' | 'outbound', options: Record<string, unknown>): CallContext {
    const edition = options.edition === undefined ? this.edition : String(options.edition);
    if (!isEdition(edition)) throw new Error(`unknown edition ${edition} (${THREE_CX_EDITIONS.join(', ')})`);
    return {
      base: this.newCallBase(),
      chid: this.newChid(),
      caller: String(options.caller ?? '05551239988'),
      did: String(options.did ?? ''),
      scheme: (options.scheme as WebhookScheme | undefined) ?? this.sender.scheme,
      direction,
      edition,
    };
  }

  /**
   * An inbound call, live in the simulator's state while it rings and is answered (IVR → queue →
   * 202), that then ends without its `incoming` end and recording webhooks: lost deliveries.
   */
  private async playLostHangup(options: Record<string, unknown>): Promise<{ callId: string }> {
    const ctx = this.scenarioContext('inbound', options);
    const call = this.liveInboundCall(ctx, '202');
    const answered = THREE_CX_SCENARIOS['incoming-answered'].steps.filter(
      (s) => s.Event === 'ringing' || s.Event === 'incomingcall_started',
    );
    for (const step of answered) {
      if (step.Event === 'incomingcall_started') Object.assign(call, { state: 'Talking', leg: 1, answeredAt: new Date().toISOString() });
      await this.emit(step, ctx);
      if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    }
    this.calls.delete(call.callID);
    return { callId: publicCallId(ctx) };
  }

  private newCallBase(): string {
    const d = new Date();
    const stamp = [d.getFullYear() % 100, d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
      .map((n) => String(n).padStart(2, '0'))
      .join('');
    return `${stamp}_${this.seq++}`;
  }

  /** A Creomate call chain id: `00000000-01dc-` and 20 hex digits of the time and a counter. */
  private newChid(): string {
    const time = Date.now().toString(16).padStart(8, '0').slice(-8);
    const count = (this.seq++).toString(16).padStart(12, '0').slice(-12);
    return `00000000-01dc-${time.slice(0, 4)}-${time.slice(4)}-${count}`;
  }

  /** Sends one step in the POST scheme, or converted the way the GET scheme documents it. */
  private emit(step: ThreeCxStep, call: CallContext, withRecording = false): Promise<number> {
    const id = `${call.base}-${step.leg}`;
    const recordingUrl = `https://127.0.0.1:5001/webapi/recording/${id}-1.mp3`;
    if (call.edition === 'creomate') return this.sender.send(this.creomateFields(step, call, withRecording), 'post');
    if (call.scheme === 'post') {
      const fields: Record<string, unknown> = { Event: step.Event };
      if (step.Event === 'recording') fields.FileUrls = [recordingUrl];
      fields.Callerid = step.makecall ? 'MAKECALL' : call.caller;
      fields.User = step.User;
      if (step.Usertype) fields.Usertype = step.Usertype;
      if (step.Trtype) fields.Trtype = step.Trtype;
      if (step.Finishtype) fields.Finishtype = step.Finishtype;
      if (step.Transfer) fields.Transfer = step.Transfer;
      if (step.Event !== 'recording' && step.Event !== 'dialing') fields.Did = call.did;
      if (step.Duration !== undefined) fields.Duration = step.Duration;
      fields.Id = id;
      return this.sender.send(fields, 'post');
    }
    if (step.Event === 'recording') return this.sender.sendRaw('GET', encodeURIComponent(recordingUrl));
    const fields: Record<string, unknown> = { event: GET_SCHEME_EVENT[step.Event] ?? step.Event, callerid: call.caller, user: step.User };
    if (step.Usertype) fields.usertype = step.Usertype;
    if (step.Finishtype) fields.finishtype = step.Finishtype;
    if (step.Transfer) fields.transfer = step.Transfer;
    if (step.Event !== 'dialing') fields.did = call.did;
    if (step.Trtype) fields.trtype = step.Trtype;
    if (step.Finishtype) fields.title = this.title(step, call);
    fields.id = id;
    return this.sender.send(fields, call.scheme);
  }

  /**
   * One step as the Creomate add-on sends it (creomate.com "3CX CRM bundle" / "3CX dialer bundle"):
   * lower-case names, `chid`, the DID rule name in `did` and its number in `inbound_did`; the
   * recording as `FILES` on a call-end event (a step `recording`, or `withRecording` on the end).
   */
  private creomateFields(step: ThreeCxStep, call: CallContext, withRecording: boolean): Record<string, unknown> {
    const id = `${call.base}-${step.leg}`;
    const outbound = call.direction === 'outbound';
    const recording = step.Event === 'recording';
    const ended = recording || step.Finishtype !== undefined;
    const answered = recording || step.Finishtype === 'Ok';
    const didRule = call.did ? `DID ${call.did}` : '';
    const fields: Record<string, unknown> = {};
    if (recording || withRecording) fields.FILES = [`https://127.0.0.1:5001/webapi/recording/${id}-1.mp3`];
    fields.event = recording ? (outbound ? 'outgoing' : 'incoming') : (CREOMATE_EVENT[step.Event] ?? step.Event);
    fields.callerid = call.caller;
    fields.user = step.User;
    if (step.Usertype) fields.usertype = step.Usertype;
    if (ended) {
      fields.finishtype = answered ? 'Ok' : 'Missed';
      fields.transfer = step.Transfer ?? 'False';
      fields.breakside = answered ? 'Internal' : 'Undef';
    }
    fields.did = outbound ? '' : didRule;
    if (step.Trtype) fields.trtype = step.Trtype === 'Attended' ? 'Accomp' : step.Trtype;
    if (recording) fields.title = `Successful call to ${call.caller}`;
    else if (ended) fields.title = this.title(step, { ...call, did: didRule });
    fields.id = id;
    fields.chid = call.chid;
    fields.inbound_did = outbound ? call.caller : call.did;
    fields.sip_displayname = outbound ? '' : call.caller;
    fields.phonebook = '';
    fields.call_id1 = `${call.chid.slice(-12)}-${step.leg};from-tag=sim`;
    fields.call_id2 = '';
    if (ended && !answered) fields.termination_reason_details = outbound ? 'declined' : 'by_did';
    if (ended && outbound && call.did) fields.source_presentation = call.did;
    return fields;
  }

  private title(step: ThreeCxStep, call: { caller: string; did: string; direction: string }): string {
    const talk = step.Duration ? ` (${Number(step.Duration.split(':')[0])}:${step.Duration.split(':')[1]})` : '';
    const prefix = call.did ? `${call.did}:` : '';
    if (call.direction === 'outbound')
      return step.Duration ? `Successful call to ${call.caller}${talk}` : `Unanswered call to ${call.caller}`;
    return step.Duration
      ? `${prefix}Answered call from ${call.caller}${talk}`
      : `${prefix}Missed call by queue ${step.User} from ${call.caller}`;
  }

  /** See QUEUE_WAITING; resolves once the call waits in the queue. */
  private async playQueueWaiting(options: Record<string, unknown>): Promise<{ callId: string }> {
    const ctx = this.scenarioContext('inbound', options);
    const call = this.liveInboundCall(ctx, WAITING_QUEUE);
    await this.emit({ Event: 'ringing', User: '800', Usertype: 'other', leg: 0 }, ctx);
    if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    await this.emit({ Event: 'ringing', User: WAITING_QUEUE, Usertype: 'queue', leg: 0 }, ctx);
    call.timer = setTimeout(() => void this.routeQueued(call, QUEUE_AGENT), this.stepMs * 4);
    return { callId: publicCallId(ctx) };
  }

  /** A call waiting in a queue rings `dest` and is answered there. */
  private async routeQueued(call: ActiveCall, dest: string): Promise<void> {
    if (!this.calls.has(call.callID) || call.state !== 'Routing' || !QUEUES.has(call.ext)) return;
    clearTimeout(call.timer);
    call.ext = dest;
    await this.emit({ Event: 'ringing', User: dest, Usertype: 'ext', leg: 0 }, this.ctx(call, 'inbound'));
    call.timer = setTimeout(() => void this.answerCall(call), this.stepMs);
  }

  // --- queue load (queue-load.ts) ------------------------------------------------------------

  /** Plays a queue load (QUEUE_LOAD_OPTIONS); resolves with its log once every call has ended. */
  playQueueLoad(options: Record<string, unknown> = {}, mode?: QueueLoadMode): Promise<QueueLoadLog> {
    return this.queueLoad.play(options, mode);
  }

  stopQueueLoad(): void {
    this.queueLoad.stop();
  }

  readonly loadQueues = [...QUEUES.keys()];

  loadAgents(queue: string): readonly string[] {
    const members = QUEUES.get(queue) ?? [];
    const loggedIn = members.filter((m) => this.loggedIn(queue, m));
    return loggedIn.length ? loggedIn : members;
  }

  get loadRingMs(): number {
    return this.stepMs;
  }

  /**
   * A load call as the add-on reports one (the documented incoming scenarios): IVR 800, then the
   * queue rings (`Usertype` queue), the agent rings and picks up (leg 1), talks and hangs up
   * (`Finishtype` Ok), recordings follow; a caller who gives up ends with `Finishtype` Missed at the
   * queue. A blind transfer into another queue: that queue rings on the agent's leg, its agent
   * picks up the next leg with `Trtype` Blind, as in the documented blind-transfer scenario.
   */
  startLoadCall(index: number): QueueLoadCall {
    const ctx = this.scenarioContext('inbound', { caller: `0555${String(100000 + (index % 900000))}` });
    const agents: Array<{ agent: string; leg: number }> = [];
    let leg = 0;
    let answeredAt = 0;
    const stamped = async (step: ThreeCxStep, withRecording = false): Promise<number> => {
      const at = Date.now();
      await this.emit(step, ctx, withRecording);
      return at;
    };
    const recordings = async () => {
      if (ctx.edition === 'creomate') return;
      for (const a of [...agents].reverse()) await this.emit({ Event: 'recording', User: a.agent, leg: a.leg }, ctx);
    };
    return {
      callId: publicCallId(ctx),
      enter: async (queue, _agent, transferredBy) => {
        if (transferredBy === undefined) await this.emit({ Event: 'ringing', User: IVRS[0], Usertype: 'other', leg }, ctx);
        return stamped({ Event: 'ringing', User: queue, Usertype: 'queue', leg });
      },
      ringAgent: async (_queue, agent) => void (await this.emit({ Event: 'ringing', User: agent, Usertype: 'ext', leg }, ctx)),
      answer: async (_queue, agent) => {
        const transferred = leg > 0;
        leg += 1;
        agents.push({ agent, leg });
        const at = await stamped({ Event: 'incomingcall_started', User: agent, Trtype: transferred ? 'Blind' : 'NotDef', leg });
        answeredAt = at;
        return at;
      },
      hangUp: async (queue, agent) => {
        const talked = agent !== undefined;
        const at = await stamped(
          {
            Event: 'incoming',
            User: agent ?? queue,
            Finishtype: talked ? 'Ok' : 'Missed',
            Transfer: 'False',
            Duration: talked ? clock(Math.max(1, Math.round((Date.now() - answeredAt) / 1000))) : '',
            leg,
          },
          ctx.edition === 'creomate' && talked,
        );
        await recordings();
        return at;
      },
    };
  }

  // --- live calls started by call control -------------------------------------------------

  private async playMakecall(ext: string, destination: string, chid: string): Promise<void> {
    const call: ActiveCall = {
      callID: this.nextCall++,
      base: this.newCallBase(),
      chid,
      leg: 0,
      ext,
      party: destination,
      direction: 'Outbound',
      state: 'Routing',
      startedAt: new Date().toISOString(),
    };
    this.calls.set(call.callID, call);
    const ctx = this.ctx(call, 'outbound');
    await this.emit({ Event: 'dialing', User: ext, leg: 0 }, ctx);
    // The documented "outgoing unsuccessful" flow: no answer (after ringing a while), or busy (at once);
    // the add-on's Finishtype has no busy, both end Missed.
    const outcome = placedCallOutcome(destination);
    if (outcome !== 'answered') {
      call.timer = setTimeout(() => void this.endCall(call), outcome === 'busy' ? 0 : this.stepMs * 2);
      return;
    }
    call.timer = setTimeout(() => void this.answerCall(call, true), this.stepMs);
  }

  private async answerCall(call: ActiveCall, makecall = false): Promise<void> {
    if (!this.calls.has(call.callID) || call.state === 'Talking') return;
    call.state = 'Talking';
    call.leg = 1;
    call.answeredAt = new Date().toISOString();
    const outbound = call.direction === 'Outbound';
    await this.emit(
      { Event: outbound ? 'outgoingcall_started' : 'incomingcall_started', User: call.ext, Trtype: 'NotDef', leg: 1, makecall },
      this.ctx(call, outbound ? 'outbound' : 'inbound'),
    );
    clearTimeout(call.timer);
    call.timer = setTimeout(() => void this.endCall(call), this.talkMs);
  }

  private async blindTransfer(call: ActiveCall, dest: string): Promise<void> {
    clearTimeout(call.timer);
    const ctx = this.ctx(call, call.direction === 'Outbound' ? 'outbound' : 'inbound');
    await this.emit({ Event: 'ringing', User: dest, Usertype: 'ext', leg: call.leg }, ctx);
    await sleep(this.stepMs);
    if (!this.calls.has(call.callID)) return;
    // Creomate sends its recordings with the call's end.
    if (ctx.edition !== 'creomate') await this.emit({ Event: 'recording', User: call.ext, leg: call.leg }, ctx);
    call.ext = dest;
    call.leg += 1;
    call.answeredAt = new Date().toISOString();
    await this.emit({ Event: 'incomingcall_started', User: dest, Trtype: 'Blind', leg: call.leg }, ctx);
    call.timer = setTimeout(() => void this.endCall(call), this.talkMs);
  }

  private async endCall(call: ActiveCall): Promise<void> {
    if (!this.calls.delete(call.callID)) return;
    clearTimeout(call.timer);
    const ctx = this.ctx(call, call.direction === 'Outbound' ? 'outbound' : 'inbound');
    const answered = call.state === 'Talking';
    const seconds = answered ? Math.max(1, Math.round((Date.now() - Date.parse(call.answeredAt!)) / 1000)) : 0;
    const duration = answered ? `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}` : '';
    // Creomate (dialer bundle): one call-end event, with the recording when there is one.
    const creomate = ctx.edition === 'creomate';
    await this.emit(
      {
        Event: call.direction === 'Outbound' ? 'outgoing' : 'incoming',
        User: call.ext,
        Finishtype: answered ? 'Ok' : 'Missed',
        Transfer: 'False',
        Duration: duration,
        leg: call.leg,
      },
      ctx,
      creomate && answered,
    );
    if (answered && !creomate) {
      await sleep(this.stepMs);
      await this.emit({ Event: 'recording', User: call.ext, leg: call.leg }, ctx);
    }
  }

  private ctx(call: ActiveCall, direction: 'inbound' | 'outbound'): CallContext {
    return { base: call.base, chid: call.chid, caller: call.party, did: '', scheme: this.sender.scheme, direction, edition: this.edition };
  }

  private callOf(ext: string, state?: ActiveCall['state']): ActiveCall | undefined {
    return [...this.calls.values()].find((c) => c.ext === ext && (!state || c.state === state));
  }

  private statusOf(num: string): string {
    const call = this.callOf(num);
    if (!call) return this.queueLoad.isBusy(num) ? 'Talking' : 'Free';
    return call.state === 'Talking' ? 'Talking' : 'Ringing';
  }

  private loggedIn(queue: string, num: string): boolean {
    return this.extensions.get(num)!.queueGlobal && (this.queueLogins.get(queue)?.has(num) ?? false);
  }

  private lineParty(c: ActiveCall) {
    return { dnNum: '10000', dnType: 'externalline', externalParty: c.party, status: c.state === 'Talking' ? 'Connected' : 'Dialing' };
  }

  private callInfo(c: ActiveCall) {
    const me = { dnNum: c.ext, dnType: 'extension', externalParty: c.party, status: c.state === 'Talking' ? 'Connected' : 'Ringing' };
    return {
      callID: c.callID,
      state: c.state,
      startedAt: c.startedAt,
      answeredAt: c.answeredAt ?? c.startedAt,
      did: '',
      owner: this.lineParty(c),
      talkTo: c.state === 'Talking' ? [me] : [],
      routingTo: c.state === 'Routing' ? [me] : [],
    };
  }
}

/** Talk time as the add-on writes it: "mm:ss". */
function clock(seconds: number): string {
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

function isEdition(value: string): value is ThreeCxEdition {
  return (THREE_CX_EDITIONS as readonly string[]).includes(value);
}
