import { randomBytes, randomUUID } from 'node:crypto';
import { lookupTable, ownProperty } from '../core/lookup';
import { CALL_CENTER_SCENARIOS, type CallCenterScenario, type CallCenterStep } from './cloud-callcenter-scenarios';
import { placedCallOutcome } from './call-outcomes';
import { LOST_HANGUP, OUTCOME_SCENARIO_NAMES, missedCallbackScenarios } from './outcome-scenarios';
import { QueueLoadPlayer, type QueueLoadCall, type QueueLoadHost, type QueueLoadLog, type QueueLoadMode } from './queue-load';
import { sleep } from './server';
import type { ProviderSimulator, SimReply, SimRequest } from './types';
import { WebhookSender } from './webhook-sender';

export interface CloudCallCenterSimOptions {
  appId: string;
  appKey: string;
  /** Pause between the callbacks of one call. */
  stepMs?: number;
  /** How long a call placed through the API talks before it hangs up. */
  talkMs?: number;
  /** How long a login token is accepted; the vendor's is 12 h. */
  tokenLifetimeMs?: number;
  /** Text every issued token starts with, so a leak scan can find any of them. */
  tokenPrefix?: string;
  /** How the simulated account answers and calls back; each may be changed at run time (`modes`). */
  modes?: Partial<CloudCallCenterModes>;
}

/** The variants of the vendor's API that real accounts show. Defaults: the newer ones. */
export interface CloudCallCenterModes {
  /**
   * CDR callback format: `recordurl` (newer accounts) or `downloadip` (older accounts: no
   * `recordurl`, the recording as `downloadip` + `recordfilename`, times as date-time text).
   */
  cdr: 'recordurl' | 'downloadip';
  /** CDR JSON as the vendor's published examples print it: one member a line, no commas between. */
  cdrWithoutCommas: boolean;
  /** MakeCall / DoubleCall answer with the call's `uuid` (false: as documented, without it). */
  makeCallUuid: boolean;
}

export const DEFAULT_CALL_CENTER_MODES: Readonly<CloudCallCenterModes> = { cdr: 'recordurl', cdrWithoutCommas: false, makeCallUuid: true };

interface Extension {
  extnumber: string;
  registered: boolean;
  enabled: boolean;
}

/** A call placed through the API, live until it hangs up. */
interface LiveCall {
  uuid: string;
  buuid: string;
  customuuid: string;
  ext: string;
  caller: string;
  callee: string;
  direction: 'callin' | 'callout';
  method: string;
  /** Unix seconds. */
  starttime: number;
  answeredAt?: number;
  state: 'ring' | 'answer';
  timer?: NodeJS.Timeout;
  /** The company number on the call (a load call: the hotline dialled); default DISNUMBER. */
  disnumber?: string;
}

type Fields = Record<string, string>;

const COMPANY = { code: '9024', name: 'Demo Call Center' };
const DISNUMBER = '2190240001';
const EXTENSIONS = ['90240001', '90240002', '90240003', '90240004', '90240005', '90240006', '90240007', '90240008'];
const UNREGISTERED = ['90240007'];
const DISABLED = ['90240008'];
const GROUPS: Record<string, string[]> = {
  sales: ['90240001', '90240002', '90240003'],
  support: ['90240003', '90240004', '90240005', '90240006'],
  night: ['90240007', '90240008'],
};
const QUEUES: Record<string, string[]> = { 'queue-1': ['90240001', '90240002'], 'queue-2': ['90240004'], 'queue-3': [] };
/** Hotline numbers a queue load dials, each answered by a task group's seats (pbx-stats users name the hotline). */
const LOAD_HOTLINES = lookupTable({ '4008009001': 'queue-1', '4008009002': 'queue-2' });

/** The callbacks have no busy signal: a callback to a busy line ends as an unanswered one. */
const CALLBACK_SCENARIOS = missedCallbackScenarios({
  missed: 'inbound-missed',
  answered: 'outbound-answered',
  unanswered: 'outbound-unanswered',
  busy: 'outbound-unanswered',
});

/** Business error codes the simulator answers with (`data.status` 1). */
const ERR = {
  failed: '1003',
  notMine: '1011',
  missing: '1012',
  disabled: '1013',
  unregistered: '1014',
  notInCall: '1015',
} as const;

