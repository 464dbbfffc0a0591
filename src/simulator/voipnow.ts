import { randomBytes } from 'node:crypto';
import { ownProperty } from '../core/lookup';
import { placedCallOutcome } from './call-outcomes';
import { QueueLoadPlayer, type QueueLoadCall, type QueueLoadHost, type QueueLoadLog, type QueueLoadMode } from './queue-load';
import { sleep } from './server';
import type { ProviderSimulator, SimReply, SimRequest } from './types';
import { LOST_HANGUP, OUTCOME_SCENARIO_NAMES, missedCallbackScenarios } from './outcome-scenarios';
import { VOIPNOW_SCENARIOS, type VoipNowCallStatus, type VoipNowEventType } from './voipnow-scenarios';
import { WebhookSender, type WebhookScheme } from './webhook-sender';

export interface VoipNowSimOptions {
  clientId: string;
  clientSecret: string;
  /** `expires_in` the token endpoint states, in seconds (default 3600). */
  tokenLifetimeSec?: number;
  /** Largest page the presence listing serves, whatever `count` asks (default 20). */
  maxPageSize?: number;
  /** Pause between the Call Events of one call. */
  stepMs?: number;
  /** How long a call placed through `makecall` talks before it hangs up. */
  talkMs?: number;
  /** How Call Events are sent: `get` (query string, default) or `form` (POST form). */
  scheme?: WebhookScheme;
  /** Text every issued access token starts with, so a leak scan can find any of them. */
  tokenPrefix?: string;
  /** Where Call Events name their type (default `url`); see VoipNowEventSender. */
  eventSender?: VoipNowEventSender;
}

/**
 * Where a Call Event names its type: `url`, VoipNow's own way, one callback URL per type
 * (`?event=<type>`); `payload`, as senders that use one URL for every type put it in the payload
 * (`EventType`: `dial-in`, `dial-out`, `answer`, `hangup`, `call_interactive`), with `Duration`
 * on the hangup.
 */
export type VoipNowEventSender = 'url' | 'payload';
export const VOIPNOW_EVENT_SENDERS: readonly VoipNowEventSender[] = ['url', 'payload'];

/** `EventType` per step type, as a `payload` sender names it: one `answer`, its side in `CallFlow`. */
const PAYLOAD_EVENT_TYPES: Record<VoipNowEventType, string> = {
  'dial-in': 'dial-in',
  'dial-out': 'dial-out',
  'answer-incoming': 'answer',
  'answer-outgoing': 'answer',
  hangup: 'hangup',
  'call-interactive': 'call_interactive',
};

/** How one Call Event is sent, where it differs from the simulator's settings. */
interface EmitOptions {
  scheme?: WebhookScheme;
  eventParam?: boolean;
  sender?: VoipNowEventSender;
  /** `Duration` of a hangup a `payload` sender sends, in seconds. */
  duration?: number;
  /** Host appended to extension numbers (`0003*210@<host>`), as some senders write them. */
  extensionHost?: string;
}

interface SimExtension {
  number: string;
  name: string;
  /** Presence registration: 1 registered, 2 not needed, -1 not registered, -2 expired, 0 unknown. */
  registration: number;
}

interface SimCall {
  /** The PhoneCall id, also sent as `CallID` in Call Events. */
  id: string;
  /** The extension the call belongs to: the caller when `flow` is out, the called one when in. */
  extension: string;
  source: string;
  destination: string;
  flow: 'in' | 'out';
  /** View status: 3 ringing, 4 other side ringing, 5 on call. */
  status: number;
  answered: boolean;
  startedAt: string;
  /** When the call was answered (ms), for the `Duration` of its hangup. */
  answeredAtMs?: number;
  timer?: NodeJS.Timeout;
}

/** Event parameters of one call, as VoipNow names them. */
interface CallParty {
  callId: string;
  callerNum: string;
  callerName: string;
  calledDid: string;
  calledExtension: string;
  callerExtension: string;
  calledNumber: string;
}

