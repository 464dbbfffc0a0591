import { PbxError } from '../../core/errors';
import { isRecord, recordOf, stringOf } from '../../core/fields';
import { pathParam } from '../../core/http';
import { op, type ProviderAdapter, type ProviderContext } from '../../core/provider';
import type { ActionResult, OperationName, OperationSpec, Params } from '../../core/types';
import { expectAnswer, SELF, UapiClient, uapiPath } from './api';
import { callInProgress, idsOf, isPhoneCallAnswer, phoneCallOf, phoneCallsOf } from './calls';
import { entriesOf, isCollection, presenceOf, readAllPages } from './presence';

/** SPEC section 6, voipnow column. Everything else is answered `unsupported` by the core. */
export const OPERATIONS: readonly OperationSpec[] = [
  op('makecall', 'call', ['extension', 'destination']),
  op('drop', 'call', ['extension'], ['callId']),
  op('transfer', 'call', ['extension', 'destination'], ['callId']),
  op('extension-state', 'status', ['extension']),
  op('extensions', 'status', []),
  op('active-calls', 'status', []),
  // Queue agents are set per queue: VoipNow has no "all queues" call, so the queue is required.
  op('login', 'queue', ['extension', 'queue']),
  op('logout', 'queue', ['extension', 'queue']),
  op('set-status', 'queue', ['extension', 'queue', 'status']),
];

/** Queue agent `status` [unverified, from 4PSA client code]: 0 logged out, 1 online, 2 paused. */
const AGENT_STATUS = { loggedOut: 0, online: 1, paused: 2 } as const;

type Json = Record<string, unknown>;

/** One VoipNow account: the UnifiedAPI under `{baseUrl}/uapi`, as the authenticated user (`@me`). */
export class VoipNowAdapter implements ProviderAdapter {
  readonly api: UapiClient;

  constructor(private readonly ctx: ProviderContext) {
    this.api = new UapiClient(ctx);
  }

  async request(operation: OperationName, p: Params): Promise<ActionResult> {
    const ext = p.extension ?? '';
    switch (operation) {
      case 'makecall':
        return this.makecall(ext, p.destination ?? '');
      case 'drop':
        return this.drop(ext, p.callId);
      case 'transfer':
        return this.transfer(ext, p.destination ?? '', p.callId);
      case 'extension-state':
        return this.extensionState(ext);
      case 'extensions':
        return this.extensions();
      case 'active-calls': {
        const res = await this.read(operation, uapiPath('phoneCalls', SELF));
        expectAnswer(operation, res, isPhoneCallAnswer, 'a list of PhoneCalls');
        return { payload: res.status === 204 ? [] : phoneCallsOf(res.data), raw: res.status === 204 ? [] : res.data };
      }
      case 'login':
      case 'logout':
        return this.setAgent(operation, ext, p.queue ?? '', operation === 'login' ? AGENT_STATUS.online : AGENT_STATUS.loggedOut);
      case 'set-status': {
        const status = (p.status ?? '').trim().toLowerCase();
        if (status !== 'available' && status !== 'away') throw new PbxError('invalid_input', 'status must be "available" or "away"');
        return this.setAgent(operation, ext, p.queue ?? '', status === 'available' ? AGENT_STATUS.online : AGENT_STATUS.paused, status);
      }
      default:
        throw new PbxError('unsupported', `${operation} is not supported by 4PSA VoipNow`);
    }
  }

  /** A token and the first presence entry: proves base URL, credentials and API access. */
  async testConnection(): Promise<string> {
    const res = await this.read('test', uapiPath('extensions', SELF, 'presence'), { count: 1, startIndex: 0 });
    expectAnswer('test', res, isCollection, 'a presence collection (entry, totalResults)');
    if (res.status === 204) return 'connected, 0 extensions';
    const total = Number(recordOf(res.data).totalResults);
    return `connected, ${Number.isFinite(total) ? total : entriesOf(res.data).length} extensions`;
  }

  close(): void {
    this.api.tokens.clear();
  }

  /** `POST /uapi/phoneCalls/@me/simple`; the answer lists the PhoneCall(s) created. */
  private async makecall(extension: string, destination: string): Promise<ActionResult> {
    const res = await this.api.send({
      method: 'POST',
      path: uapiPath('phoneCalls', 'simple'),
      body: { extension, phoneCallView: [{ source: [extension], destination: [destination] }] },
      operation: 'makecall',
      stateChanging: true,
    });
    expectAnswer('makecall', res, isPhoneCallAnswer, 'the PhoneCall created');
    const created = entriesOf(res.data);
    const first = created.length ? phoneCallOf(created[0]) : isRecord(res.data) ? phoneCallOf(res.data) : undefined;
    const payload: Json = { ok: true, operation: 'makecall', extension, destination };
    if (first?.callId) payload.callId = first.callId;
    return { payload, raw: res.data };
  }