/** Parameters each service insists on (a missing one is `ret` 400, as PhalApi does). */
const REQUIRED = lookupTable<string[]>({
  'App.Sip_Auth.Login': ['appid', 'accesskey'],
  'App.Sip_Auth.Logout': [],
  'App.Sip_Extgroup.GetGroupExt': [],
  'App.Sip_Queue.GetQueueSipStatus': [],
  'App.Sip_Call.MakeCall': ['extnumber', 'destnumber'],
  'App.Sip_Call.DoubleCall': ['extnumber', 'anumber', 'bnumber'],
  'App.Sip_Call.HangupCall': ['extnumber'],
  'App.Sip_Call.TransferCall': ['anumber', 'destnumber', 'transfertype'],
  'App.Sip_Queue.SipSignIn': ['extnumber', 'queuename'],
  // `crmid` is documented as required too; accepted without it, as the accounts it was seen on do [unverified].
  'App.Sip_Queue.SipSignOut': ['extnumber', 'queuename'],
  'App.Sip_Queue.SetSeatsStatus': ['settype', 'extnumber'],
});

/**
 * The App.Sip_* cloud call center on loopback: multipart form-data POSTs of `service` + `token`
 * to `/callcenter`, PhalApi `{ret, data, msg}` answers, login tokens that expire, in-memory
 * extensions, groups, queues and calls, and the JSON call-status and CDR callbacks.
 */
export class CloudCallCenterSimulator implements ProviderSimulator, QueueLoadHost {
  readonly id = 'cloud-callcenter';
  readonly prefix = '/callcenter';
  readonly sender = new WebhookSender('post');
  /** Successful logins since the last reset: tests assert single-flight login with it. */
  loginCount = 0;
  /** How long new tokens live (ms); may be changed at run time. */
  tokenLifetimeMs: number;
  private readonly tokens = new Map<string, number>();
  private extensions = new Map<string, Extension>();
  /** queue → extension → paused (SetSeatsStatus busy). */
  private seats = new Map<string, Map<string, boolean>>();
  private calls = new Map<string, LiveCall>();
  private readonly stepMs: number;
  private readonly talkMs: number;
  /** Where recordings are served, learnt from the Host of the requests. */
  private origin = 'http://127.0.0.1';
  /** The API variant this account shows (see CloudCallCenterModes). */
  modes: CloudCallCenterModes;
  private readonly queueLoad = new QueueLoadPlayer(this);

  listening(url: string): void {
    this.origin = url;
  }

  constructor(private readonly options: CloudCallCenterSimOptions) {
    this.stepMs = options.stepMs ?? 300;
    this.talkMs = options.talkMs ?? 1500;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 12 * 60 * 60 * 1000;
    this.modes = { ...DEFAULT_CALL_CENTER_MODES, ...options.modes };
    this.reset();
  }

  /** Every token issued so far stops working (the next request gets `ret` 600). */
  invalidateTokens(): void {
    this.tokens.clear();
  }

  reset(): void {
    this.queueLoad.stop();
    for (const call of this.calls.values()) clearTimeout(call.timer);
    this.calls.clear();
    this.tokens.clear();
    this.loginCount = 0;
    this.extensions = new Map(
      EXTENSIONS.map((n) => [n, { extnumber: n, registered: !UNREGISTERED.includes(n), enabled: !DISABLED.includes(n) }]),
    );
    this.seats = new Map(Object.entries(QUEUES).map(([q, members]) => [q, new Map(members.map((m) => [m, false]))]));
  }

  readonly scenarioOptions = {
    extension: 'the extension (default 90240001)',
    extension2: 'the second extension of an extension-to-extension call (default 90240002)',
    caller: 'the external number (default 13800138000)',
    from: 'the first number a double call dials (default 13900139000)',
    customuuid: 'the reference echoed in every callback',
    cdr: 'CDR format: recordurl (newer accounts) or downloadip (older: downloadip + recordfilename)',
    cdrWithoutCommas: 'true: the CDR JSON without commas between its lines, as the vendor prints it',
  };

  placesCall(req: SimRequest): boolean {
    if (req.method !== 'POST') return false;
    const service = parseFormBody(req.rawBody, String(req.headers['content-type'] ?? ''))?.service;
    return service === 'App.Sip_Call.MakeCall' || service === 'App.Sip_Call.DoubleCall';
  }