const USER = '@me';
/** Lost hangups the simulator keeps for a late delivery; more are dropped for good. */
const MAX_LOST_HANGUPS = 1000;
const PREFIX = '0003*';
/** 45 extensions, so a listing with the default page size of 20 takes three pages. */
const EXTENSION_NUMBERS = Array.from({ length: 45 }, (_, i) => `${PREFIX}${201 + i}`);
const QUEUES: Record<string, string[]> = {
  [`${PREFIX}300`]: [`${PREFIX}201`, `${PREFIX}202`, `${PREFIX}203`, `${PREFIX}204`, `${PREFIX}205`],
  [`${PREFIX}301`]: [`${PREFIX}210`, `${PREFIX}211`],
};
const CALLBACK_SCENARIOS = missedCallbackScenarios({
  missed: 'inbound-missed',
  answered: 'outbound-answered',
  unanswered: 'outbound-unanswered',
  busy: 'outbound-busy',
});
const DEFAULT_CALLER = '0555123988';
const PRESENCE_FIELDS = new Set(['extension', 'status', 'registration']);
const FILTER_OPS = new Set(['contains', 'equals', 'starts with', 'startswith', 'present']);
const CALL_ACTIONS = new Set(['Transfer', 'Park', 'OnHold', 'OffHold', 'StartRecording', 'StopRecording', 'Pickup', 'Monitor']);

/** Registration of the n-th extension: mostly registered, with every documented value present. */
function registrationOf(i: number): number {
  if (i === 44) return 0;
  if (i % 11 === 10) return -2;
  if (i % 7 === 6) return -1;
  if (i % 13 === 12) return 2;
  return 1;
}

/**
 * 4PSA VoipNow's UnifiedAPI on loopback under `/voipnow`: OAuth2 client credentials
 * (`/voipnow/oauth/token.php`), presence with paging and the documented validation codes,
 * PhoneCalls (simple make, list, transfer, hang up), queue agents, and Call Events sent to the
 * configured URL with `?event=<type>` appended, as one callback URL per type would be.
 */
export class VoipNowSimulator implements ProviderSimulator, QueueLoadHost {
  readonly id = 'voipnow';
  readonly prefix = '/voipnow';
  readonly sender: WebhookSender;
  /** Token answers given (successful ones), for tests of single-flight and refresh. */
  tokenRequests = 0;
  /** The latest tokens issued (at most 100), so tests can check none leaks into a text. */
  readonly issuedTokens: string[] = [];
  /** `expires_in` stated for new tokens. */
  tokenLifetimeSec: number;
  /** How long new tokens really work; undefined = as stated. Lower it to simulate early expiry. */
  tokenValidMs?: number;
  /** Presence page size cap. */
  maxPageSize: number;
  /** Append `?event=<type>` to Call Event URLs (false: the receiver must infer the type). */
  eventParam = true;
  /** Where Call Events name their type; back to the configured one on reset. */
  eventSender: VoipNowEventSender = 'url';
  private configuredSender: VoipNowEventSender;
  private tokens = new Map<string, number>();
  private extensions = new Map<string, SimExtension>();
  private agents = new Map<string, Map<string, number>>();
  private calls = new Map<string, SimCall>();
  private losingHangups = false;
  private readonly lostHangups: Array<() => Promise<void>> = [];
  private seq = 1;
  private readonly stepMs: number;
  private readonly talkMs: number;
  private readonly queueLoad = new QueueLoadPlayer(this);

  constructor(private readonly options: VoipNowSimOptions) {
    this.sender = new WebhookSender(options.scheme ?? 'get');
    this.stepMs = options.stepMs ?? 300;
    this.talkMs = options.talkMs ?? 1500;
    this.tokenLifetimeSec = options.tokenLifetimeSec ?? 3600;
    this.maxPageSize = options.maxPageSize ?? 20;
    this.configuredSender = options.eventSender ?? 'url';
    this.reset();
  }

  /** Sets where Call Events name their type from now on, also after a reset (the command's --voipnow-sender). */
  useEventSender(sender: VoipNowEventSender): void {
    this.configuredSender = sender;
    this.eventSender = sender;
  }

  reset(): void {
    this.queueLoad.stop();
    for (const c of this.calls.values()) clearTimeout(c.timer);
    this.calls.clear();
    this.losingHangups = false;
    this.lostHangups.length = 0;
    this.tokens.clear();
    this.tokenRequests = 0;
    this.issuedTokens.length = 0;
    this.tokenLifetimeSec = this.options.tokenLifetimeSec ?? 3600;
    this.tokenValidMs = undefined;
    this.maxPageSize = this.options.maxPageSize ?? 20;
    this.eventParam = true;
    this.eventSender = this.configuredSender;
    this.extensions.clear();
    EXTENSION_NUMBERS.forEach((number, i) =>
      this.extensions.set(number, { number, name: `Agent ${number.slice(PREFIX.length)}`, registration: registrationOf(i) }),
    );
    this.agents.clear();
    for (const [queue, members] of Object.entries(QUEUES)) this.agents.set(queue, new Map(members.map((m) => [m, 0])));
  }

  /** Every issued token stops working at once: the next request answers 401. */
  revokeTokens(): void {
    this.tokens.clear();
  }

