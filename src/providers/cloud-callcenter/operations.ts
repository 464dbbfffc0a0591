import { PbxError } from '../../core/errors';
import { isRecord, stringOf } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import { op, type ProviderAdapter, type ProviderContext } from '../../core/provider';
import type { ActionResult, OperationName, OperationSpec, Params } from '../../core/types';
import { CallCenterApi, rowsOf } from './api';
import { extensionStatesOf, queueAgentsOf } from './results';

/**
 * What this call center supports (SPEC section 6). Anything absent is `unsupported` by the core.
 * Call and queue operations change state (never retried); status queries retry transient failures.
 */
export const OPERATIONS: readonly OperationSpec[] = [
  op('makecall', 'call', ['extension', 'destination'], ['reference']), // App.Sip_Call.MakeCall
  // The service hangs up whatever call the extension is in: it takes no call id.
  op('drop', 'call', ['extension']), // App.Sip_Call.HangupCall [unverified]
  op('transfer', 'call', ['extension', 'destination']), // App.Sip_Call.TransferCall [unverified]
  op('doublecall', 'call', ['extension', 'from', 'destination'], ['reference']), // App.Sip_Call.DoubleCall
  op('extension-state', 'status', ['extension']), // App.Sip_Extgroup.GetGroupExt
  op('extensions', 'status', []), // App.Sip_Extgroup.GetGroupExt
  op('queue-agents', 'status', ['queue']), // App.Sip_Queue.GetQueueSipStatus
  op('login', 'queue', ['extension', 'queue']), // App.Sip_Queue.SipSignIn [unverified]
  // The vendor documents `crmid` (the agent's employee seat number) as required by SipSignOut;
  // optional here, so accounts that sign out without it keep working.
  op('logout', 'queue', ['extension', 'queue'], ['agentId']), // App.Sip_Queue.SipSignOut
  op('set-status', 'queue', ['extension', 'status'], ['queue']), // App.Sip_Queue.SetSeatsStatus
];

/** SetSeatsStatus `settype`: 1 busy (agent paused), 2 idle (agent takes calls). */
const SEAT_STATUS = lookupTable({ available: '2', away: '1' });

/** TransferCall `transfertype`: 1 to an extension, 2 to a queue. */
export function transferTypeOf(destination: string): '1' | '2' {
  // Extensions and phone numbers are dialable digits; queues (task groups) are named, e.g.
  // "queue-1". A destination that is not a dialable number can only be a queue.
  return /^\+?[\d*#]+$/.test(destination) ? '1' : '2';
}

type Json = Record<string, unknown>;

/** One call-center account. */
export class CloudCallCenterAdapter implements ProviderAdapter {
  readonly api: CallCenterApi;

  constructor(ctx: ProviderContext) {
    this.api = new CallCenterApi(ctx);
  }

  async request(operation: OperationName, p: Params): Promise<ActionResult> {
    const ext = p.extension ?? '';
    switch (operation) {
      case 'makecall': {
        const { data, body } = await this.change(operation, 'App.Sip_Call.MakeCall', {
          extnumber: ext,
          destnumber: p.destination,
          customuuid: p.reference,
        });
        return {
          payload: withCallId({ ok: true, operation, extension: ext, destination: p.destination, reference: p.reference }, data),
          raw: body,
        };
      }
      case 'doublecall': {
        const { data, body } = await this.change(operation, 'App.Sip_Call.DoubleCall', {
          extnumber: ext,
          anumber: p.from,
          bnumber: p.destination,
          customuuid: p.reference,
        });
        return {
          payload: withCallId(
            { ok: true, operation, extension: ext, from: p.from, destination: p.destination, reference: p.reference },
            data,
          ),
          raw: body,
        };
      }
      case 'drop': {
        const { body } = await this.change(operation, 'App.Sip_Call.HangupCall', { extnumber: ext });
        return { payload: { ok: true, operation, extension: ext }, raw: body };
      }
      case 'transfer': {
        const destination = p.destination ?? '';
        const { body } = await this.change(operation, 'App.Sip_Call.TransferCall', {
          anumber: ext,
          destnumber: destination,
          transfertype: transferTypeOf(destination),
        });
        return { payload: { ok: true, operation, extension: ext, destination }, raw: body };
      }
      case 'extension-state': {
        const { data, body } = await this.query(operation, 'App.Sip_Extgroup.GetGroupExt', { extnumber: ext });
        const state = extensionStatesOf(rowsOf(data)).find((s) => s.extension === ext);
        if (!state) throw new PbxError('not_found', `${operation}: extension ${ext} is not in any extension group`);
        return { payload: state, raw: body };
      }
      case 'extensions': {
        const { data, body } = await this.query(operation, 'App.Sip_Extgroup.GetGroupExt', {});
        return { payload: extensionStatesOf(rowsOf(data)), raw: body };
      }
      case 'queue-agents': {
        const { data, body } = await this.query(operation, 'App.Sip_Queue.GetQueueSipStatus', { queuename: p.queue, state: 0 });
        return { payload: queueAgentsOf(rowsOf(data)), raw: body };
      }
      case 'login': {
        const { body } = await this.change(operation, 'App.Sip_Queue.SipSignIn', { extnumber: ext, queuename: p.queue });
        return { payload: { ok: true, operation, extension: ext, queue: p.queue }, raw: body };
      }
      case 'logout': {
        const crmid = p.agentId;
        if (crmid !== undefined && !/^\d{1,18}$/.test(crmid)) {
          throw new PbxError('invalid_input', 'agentId (the seat number SipSignOut takes as crmid) must be a whole number');
        }
        const { body } = await this.change(operation, 'App.Sip_Queue.SipSignOut', { extnumber: ext, queuename: p.queue, crmid });
        const payload: Json = { ok: true, operation, extension: ext, queue: p.queue };
        if (crmid !== undefined) payload.agentId = crmid;
        return { payload, raw: body };
      }
      case 'set-status': {
        const status = (p.status ?? '').toLowerCase();
        const settype = SEAT_STATUS.get(status);
        if (!settype) throw new PbxError('invalid_input', 'status must be "available" or "away"');
        const { body } = await this.change(operation, 'App.Sip_Queue.SetSeatsStatus', { settype, extnumber: ext, queuename: p.queue });
        const payload: Json = { ok: true, operation, extension: ext, status };
        if (p.queue) payload.queue = p.queue;
        return { payload, raw: body };
      }
      default:
        throw new PbxError('unsupported', `${operation} is not supported by the cloud call center`);
    }
  }

  testConnection(): Promise<string> {
    return this.api.testConnection();
  }

  close(): void {
    this.api.close();
  }

  private change(operation: OperationName, service: string, fields: Record<string, string | undefined>) {
    return this.api.call({ operation, service, fields, stateChanging: true });
  }

  private query(operation: OperationName, service: string, fields: Record<string, string | number | undefined>) {
    return this.api.call({ operation, service, fields, stateChanging: false });
  }
}

/** Adds `callId` when the answer names the call's uuid (the `uuid` of its callbacks); drops unset fields. */
function withCallId(payload: Json, data: unknown): Json {
  const result = isRecord(data) && isRecord(data.result) ? data.result : isRecord(data) ? data : {};
  const callId = stringOf(result.uuid) || stringOf(result.callid);
  if (callId) payload.callId = callId;
  for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
  return payload;
}