  /** The PhalApi envelope, `ret` mirrored in the HTTP status as such servers may do. */
  refusal(message: string): SimReply {
    return { status: 409, body: { ret: 409, data: null, msg: message } };
  }

  scenarios(): string[] {
    return [...Object.keys(CALL_CENTER_SCENARIOS), ...OUTCOME_SCENARIO_NAMES];
  }

  state(): unknown {
    return {
      loginCount: this.loginCount,
      tokens: this.tokens.size,
      extensions: [...this.extensions.values()].map((e) => ({ ...e, status: this.extStatusCode(e.extnumber) })),
      queues: Object.fromEntries([...this.seats].map(([q, s]) => [q, [...s].map(([ext, paused]) => ({ extnumber: ext, paused }))])),
      calls: [...this.calls.values()].map(({ timer: _t, ...c }) => c),
    };
  }

  handle(req: SimRequest): SimReply {
    const rest = req.url.pathname.slice(this.prefix.length);
    if (req.method === 'GET' && rest.startsWith('/record/'))
      return { status: 200, body: 'ID3-simulated-audio', headers: { 'Content-Type': 'audio/mpeg' } };
    if (rest !== '' && rest !== '/') return { status: 404, body: 'Not Found' };
    if (req.method !== 'POST') return { status: 405, body: 'Method Not Allowed', headers: { Allow: 'POST' } };
    const fields = parseFormBody(req.rawBody, String(req.headers['content-type'] ?? ''));
    if (!fields) return envelope(400, null, 'expected a multipart/form-data body');
    return this.service(fields);
  }

  private service(f: Fields): SimReply {
    const service = f.service ?? '';
    if (!service) return envelope(400, null, 'missing parameter: service');
    const required = REQUIRED.get(service);
    if (!required) return envelope(400, null, `service ${service} does not exist`);
    const missing = required.find((name) => !f[name]);
    if (missing) return envelope(400, null, `missing parameter: ${missing}`);
    if (service === 'App.Sip_Auth.Login') return this.login(f);
    if (!this.tokenValid(f.token)) return envelope(600, null, 'token is invalid or expired, log in again');
    switch (service) {
      case 'App.Sip_Auth.Logout':
        this.tokens.delete(f.token);
        return ok(null, 'logout success');
      case 'App.Sip_Extgroup.GetGroupExt':
        return this.groupExt(f);
      case 'App.Sip_Queue.GetQueueSipStatus':
        return this.queueStatus(f);
      case 'App.Sip_Call.MakeCall':
        return this.makeCall(f);
      case 'App.Sip_Call.DoubleCall':
        return this.doubleCall(f);
      case 'App.Sip_Call.HangupCall':
        return this.hangupCall(f);
      case 'App.Sip_Call.TransferCall':
        return this.transferCall(f);
      case 'App.Sip_Queue.SipSignIn':
      case 'App.Sip_Queue.SipSignOut':
        return this.signInOut(f, service === 'App.Sip_Queue.SipSignIn');
      case 'App.Sip_Queue.SetSeatsStatus':
        return this.setSeatsStatus(f);
      default:
        return envelope(400, null, `service ${service} does not exist`);
    }
  }

  // --- auth ---------------------------------------------------------------------------------

  private login(f: Fields): SimReply {
    if (f.appid !== this.options.appId || f.accesskey !== this.options.appKey) {
      return envelope(601, null, 'appid is not authorized');
    }
    const token = (this.options.tokenPrefix ?? '') + randomBytes(24).toString('hex');
    this.tokens.set(token, Date.now() + this.tokenLifetimeMs);
    this.loginCount++;
    return ok(
      { companycode: COMPANY.code, companyname: COMPANY.name, token, authtime: String(unixNow()), authmodel: '1' },
      'login success',
    );
  }

  private tokenValid(token: string | undefined): boolean {
    const expires = token ? this.tokens.get(token) : undefined;
    if (expires === undefined) return false;
    if (Date.now() >= expires) {
      this.tokens.delete(token!);
      return false;
    }
    return true;
  }

  // --- status -------------------------------------------------------------------------------