  scenarios(): string[] {
    return [...Object.keys(VOIPNOW_SCENARIOS), ...OUTCOME_SCENARIO_NAMES];
  }

  readonly scenarioOptions = {
    extension: `the extension (default ${PREFIX}210)`,
    caller: 'the external caller of an inbound call (default 0555123988)',
    callee: 'the number an outbound or internal call dials',
    did: 'the DID of an inbound call (default 0212345678)',
    scheme: 'get (query string, default) or form (form body)',
    eventParam: 'false: no ?event=<type> in the webhook URL',
    sender: 'url (type in ?event=, default) or payload (type in EventType, Duration on hangup)',
    duration: 'the Duration (seconds) a payload sender puts on the hangup (default 0)',
    extensionHost: 'a host to write extensions with (0003*210@<host>)',
    dropHangup: 'true: the Hangup Call Event is lost (never sent), for reconciliation and stale calls',
  };

  placesCall(req: SimRequest): boolean {
    return req.method === 'POST' && /\/uapi\/phoneCalls\/[^/]+\/simple\/?$/.test(req.url.pathname);
  }

  state(): unknown {
    return {
      tokenRequests: this.tokenRequests,
      liveTokens: this.tokens.size,
      extensions: [...this.extensions.values()].map((e) => ({ ...e, status: this.presenceStatus(e) })),
      calls: [...this.calls.values()].map(({ timer: _t, ...c }) => c),
      queues: Object.fromEntries([...this.agents].map(([q, m]) => [q, Object.fromEntries(m)])),
    };
  }

  handle(req: SimRequest): SimReply {
    let parts: string[];
    try {
      parts = req.url.pathname
        .slice(this.prefix.length)
        .split('/')
        .filter((p) => p !== '')
        .map((p) => decodeURIComponent(p));
    } catch {
      return fail(400, 'request_invalid', 'The request path is not valid.');
    }
    if (parts[0] === 'oauth' && parts[1] === 'token.php' && parts.length === 2) {
      return req.method === 'POST' ? this.token(req) : { status: 405, body: { error: 'invalid_request' } };
    }
    if (parts[0] !== 'uapi') return fail(404, 'not_found', 'Unknown resource.');
    if (!this.authorized(req)) return fail(401, 'unauthorized', 'The access token is missing, invalid or expired.');
    const [, resource, user, ...rest] = parts;
    if (user !== USER && user !== '@viewer') return fail(400, 'userid_invalid', 'Value supplied in the URI-Fragment as userId is invalid.');
    let body: Record<string, unknown> = {};
    if (req.rawBody.length) {
      try {
        body = JSON.parse(req.rawBody.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'request_invalid', 'The request body is not valid JSON.');
      }
    }
    if (resource === 'extensions') return this.extensionsResource(req, rest, body);
    if (resource === 'phoneCalls') return this.phoneCalls(req, rest, body);
    return fail(404, 'not_found', 'Unknown resource.');
  }

  // --- OAuth ---------------------------------------------------------------------------