  /**
   * `DELETE /uapi/phoneCalls/@me/{ext}[/{id}]`: without an id every call of the extension is
   * hung up. A 204 means there was nothing to hang up; that is still `ok: true` (the wanted end
   * state holds: a flow hanging up a caller who already left is not an error), with
   * `dropped: 0`. Otherwise `dropped` counts the ids the PBX lists (at least 1).
   */
  private async drop(extension: string, callId: string | undefined): Promise<ActionResult> {
    const ext = pathParam('extension', extension);
    const path = callId ? uapiPath('phoneCalls', ext, pathParam('callId', callId)) : uapiPath('phoneCalls', ext);
    const res = await this.api.send({ method: 'DELETE', path, operation: 'drop', stateChanging: true });
    expectAnswer('drop', res, isPhoneCallAnswer, 'the ids of the calls hung up');
    const ids = res.status === 204 ? [] : idsOf(res.data);
    const payload: Json = { ok: true, operation: 'drop', extension };
    if (callId) payload.callId = callId;
    payload.dropped = res.status === 204 ? 0 : Math.max(ids.length, 1);
    if (ids.length) payload.callIds = ids;
    return { payload, raw: res.status === 204 ? null : res.data };
  }

  /**
   * `PUT /uapi/phoneCalls/@me/{ext}/{id}` with action `Transfer`. The provider notes name two
   * fields for the target, `sendCallTo` and `transferNumber`, without saying which one a given
   * PBX version reads; both carry the destination, so either reading sends the call there.
   * Without a call id, the extension's calls are read first (a status read, retried) and the
   * one in conversation is transferred; none → `not_found`.
   */
  private async transfer(extension: string, destination: string, callId: string | undefined): Promise<ActionResult> {
    let id = callId;
    if (!id) {
      const res = await this.read('transfer', uapiPath('phoneCalls', pathParam('extension', extension)));
      expectAnswer('transfer', res, isPhoneCallAnswer, 'a list of PhoneCalls');
      const active = res.status === 204 ? undefined : callInProgress(phoneCallsOf(res.data));
      if (!active?.callId) throw new PbxError('not_found', `transfer: extension ${extension} has no call in progress`);
      id = active.callId;
    }
    const res = await this.api.send({
      method: 'PUT',
      path: uapiPath('phoneCalls', pathParam('extension', extension), pathParam('callId', id)),
      body: { action: 'Transfer', sendCallTo: destination, transferNumber: destination },
      operation: 'transfer',
      stateChanging: true,
    });
    expectAnswer('transfer', res, isPhoneCallAnswer, 'the PhoneCall transferred');
    return { payload: { ok: true, operation: 'transfer', extension, destination, callId: id }, raw: res.status === 204 ? null : res.data };
  }

  private async extensionState(extension: string): Promise<ActionResult> {
    const res = await this.read('extension-state', uapiPath('extensions', pathParam('extension', extension), 'presence'));
    expectAnswer('extension-state', res, isCollection, 'a presence collection (entry, totalResults)');
    const entries = res.status === 204 ? [] : entriesOf(res.data);
    const entry = entries.find((e) => stringOf(recordOf(e).extension) === extension) ?? entries[0];
    if (!entry) throw new PbxError('not_found', `extension-state: VoipNow has no presence for extension ${extension}`);
    const state = presenceOf(entry);
    if (!state.extension) state.extension = extension;
    return { payload: state, raw: res.data };
  }

  /** Every extension of the user, all pages (`pbx-status` watch polls this). */
  private async extensions(): Promise<ActionResult> {
    const listing = await readAllPages(async (startIndex, count) => {
      const res = await this.read('extensions', uapiPath('extensions', SELF, 'presence'), { count, startIndex });
      expectAnswer('extensions', res, isCollection, 'a presence collection (entry, totalResults)');
      return { status: res.status, data: res.data };
    });
    if (listing.truncated) {
      this.ctx.log.warn(`extensions: VoipNow presence listing stopped after ${listing.entries.length} extensions (paging limit)`);
    }
    return { payload: listing.entries.map(presenceOf), raw: listing.pages };
  }

  /** `PUT /uapi/extensions/@me/{queue}/queue/agents/{agent}` `{status}` [unverified]. */
  private async setAgent(operation: OperationName, extension: string, queue: string, status: number, word?: string): Promise<ActionResult> {
    const res = await this.api.send({
      method: 'PUT',
      path: uapiPath('extensions', pathParam('queue', queue), 'queue', 'agents', pathParam('extension', extension)),
      body: { status },
      operation,
      stateChanging: true,
    });
    const payload: Json = { ok: true, operation, extension, queue };
    if (word) payload.status = word;
    return { payload, raw: res.status === 204 ? null : res.data };
  }

  /** A status read: retried on transient failures; 204 comes back as a status, not an error. */
  private read(operation: string, path: string, query?: Record<string, string | number>) {
    return this.api.send({ method: 'GET', path, query, operation, stateChanging: false });
  }
}