  /** The documented GetGroupExt answer: `data` is a plain array, one row per group and extension. */
  private groupExt(f: Fields): SimReply {
    if (f.extnumber) {
      const missing = this.checkExtension(f.extnumber, false);
      if (missing) return missing;
    }
    const rows: unknown[] = [];
    for (const [name, members] of Object.entries(GROUPS)) {
      if (f.name && f.name !== name) continue;
      members.forEach((ext, i) => {
        if (f.extnumber && f.extnumber !== ext) return;
        const call = this.callOf(ext);
        rows.push({
          name,
          extnumber: ext,
          status: call?.state === 'answer' ? 'answer' : 'hangup',
          priority: i + 1,
          linkcount: call?.answeredAt ? Math.round((Date.now() - call.answeredAt) / 1000) : 0,
          date: call ? dateTime(call.starttime * 1000) : null,
          state: call ? 'busy' : 'idle',
        });
      });
    }
    return envelope(200, rows, '');
  }

  /** The documented GetQueueSipStatus answer: `data.result`, one row per signed-in seat. */
  private queueStatus(f: Fields): SimReply {
    const wanted = Number(f.state ?? 0);
    const rows: unknown[] = [];
    for (const [queue, seats] of this.seats) {
      if (f.queuename && f.queuename !== queue) continue;
      for (const [ext, paused] of seats) {
        if (f.extnumber && f.extnumber !== ext) continue;
        const status = this.extStatusCode(ext);
        const state = paused ? 1217 : status === 1202 ? 1214 : status === 1204 ? 1215 : 1213;
        const filter: Record<number, boolean> = { 1: status === 1201, 2: state === 1213, 3: state === 1214, 4: state === 1215 };
        if (wanted && !filter[wanted]) continue;
        rows.push({
          queuename: queue,
          seatsname: `${ext}_${ext}_${queue}`,
          extnumber: ext,
          status,
          state,
          lastanswertime: '',
          lastassigntime: '',
          seatschangetime: '',
          noanswercount: 0,
          callsanswered: 0,
          externalcallscount: 0,
          wrapuptime: 0,
          maxnoanswer: 0,
        });
      }
    }
    const now = unixNow();
    return envelope(200, { status: 0, desc: 'get success', result: rows, reqtime: now, rsptime: now }, '');
  }

  // --- call control -------------------------------------------------------------------------

  private makeCall(f: Fields): SimReply {
    const refused =
      this.checkExtension(f.extnumber, true) ?? (this.callOf(f.extnumber) ? business(ERR.failed, 'extension is busy') : undefined);
    if (refused) return refused;
    const call = this.newCall(f.extnumber, f.extnumber, f.destnumber, 'callout', '3', f.customuuid ?? '');
    setTimeout(() => void this.runApiCall(call, false), 0).unref();
    return this.callPlaced(call);
  }

  /** The answer to a call placed: with the call's uuid, or as the vendor documents it, without. */
  private callPlaced(call: LiveCall): SimReply {
    if (this.modes.makeCallUuid) return ok({ uuid: call.uuid, customuuid: call.customuuid }, 'call success');
    const now = unixNow();
    return envelope(200, { status: 0, desc: 'Call command sent successfully', reqtime: now, rsptime: now }, '');
  }

  private doubleCall(f: Fields): SimReply {
    const refused =
      this.checkExtension(f.extnumber, false) ?? (this.callOf(f.extnumber) ? business(ERR.failed, 'extension is busy') : undefined);
    if (refused) return refused;
    const call = this.newCall(f.extnumber, f.anumber, f.bnumber, 'callout', '4', f.customuuid ?? '');
    setTimeout(() => void this.runApiCall(call, true), 0).unref();
    return this.callPlaced(call);
  }

  private hangupCall(f: Fields): SimReply {
    const refused = this.checkExtension(f.extnumber, false);
    if (refused) return refused;
    const call = this.callOf(f.extnumber);
    if (!call) return business(ERR.notInCall, 'extension is not in a call');
    void this.endCall(call);
    return ok(null, 'hangup success');
  }