  private token(req: SimRequest): SimReply {
    const form = new URLSearchParams(req.rawBody.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Only client_credentials is allowed.' } };
    }
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } };
    }
    if (form.get('type') !== 'unifiedapi' || !form.get('redirect_uri')) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'type=unifiedapi and redirect_uri are required.' } };
    }
    const now = Date.now();
    for (const [t, until] of this.tokens) if (until <= now) this.tokens.delete(t);
    const token = (this.options.tokenPrefix ?? '') + randomBytes(20).toString('hex');
    this.tokens.set(token, now + (this.tokenValidMs ?? this.tokenLifetimeSec * 1000));
    this.tokenRequests++;
    this.issuedTokens.push(token);
    if (this.issuedTokens.length > 100) this.issuedTokens.shift();
    return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: this.tokenLifetimeSec, scope: '' } };
  }

  private authorized(req: SimRequest): boolean {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    const until = m ? this.tokens.get(m[1]) : undefined;
    return until !== undefined && until > Date.now();
  }

  // --- extensions: presence and queue agents ---------------------------------------------

  private extensionsResource(req: SimRequest, rest: string[], body: Record<string, unknown>): SimReply {
    const [target, ...tail] = rest;
    if (tail.length === 1 && tail[0] === 'presence') {
      return req.method === 'GET' ? this.presence(req, target) : fail(405, 'method_invalid', 'Use GET.');
    }
    if (tail[0] === 'queue' && tail[1] === 'agents' && tail.length <= 3) {
      const agents = this.agents.get(target);
      if (!agents) return fail(400, 'extension_invalid', 'Value supplied in the URI-Fragment as extension is not a queue.');
      if (req.method === 'GET' && tail.length === 2) {
        return {
          status: 200,
          body: page(
            [...agents].map(([agent, status]) => ({ agent, status })),
            0,
            agents.size,
          ),
        };
      }
      if (req.method === 'PUT' && tail.length === 3) {
        const agent = tail[2];
        if (!this.extensions.has(agent)) return fail(400, 'extension_invalid', 'Value supplied in the URI-Fragment as agent is invalid.');
        if (!agents.has(agent)) return fail(400, 'agent_invalid', `Extension ${agent} is not an agent of queue ${target}.`);
        const status = Number(body.status);
        if (![0, 1, 2].includes(status) || body.status === '' || body.status === null) {
          return fail(400, 'status_invalid', 'Value supplied in status is invalid. It must be 0, 1 or 2.');
        }
        agents.set(agent, status);
        return { status: 200, body: { agent, status } };
      }
      return fail(405, 'method_invalid', 'Unsupported method.');
    }
    return fail(404, 'not_found', 'Unknown resource.');
  }

  private presence(req: SimRequest, target: string): SimReply {
    const q = req.url.searchParams;
    const count = q.has('count') ? intOf(q.get('count')) : 20;
    if (count === undefined || count < 1 || count > 5000) {
      return fail(400, 'count_invalid', 'Value supplied in count parameter is missing or invalid. It must be a number lower than 5000.');
    }
    const startIndex = q.has('startIndex') ? intOf(q.get('startIndex')) : 0;
    if (startIndex === undefined || startIndex < 0 || startIndex >= 5000) {
      return fail(400, 'startindex_invalid', 'Value supplied in startIndex parameter is missing or invalid.');
    }
    const fields = q.get('fields');
    const fieldList = fields === null ? undefined : fields.split(',').map((f) => f.trim());
    if (fieldList && (!fieldList.length || fieldList.some((f) => !PRESENCE_FIELDS.has(f)))) {
      return fail(400, 'fields_invalid', 'Value supplied in fields parameter is missing or invalid.');
    }
    const filterBy = q.get('filterBy');
    if (filterBy !== null && filterBy !== 'extension') {
      return fail(400, 'filterby_invalid', 'Value supplied in filterBy parameter is missing or invalid. Only extension can be used.');
    }
    const filterOp = q.get('filterOp');
    if (filterOp !== null && !FILTER_OPS.has(filterOp.toLowerCase())) {
      return fail(400, 'filterop_invalid', 'Value supplied in filterOp parameter is missing or invalid.');
    }
    const filterValue = q.get('filterValue');
    if (filterBy !== null && filterOp?.toLowerCase() !== 'present' && !filterValue) {
      return fail(400, 'filtervalue_invalid', 'Value supplied in filterValue parameter is missing or invalid.');
    }
    const sortOrder = q.get('sortOrder');
    if (sortOrder !== null && sortOrder !== 'ascending' && sortOrder !== 'descending') {
      return fail(400, 'sortorder_invalid', 'Value supplied in sortOrder parameter is missing or invalid.');
    }

    let list: SimExtension[];
    if (target === '@self') list = [...this.extensions.values()];
    else {
      const ext = this.extensions.get(target);
      if (!ext) return fail(400, 'extension_invalid', 'Value supplied in the URI-Fragment as extension is invalid.');
      list = [ext];
    }
    if (filterBy !== null) {
      const op = (filterOp ?? 'equals').toLowerCase();
      const v = filterValue ?? '';
      list = list.filter((e) =>
        op === 'present' ? true : op === 'contains' ? e.number.includes(v) : op === 'equals' ? e.number === v : e.number.startsWith(v),
      );
    }
    if (sortOrder === 'descending') list = [...list].reverse();
    const served = list.slice(startIndex, startIndex + Math.min(count, this.maxPageSize));
    if (!served.length) return { status: 204 };
    const entries = served.map((e) => {
      const full: Record<string, unknown> = {
        extension: e.number,
        status: this.presenceStatus(e),
        registration: [{ agent: 'Simulated Phone 1.0', registration: String(e.registration), expire: expiry(e.registration) }],
      };
      return fieldList ? Object.fromEntries(Object.entries(full).filter(([k]) => fieldList.includes(k))) : full;
    });
    return {
      status: 200,
      body: { ...page(entries, startIndex, list.length), filtered: filterBy !== null, sorted: sortOrder !== null },
    };
  }

  /** Presence status: 2 ringing (called, not answered yet) / 3 busy in a call, else 1 online when reachable, 0 unknown. */
  private presenceStatus(e: SimExtension): number {
    for (const c of this.calls.values()) {
      const called = c.flow === 'in' ? c.extension : c.destination;
      if (called === e.number) return c.answered ? 3 : 2;
      if (c.extension === e.number || c.source === e.number) return 3;
    }
    if (this.queueLoad.isBusy(e.number)) return 3;
    return e.registration === 1 || e.registration === 2 ? 1 : 0;
  }

  // --- PhoneCalls ------------------------------------------------------------------------

  private phoneCalls(req: SimRequest, rest: string[], body: Record<string, unknown>): SimReply {
    if (req.method === 'POST' && rest.length === 1 && rest[0] === 'simple') return this.makecall(body);
    const [target, id, ...more] = rest;
    if (!target || more.length) return fail(404, 'not_found', 'Unknown resource.');
    if (target !== '@self' && !this.extensions.has(target)) {
      return fail(400, 'extension_invalid', 'Value supplied in the URI-Fragment as extension is invalid.');
    }
    const mine = [...this.calls.values()].filter((c) => target === '@self' || [c.extension, c.source, c.destination].includes(target));
    const chosen = id ? mine.filter((c) => c.id === id) : mine;
    switch (req.method) {
      case 'GET':
        if (!chosen.length) return { status: 204 };
        return {
          status: 200,
          body: page(
            chosen.map((c) => this.phoneCallJson(c)),
            0,
            chosen.length,
          ),
        };
      case 'DELETE':
        if (target === '@self') return fail(400, 'extension_invalid', 'Hang up needs an extension.');
        if (!chosen.length) return { status: 204 };
        for (const c of chosen) void this.endCall(c);
        return { status: 200, body: chosen.map((c) => ({ id: c.id })) };
      case 'PUT': {
        if (!id || target === '@self') return fail(404, 'not_found', 'Unknown resource.');
        const call = chosen[0];
        if (!call) return fail(400, 'phonecallid_invalid', `There is no phone call ${id} on extension ${target}.`);
        const action = String(body.action ?? '');
        if (!CALL_ACTIONS.has(action)) return fail(400, 'action_invalid', 'Value supplied in action is missing or invalid.');
        if (action !== 'Transfer') return { status: 200, body: [this.phoneCallJson(call)] };
        const dest = String(body.transferNumber ?? body.sendCallTo ?? '').trim();
        if (!dest) return fail(400, 'transfernumber_invalid', 'Value supplied in transferNumber is missing or invalid.');
        if (call.status !== 5) return fail(400, 'phonecall_state_invalid', 'Only a call in progress can be transferred.');
        void this.transferCall(call, target, dest);
        return { status: 200, body: [this.phoneCallJson(call)] };
      }
      default:
        return fail(405, 'method_invalid', 'Unsupported method.');
    }
  }

  private makecall(body: Record<string, unknown>): SimReply {
    const extension = String(body.extension ?? '');
    if (!this.extensions.has(extension)) {
      return fail(400, 'extension_invalid', 'Value supplied in extension is invalid. It must be an existing extension.');
    }
    const view = (Array.isArray(body.phoneCallView) ? body.phoneCallView[0] : undefined) as Record<string, unknown> | undefined;
    const source = Array.isArray(view?.source) ? String(view.source[0] ?? '') : '';
    const destination = Array.isArray(view?.destination) ? String(view.destination[0] ?? '') : '';
    if (!source) return fail(400, 'source_invalid', 'Value supplied in phoneCallView source is missing or invalid.');
    if (!destination) return fail(400, 'destination_invalid', 'Value supplied in phoneCallView destination is missing or invalid.');
    const call: SimCall = {
      id: this.newCallId(),
      extension,
      source,
      destination,
      flow: 'out',
      status: 4,
      answered: false,
      startedAt: new Date().toISOString(),
    };
    this.calls.set(call.id, call);
    void this.playMakecall(call);
    return { status: 200, body: [this.phoneCallJson(call)] };
  }

  private phoneCallJson(c: SimCall): Record<string, unknown> {
    return {
      id: c.id,
      extension: c.extension,
      phoneCallView: [
        {
          id: `${c.id}-1`,
          source: [c.source],
          destination: [c.destination],
          flow: c.flow,
          status: c.status,
          answered: c.answered,
          disposition: c.answered ? 0 : 4,
          startDate: c.startedAt,
        },
      ],
    };
  }

  private newCallId(): string {
    return `${Date.now().toString(36)}${(this.seq++).toString(36).padStart(3, '0')}`;
  }

  // --- Call Events -----------------------------------------------------------------------

  /** Plays a scenario with a fresh CallID; options: caller, did, extension, callee, scheme, eventParam. */
  async play(name: string, options: Record<string, unknown> = {}): Promise<{ callId: string }> {
    if (name === LOST_HANGUP) return this.playLostHangup(options);
    const composite = ownProperty(CALLBACK_SCENARIOS, name);
    if (composite) {
      // The callback dials the number that called.
      const caller = String(options.caller ?? DEFAULT_CALLER);
      let last = { callId: '' };
      for (const part of composite.parts) last = await this.play(part, { ...options, caller, callee: caller });
      return last;
    }
    const scenario = ownProperty(VOIPNOW_SCENARIOS, name);
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    const callId = this.newCallId();
    const extension = String(options.extension ?? `${PREFIX}210`);
    const caller = String(options.caller ?? DEFAULT_CALLER);
    const did = String(options.did ?? '0212345678');
    const callee = String(options.callee ?? (scenario.kind === 'internal' ? `${PREFIX}211` : '0555987654'));
    const party: CallParty =
      scenario.kind === 'inbound'
        ? this.party(callId, caller, '', did, extension, '', did)
        : this.party(callId, extension, this.nameOf(extension), '', scenario.kind === 'internal' ? callee : '', extension, callee);
    const send = emitOptionsOf(options);
    const sender = send.sender ?? this.eventSender;
    const dropHangup = options.dropHangup === true || options.dropHangup === 'true';
    for (const s of scenario.steps) {
      // A routing request goes to the Call Events URL only where the sender names it as such.
      if (s.type === 'call-interactive' && sender !== 'payload') continue;
      if (s.type === 'hangup' && dropHangup) continue;
      await this.emit(s.type, s.status, party, s.flow, send);
      if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    }
    return { callId };
  }

  /**
   * An inbound call to the extension, live (listed by PhoneCalls) while it rings and is answered,
   * that then ends without its Hangup Call Event: a lost delivery.
   */
  private async playLostHangup(options: Record<string, unknown>): Promise<{ callId: string }> {
    const extension = String(options.extension ?? `${PREFIX}210`);
    const caller = String(options.caller ?? DEFAULT_CALLER);
    const did = String(options.did ?? '0212345678');
    const call: SimCall = {
      id: this.newCallId(),
      extension,
      source: caller,
      destination: extension,
      flow: 'in',
      status: 3,
      answered: false,
      startedAt: new Date().toISOString(),
    };
    this.calls.set(call.id, call);
    const party = this.party(call.id, caller, '', did, extension, '', did);
    const send = emitOptionsOf(options);
    await this.emit('dial-in', 'CALLING', party, 'IN', send);
    if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    Object.assign(call, { answered: true, answeredAtMs: Date.now(), status: 5 });
    await this.emit('answer-incoming', 'ANSWER', party, 'IN', send);
    if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    this.calls.delete(call.id);
    return { callId: call.id };
  }

  private party(
    callId: string,
    callerNum: string,
    callerName: string,
    calledDid: string,
    calledExtension: string,
    callerExtension: string,
    calledNumber: string,
  ): CallParty {
    return { callId, callerNum, callerName, calledDid, calledExtension, callerExtension, calledNumber };
  }

  private nameOf(extension: string): string {
    return this.extensions.get(extension)?.name ?? '';
  }

  /**
   * One Call Event: the documented parameters (empty when they do not apply) as a query string
   * (GET) or form body (POST), with `event=<type>` in the query as a per-type URL carries it, or
   * (payload sender) `EventType` first among the parameters and `Duration` on a hangup.
   */
  private emit(
    type: VoipNowEventType,
    status: VoipNowCallStatus,
    p: CallParty,
    flow: 'IN' | 'OUT',
    options: EmitOptions = {},
  ): Promise<number> {
    const payloadSender = (options.sender ?? this.eventSender) === 'payload';
    const atHost = (n: string) => (n && options.extensionHost ? `${n}@${options.extensionHost}` : n);
    const params = new URLSearchParams(payloadSender ? { EventType: PAYLOAD_EVENT_TYPES[type] } : {});
    for (const [name, value] of Object.entries({
      CallID: p.callId,
      CallerIDNum: p.callerNum,
      CallerIDName: p.callerName,
      CalledDID: p.calledDid,
      CalledExtension: atHost(p.calledExtension),
      CallerExtension: atHost(p.callerExtension),
      CalledNumber: p.calledNumber,
      CallFlow: flow,
      CallStatus: status,
    }))
      params.append(name, value);
    if (payloadSender && type === 'hangup') params.append('Duration', String(Math.max(0, Math.round(options.duration ?? 0))));
    const eventQuery = !payloadSender && (options.eventParam ?? this.eventParam) ? `event=${type}` : '';
    const scheme = options.scheme ?? this.sender.scheme;
    if (scheme === 'get') return this.sender.sendRaw('GET', [eventQuery, params.toString()].filter(Boolean).join('&'));
    return this.sender.sendRaw('POST', eventQuery, params.toString(), 'application/x-www-form-urlencoded');
  }

  // --- queue load (queue-load.ts) ----------------------------------------------------------

  /** Plays a queue load (QUEUE_LOAD_OPTIONS); resolves with its log once every call has ended. */
  playQueueLoad(options: Record<string, unknown> = {}, mode?: QueueLoadMode): Promise<QueueLoadLog> {
    return this.queueLoad.play(options, mode);
  }

  stopQueueLoad(): void {
    this.queueLoad.stop();
  }

  readonly loadQueues = Object.keys(QUEUES);

  loadAgents(queue: string): readonly string[] {
    return ownProperty(QUEUES, queue) ?? [];
  }

  get loadRingMs(): number {
    return this.stepMs;
  }

  /**
   * A load call as Call Events show one: Dial-In at the queue extension (the call enters it), Dial-In
   * at the agent, Answer incoming there, Hangup (ANSWER) at the agent; a caller who gives up hangs
   * up at the queue (CANCEL). A transfer into another queue: Dial-In at that queue's extension after
   * the answer, under the same CallID. The Call Events do not say which extension is a queue: users
   * name the queue extensions in pbx-stats.
   */
  startLoadCall(index: number): QueueLoadCall {
    const callId = this.newCallId();
    const caller = `0555${String(100000 + (index % 900000))}`;
    const did = '0212345678';
    const at = (extension: string) => this.party(callId, caller, '', did, extension, '', did);
    let answeredAtMs = 0;
    const stamped = async (type: VoipNowEventType, status: VoipNowCallStatus, extension: string, duration?: number) => {
      const t = Date.now();
      await this.emit(type, status, at(extension), 'IN', duration === undefined ? {} : { duration });
      return t;
    };
    return {
      callId,
      enter: (queue) => stamped('dial-in', 'CALLING', queue),
      ringAgent: async (_queue, agent) => void (await this.emit('dial-in', 'CALLING', at(agent), 'IN')),
      answer: async (_queue, agent) => {
        answeredAtMs = Date.now();
        return stamped('answer-incoming', 'ANSWER', agent);
      },
      hangUp: (queue, agent) =>
        agent === undefined
          ? stamped('hangup', 'CANCEL', queue)
          : stamped('hangup', 'ANSWER', agent, Math.round((Date.now() - answeredAtMs) / 1000)),
    };
  }

  /** The extension dials out (or calls another extension): Dial-Out, Answer outgoing, Hangup. */
  private async playMakecall(call: SimCall): Promise<void> {
    await this.emit('dial-out', 'CALLING', this.partyOf(call), 'OUT');
    // No answer: the call ends unanswered after ringing a while; busy: at once, its hangup says BUSY.
    const outcome = placedCallOutcome(call.destination);
    if (outcome === 'busy') {
      call.timer = unref(setTimeout(() => void this.endCall(call, 'BUSY'), 0));
      return;
    }
    if (outcome === 'no-answer') {
      call.timer = unref(setTimeout(() => void this.endCall(call), this.stepMs * 2));
      return;
    }
    call.timer = unref(setTimeout(() => void this.answerCall(call), this.stepMs));
  }

  private async answerCall(call: SimCall): Promise<void> {
    if (!this.calls.has(call.id) || call.answered) return;
    call.answered = true;
    call.answeredAtMs = Date.now();
    call.status = 5;
    await this.emit('answer-outgoing', 'ANSWER', this.partyOf(call), 'OUT');
    clearTimeout(call.timer);
    call.timer = unref(setTimeout(() => void this.endCall(call), this.talkMs));
  }

  /**
   * Transfer: the transferring extension leaves the call (its Hangup, answered). When the target
   * is an extension here, the remaining party's call rings there (Dial-In), is answered and talks
   * on under the same CallID; a number outside takes the call over and the PBX's part ends.
   */
  private async transferCall(call: SimCall, from: string, dest: string): Promise<void> {
    clearTimeout(call.timer);
    const flow = call.extension === from ? flowOf(call) : call.flow === 'in' ? 'OUT' : 'IN';
    await this.emit('hangup', 'ANSWER', this.partyOf(call), flow, { duration: talkSecondsOf(call) });
    if (!this.calls.has(call.id)) return;
    const remaining =
      call.flow === 'out'
        ? call.extension === from
          ? call.destination
          : call.extension
        : call.extension === from
          ? call.source
          : call.extension;
    if (!this.extensions.has(dest)) {
      this.calls.delete(call.id);
      return;
    }
    Object.assign(call, {
      extension: dest,
      source: remaining,
      destination: dest,
      flow: 'in',
      answered: false,
      answeredAtMs: undefined,
      status: 3,
    });
    await this.emit('dial-in', 'CALLING', this.partyOf(call), 'IN');
    await sleep(this.stepMs);
    if (!this.calls.has(call.id)) return;
    call.answered = true;
    call.answeredAtMs = Date.now();
    call.status = 5;
    await this.emit('answer-incoming', 'ANSWER', this.partyOf(call), 'IN');
    call.timer = unref(setTimeout(() => void this.endCall(call), this.talkMs));
  }

  /**
   * From now on (`true`) the Hangup Call Events of live calls that end are lost: kept here, not
   * sent, until `sendLostHangups` sends them late. The call is gone from the PhoneCalls list all the same.
   */
  loseHangups(lose: boolean): void {
    this.losingHangups = lose;
  }

  /** Sends the hangups lost so far, late, in the order the calls ended; resolves once each was answered. */
  async sendLostHangups(): Promise<void> {
    const lost = this.lostHangups.splice(0);
    for (const send of lost) await send();
  }

  /** Ends live call `callId` (placed by makecall) now, as if a party hung up; false when there is none. */
  async hangUp(callId: string): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call) return false;
    await this.endCall(call);
    return true;
  }

  /** Hangs the call up; `status` is the CallStatus of an unanswered call (default UNKNOWN). */
  private async endCall(call: SimCall, status: VoipNowCallStatus = 'UNKNOWN'): Promise<void> {
    if (!this.calls.delete(call.id)) return;
    clearTimeout(call.timer);
    const party = this.partyOf(call);
    const send = () => this.emit('hangup', call.answered ? 'ANSWER' : status, party, flowOf(call), { duration: talkSecondsOf(call) });
    if (this.losingHangups) {
      if (this.lostHangups.length < MAX_LOST_HANGUPS) this.lostHangups.push(async () => void (await send()));
      return;
    }
    await send();
  }

  /** Call Event parameters of a live call, from its owning extension's side. */
  private partyOf(call: SimCall): CallParty {
    const local = (n: string) => this.extensions.has(n);
    if (call.flow === 'out') {
      const to = call.destination;
      return this.party(call.id, call.extension, this.nameOf(call.extension), '', local(to) ? to : '', call.extension, to);
    }
    const from = call.source;
    return this.party(call.id, from, this.nameOf(from), '', call.extension, local(from) ? from : '', call.extension);
  }
}