  private transferCall(f: Fields): SimReply {
    const refused = this.checkExtension(f.anumber, false);
    if (refused) return refused;
    const call = this.callOf(f.anumber);
    if (!call || call.state !== 'answer') return business(ERR.notInCall, 'extension is not in a call');
    let target: string | undefined;
    if (f.transfertype === '1') {
      const missing = this.checkExtension(f.destnumber, true);
      if (missing) return missing;
      target = f.destnumber;
    } else if (f.transfertype === '2') {
      const seats = this.seats.get(f.destnumber);
      if (!seats) return business(ERR.failed, `task group ${f.destnumber} does not exist`);
      target = [...seats].find(([ext, paused]) => !paused && !this.callOf(ext))?.[0];
      if (!target) return business(ERR.failed, `no free seat in task group ${f.destnumber}`);
    } else {
      return envelope(400, null, 'transfertype must be 1 or 2');
    }
    if (this.callOf(target)) return business(ERR.failed, 'transfer target is busy');
    void this.transfer(call, target);
    return ok(null, 'transfer success');
  }

  private signInOut(f: Fields, signIn: boolean): SimReply {
    if (!signIn && f.crmid !== undefined && !/^\d+$/.test(f.crmid)) return envelope(400, null, 'crmid must be an integer');
    const refused = this.checkExtension(f.extnumber, false);
    if (refused) return refused;
    const seats = this.seats.get(f.queuename);
    if (!seats) return business(ERR.failed, `task group ${f.queuename} does not exist`);
    if (signIn) {
      if (!seats.has(f.extnumber)) seats.set(f.extnumber, false);
    } else {
      seats.delete(f.extnumber);
    }
    return ok(null, signIn ? 'sign in success' : 'sign out success');
  }

  private setSeatsStatus(f: Fields): SimReply {
    if (f.settype !== '1' && f.settype !== '2') return envelope(400, null, 'settype must be 1 or 2');
    const refused = this.checkExtension(f.extnumber, false);
    if (refused) return refused;
    const queues = f.queuename ? [f.queuename] : [...this.seats.keys()].filter((q) => this.seats.get(q)!.has(f.extnumber));
    if (f.queuename && !this.seats.has(f.queuename)) return business(ERR.failed, `task group ${f.queuename} does not exist`);
    const signedIn = queues.filter((q) => this.seats.get(q)!.has(f.extnumber));
    if (!signedIn.length) return business(ERR.failed, 'the seat is not signed in');
    for (const q of signedIn) this.seats.get(q)!.set(f.extnumber, f.settype === '1');
    return ok(null, 'set success');
  }

  /** A business error when the extension is unknown, or (for calls) disabled or unregistered. */
  private checkExtension(ext: string, placingCall: boolean): SimReply | undefined {
    const e = this.extensions.get(ext);
    if (!e)
      return /^9024/.test(ext)
        ? business(ERR.missing, `extension ${ext} does not exist`)
        : business(ERR.notMine, `extension ${ext} is not yours`);
    if (!placingCall) return undefined;
    if (!e.enabled) return business(ERR.disabled, `extension ${ext} is disabled`);
    if (!e.registered) return business(ERR.unregistered, `extension ${ext} is not registered`);
    return undefined;
  }

  // --- live calls ---------------------------------------------------------------------------

  private newCall(
    ext: string,
    caller: string,
    callee: string,
    direction: LiveCall['direction'],
    method: string,
    customuuid: string,
  ): LiveCall {
    const call: LiveCall = {
      uuid: randomUUID(),
      buuid: randomUUID(),
      customuuid,
      ext,
      caller,
      callee,
      direction,
      method,
      starttime: unixNow(),
      state: 'ring',
    };
    this.calls.set(call.uuid, call);
    return call;
  }

  /**
   * MakeCall: ring → answer → (talk) → hangup → CDR. The destination's number chooses how it ends
   * (call-outcomes.ts): no answer ends after ringing, busy at once; the callbacks have no busy signal.
   */
  private async runApiCall(call: LiveCall, doubleCall: boolean): Promise<void> {
    await this.sendStatus(call, 'ring', call.ext, false);
    const outcome = placedCallOutcome(call.callee);
    // A double call's first side answers, then the destination (b side) rings: busy or unanswered there.
    if (outcome === 'busy' && !doubleCall) return this.endCall(call);
    await sleep(this.stepMs);
    if (!this.calls.has(call.uuid)) return;
    if (outcome === 'no-answer' && !doubleCall) return this.endCall(call);
    if (doubleCall) {
      await this.sendStatus(call, 'answer', call.ext, false);
      await sleep(this.stepMs);
      if (!this.calls.has(call.uuid)) return;
      await this.sendStatus(call, 'ring', call.ext, true);
      if (outcome === 'busy') return this.endCall(call);
      await sleep(this.stepMs);
      if (!this.calls.has(call.uuid)) return;
      if (outcome === 'no-answer') return this.endCall(call);
    }
    call.state = 'answer';
    call.answeredAt = Date.now();
    await this.sendStatus(call, 'answer', call.ext, doubleCall);
    this.armHangup(call);
  }