/** How a played scenario's Call Events are sent, from its options. */
function emitOptionsOf(options: Record<string, unknown>): EmitOptions {
  return {
    scheme: options.scheme as WebhookScheme | undefined,
    eventParam: options.eventParam as boolean | undefined,
    sender: options.sender === undefined ? undefined : senderOf(options.sender),
    duration: options.duration === undefined ? undefined : Number(options.duration),
    extensionHost: options.extensionHost === undefined ? undefined : String(options.extensionHost),
  };
}

/** Seconds a call has talked so far (0 when never answered). */
function talkSecondsOf(call: SimCall): number {
  return call.answeredAtMs === undefined ? 0 : Math.round((Date.now() - call.answeredAtMs) / 1000);
}

/** A sender mode from a scenario option or the command line; anything else is refused. */
export function senderOf(value: unknown): VoipNowEventSender {
  const sender = VOIPNOW_EVENT_SENDERS.find((s) => s === value);
  if (!sender) throw new Error(`sender must be ${VOIPNOW_EVENT_SENDERS.join(' or ')}, not ${String(value)}`);
  return sender;
}

function flowOf(call: SimCall): 'IN' | 'OUT' {
  return call.flow === 'in' ? 'IN' : 'OUT';
}

function fail(status: number, code: string, message: string): SimReply {
  return { status, body: { error: { code, message } } };
}

function page(entry: unknown[], startIndex: number, totalResults: number): Record<string, unknown> {
  return { startIndex, totalResults, itemsPerPage: entry.length, entry };
}

function intOf(v: string | null): number | undefined {
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v) : undefined;
}

function expiry(registration: number): string {
  const offset = registration === -2 ? -3600_000 : 3600_000;
  return new Date(Date.now() + offset).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