  private async transfer(call: LiveCall, target: string): Promise<void> {
    clearTimeout(call.timer);
    call.ext = target;
    await this.sendStatus(call, 'ring', target, false);
    await sleep(this.stepMs);
    if (!this.calls.has(call.uuid)) return;
    await this.sendStatus(call, 'answer', target, false);
    this.armHangup(call);
  }

  private armHangup(call: LiveCall): void {
    clearTimeout(call.timer);
    call.timer = setTimeout(() => void this.endCall(call), this.talkMs);
    call.timer.unref();
  }

  private async endCall(call: LiveCall): Promise<void> {
    if (!this.calls.delete(call.uuid)) return;
    clearTimeout(call.timer);
    await this.sendStatus(call, 'hangup', call.ext, call.method === '4' && call.state === 'answer');
    const end = Date.now();
    const billsec = call.answeredAt ? Math.max(1, Math.round((end - call.answeredAt) / 1000)) : 0;
    await sleep(this.stepMs);
    await this.sendCdr(call, billsec, call.answeredAt ? Math.round(call.answeredAt / 1000) : 0, Math.round(end / 1000));
  }

  private sendStatus(call: LiveCall, status: 'ring' | 'answer' | 'hangup', ext: string, bleg: boolean): Promise<number> {
    return this.sender.send({
      buuid: call.buuid,
      callee: call.callee,
      caller: call.caller,
      companycode: COMPANY.code,
      customuuid: call.customuuid,
      direction: call.direction,
      disnumber: call.disnumber ?? DISNUMBER,
      extnumber: ext,
      isbleg: String(bleg),
      method: call.method,
      starttime: String(call.starttime),
      status,
      type: 'call',
      uuid: call.uuid,
    });
  }

  private sendCdr(
    call: LiveCall,
    billsec: number,
    answertime: number,
    endtime: number,
    modes: CloudCallCenterModes = this.modes,
  ): Promise<number> {
    const fields =
      modes.cdr === 'downloadip' ? this.olderCdr(call, billsec, answertime, endtime) : this.newerCdr(call, billsec, answertime, endtime);
    if (!modes.cdrWithoutCommas) return this.sender.send(fields);
    return this.sender.sendRaw('POST', '', jsonWithoutCommas(fields), 'application/json');
  }

  private newerCdr(call: LiveCall, billsec: number, answertime: number, endtime: number): Record<string, unknown> {
    const recorded = billsec > 0;
    return {
      uuid: call.uuid,
      customuuid: call.customuuid,
      callmethod: call.method,
      starttime: String(call.starttime),
      answertime: String(answertime),
      endtime: String(endtime),
      duration: String(Math.max(0, endtime - call.starttime)),
      billsec: String(billsec),
      hangupdirection: call.direction === 'callin' ? '1' : '2',
      hangupcause: recorded ? '10001' : '10016',
      disnumber: call.disnumber ?? DISNUMBER,
      destnumber: call.callee,
      recordurl: recorded ? `${this.origin}${this.prefix}/record/${call.uuid}.mp3` : '',
      recordfilename: recorded ? `${call.uuid}.mp3` : '',
    };
  }

  /**
   * The older CDR of the vendor's English example: no `recordurl`; a recorded call names its file
   * (`recordfilename`) and the host to fetch it from (`downloadip`); times as date-time text. The
   * host carries the simulator's port and the file name its path, so that the URL the package builds
   * from them, `http://{downloadip}/{recordfilename}`, is served here.
   */
  private olderCdr(call: LiveCall, billsec: number, answertime: number, endtime: number): Record<string, unknown> {
    const recorded = billsec > 0;
    return {
      callmethod: Number(call.method),
      starttime: dateTime(call.starttime * 1000),
      answertime: answertime ? dateTime(answertime * 1000) : '',
      endtime: dateTime(endtime * 1000),
      duration: Math.max(0, endtime - call.starttime),
      billsec,
      hangupdirection: 10015,
      hangupcause: recorded ? 10001 : 10016,
      disnumber: call.disnumber ?? DISNUMBER,
      destnumber: call.callee,
      downloadip: new URL(this.origin).host,
      recordfilename: recorded ? `${this.prefix.slice(1)}/record/${call.uuid}.mp3` : '',
      companycode: Number(COMPANY.code),
      type: call.direction,
      extnumber: call.ext,
      uuid: call.uuid,
      customuuid: call.customuuid,
    };
  }

  // --- scenarios ----------------------------------------------------------------------------

  /**
   * Plays a scenario's callbacks with a fresh uuid. Options: `extension` (default 90240001),
   * `extension2` (default 90240002), `caller` (external number), `destination`, `customuuid`.
   */
  async play(name: string, options: Record<string, unknown> = {}): Promise<{ callId: string }> {
    if (name === LOST_HANGUP) return this.playLostHangup(options);
    const composite = ownProperty(CALLBACK_SCENARIOS, name);
    if (composite) {
      let last = { callId: '' };
      for (const part of composite.parts) last = await this.play(part, options);
      return last;
    }
    const scenario = ownProperty(CALL_CENTER_SCENARIOS, name);
    if (!scenario) throw new Error(`unknown scenario ${name}`);
    const ext = String(options.extension ?? '90240001');
    const ext2 = String(options.extension2 ?? '90240002');
    const external = String(options.caller ?? options.destination ?? '13800138000');
    const [caller, callee] = partiesOf(scenario, ext, ext2, external, String(options.from ?? '13900139000'));
    const call = this.newCall(ext, caller, callee, scenario.steps[0].direction, scenario.method, String(options.customuuid ?? ''));
    this.calls.delete(call.uuid); // a scenario is callbacks only, not a live call
    for (const s of scenario.steps) {
      await this.sendStep(call, s, s.on === 'ext' ? ext : ext2);
      if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    }
    const answertime = scenario.billsec ? call.starttime + 5 : 0;
    const modes: CloudCallCenterModes = { ...this.modes };
    if (options.cdr === 'recordurl' || options.cdr === 'downloadip') modes.cdr = options.cdr;
    if (options.cdrWithoutCommas !== undefined)
      modes.cdrWithoutCommas = options.cdrWithoutCommas === true || options.cdrWithoutCommas === 'true';
    await this.sendCdr(call, scenario.billsec, answertime, (answertime || call.starttime + 20) + scenario.billsec, modes);
    return { callId: call.uuid };
  }

  /**
   * An inbound call, live while it rings and is answered on the extension, that then ends without
   * its hangup and CDR callbacks: lost deliveries.
   */
  private async playLostHangup(options: Record<string, unknown>): Promise<{ callId: string }> {
    const ext = String(options.extension ?? '90240001');
    const caller = String(options.caller ?? '13800138000');
    const call = this.newCall(ext, caller, ext, 'callin', '6', String(options.customuuid ?? ''));
    await this.sendStatus(call, 'ring', ext, false);
    if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    Object.assign(call, { state: 'answer', answeredAt: Date.now() });
    await this.sendStatus(call, 'answer', ext, false);
    if (this.stepMs) await sleep(Math.min(this.stepMs, 50));
    this.calls.delete(call.uuid);
    return { callId: call.uuid };
  }

  private sendStep(call: LiveCall, step: CallCenterStep, ext: string): Promise<number> {
    call.direction = step.direction;
    return this.sendStatus(call, step.status, ext, step.bleg === true);
  }

  // --- queue load (queue-load.ts) ----------------------------------------------------------

  /** Plays a queue load (QUEUE_LOAD_OPTIONS); resolves with its log once every call has ended. */
  playQueueLoad(options: Record<string, unknown> = {}, mode?: QueueLoadMode): Promise<QueueLoadLog> {
    return this.queueLoad.play(options, mode);
  }

  stopQueueLoad(): void {
    this.queueLoad.stop();
  }

  readonly loadQueues = [...LOAD_HOTLINES.keys()];

  readonly loadTransfersUnsupported = "the call center's callbacks name no queue, so a move between queues cannot be shown";

  /** The task group's seats signed in and not paused, else its members. */
  loadAgents(hotline: string): readonly string[] {
    const group = LOAD_HOTLINES.get(hotline) ?? '';
    const seats = [...(this.seats.get(group) ?? [])].filter(([, paused]) => !paused).map(([ext]) => ext);
    return seats.length ? seats : (ownProperty(QUEUES, group) ?? []);
  }

  /** The seat's ring is the call entering the queue: the wait is all ringing. */
  readonly loadRingMs = 0;

  /**
   * A load call as the callbacks show one: an inbound call (`callin`, method 6) to the hotline
   * (`disnumber`) rings at a seat (the call enters the queue: pbx-stats matches the hotline), is
   * answered there, hangs up, then its CDR follows (with a recording when answered). A caller who
   * gives up: ring, hangup, CDR.
   */
  startLoadCall(index: number): QueueLoadCall {
    const call = this.newCall('', `1380013${String(8000 + (index % 2000)).padStart(4, '0')}`, '', 'callin', '6', '');
    this.calls.delete(call.uuid); // the simulator's live calls are those of its API; a load keeps its own
    const stamped = async (status: 'ring' | 'answer' | 'hangup') => {
      const at = Date.now();
      await this.sendStatus(call, status, call.ext, false);
      return at;
    };
    return {
      callId: call.uuid,
      enter: (hotline, agent) => {
        Object.assign(call, { ext: agent, callee: agent, disnumber: hotline, starttime: unixNow() });
        return stamped('ring');
      },
      ringAgent: async () => undefined,
      answer: async () => {
        call.state = 'answer';
        call.answeredAt = Date.now();
        return stamped('answer');
      },
      hangUp: async () => {
        const at = await stamped('hangup');
        const end = Date.now();
        const billsec = call.answeredAt ? Math.max(1, Math.round((end - call.answeredAt) / 1000)) : 0;
        await sleep(this.stepMs);
        await this.sendCdr(call, billsec, call.answeredAt ? Math.round(call.answeredAt / 1000) : 0, Math.round(end / 1000));
        return at;
      },
    };
  }

  // --- helpers ------------------------------------------------------------------------------

  private callOf(ext: string): LiveCall | undefined {
    return [...this.calls.values()].find((c) => c.ext === ext);
  }

  /** Numeric extension status: 1201 idle, 1202 ringing, 1204 in a call. */
  private extStatusCode(ext: string): number {
    const call = this.callOf(ext);
    if (!call) return this.queueLoad.isBusy(ext) ? 1204 : 1201;
    return call.state === 'answer' ? 1204 : 1202;
  }
}

function partiesOf(s: CallCenterScenario, ext: string, ext2: string, external: string, from: string): [string, string] {
  switch (s.parties) {
    case 'inbound':
      return [external, ext];
    case 'outbound':
      return [ext, external];
    case 'doublecall':
      return [from, external];
    case 'internal':
      return [ext, ext2];
  }
}

function envelope(ret: number, data: unknown, msg: string): SimReply {
  return { status: 200, body: { ret, data, msg } };
}

function ok(result: unknown, desc: string): SimReply {
  return envelope(200, { status: 0, desc, result }, '');
}

function business(code: string, codemsg: string): SimReply {
  return envelope(200, { status: 1, desc: 'failed', errors: { code: Number(code), codemsg } }, '');
}

/** Multipart form-data (what the API takes) or, tolerated, form-urlencoded. */
export function parseFormBody(body: Buffer, contentType: string): Fields | undefined {
  const type = contentType.toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  if (!type.includes('multipart/form-data')) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) return undefined;
  const delimiter = `--${m[1] ?? m[2]}`;
  // Entries, not assignments: a field named `__proto__` stays a field; the first of a name counts.
  const entries = new Map<string, string>();
  const parts = body.toString('utf8').split(delimiter);
  for (const part of parts.slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(part.slice(0, split))?.[1];
    let value = part.slice(split + 4);
    if (value.endsWith('\r\n')) value = value.slice(0, -2);
    if (name !== undefined && !entries.has(name)) entries.set(name, value);
  }
  return Object.fromEntries(entries);
}

/** JSON of a flat object, one member a line and no commas between them, as the vendor's CDR examples print it. */
export function jsonWithoutCommas(fields: Record<string, unknown>): string {
  const lines = Object.entries(fields).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join('\n')}\n}`;
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** "YYYY-MM-DD HH:MM:SS" in local time, the way the service shows dates. */
function dateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
