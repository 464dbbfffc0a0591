import { isRecord, recordOf, stringOf } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import type { Direction } from '../../core/types';
import { entriesOf, isCollection } from './presence';

/** PhoneCall view `status`. */
const CALL_STATUSES = lookupTable({
  '0': 'unknown',
  '1': 'off-hook',
  '2': 'trying',
  '3': 'ringing',
  '4': 'remote-ringing',
  '5': 'on-call',
});

/** PhoneCall view `disposition`. */
const DISPOSITIONS = lookupTable({
  '0': 'answered',
  '1': 'busy',
  '2': 'failed',
  '3': 'no-answer',
  '4': 'unknown',
  '5': 'not-allowed',
});

export interface ActiveCall {
  callId: string;
  extension: string;
  source?: string;
  destination?: string;
  direction?: Direction;
  status: string;
  answered: boolean;
  disposition?: string;
}

/**
 * One PhoneCall `{id, extension, phoneCallView: [{source, destination, flow, status, answered,
 * disposition}]}` → a flat call. The first view describes the call; `source` / `destination`
 * are lists in the API and become text (several numbers joined with ",").
 */
export function phoneCallOf(raw: unknown): ActiveCall {
  const call = recordOf(raw);
  const views = Array.isArray(call.phoneCallView) ? call.phoneCallView : [];
  const view = recordOf(views[0]);
  const out: ActiveCall = {
    callId: stringOf(call.id) || stringOf(view.id),
    extension: stringOf(call.extension),
    status: CALL_STATUSES.get(stringOf(view.status)) ?? 'unknown',
    answered: truthy(view.answered),
  };
  const source = numbers(view.source);
  const destination = numbers(view.destination);
  if (source) out.source = source;
  if (destination) out.destination = destination;
  const direction = flowOf(view.flow);
  if (direction) out.direction = direction;
  const disposition = DISPOSITIONS.get(stringOf(view.disposition));
  if (disposition) out.disposition = disposition;
  return out;
}

/** A PhoneCall answer: a list or collection of PhoneCalls (or of their ids), or one PhoneCall. */
export function isPhoneCallAnswer(data: unknown): boolean {
  return isCollection(data) || (isRecord(data) && (Object.hasOwn(data, 'id') || Object.hasOwn(data, 'phoneCallView')));
}

/** A list answer (collection, bare array, or one PhoneCall) → calls. */
export function phoneCallsOf(data: unknown): ActiveCall[] {
  const items = entriesOf(data);
  if (!items.length && isRecord(data) && 'id' in data) return [phoneCallOf(data)];
  return items.map(phoneCallOf);
}

/** The call a transfer acts on when none is named: one that is talking (status 5 or answered). */
export function callInProgress(calls: ActiveCall[]): ActiveCall | undefined {
  return calls.find((c) => c.status === 'on-call') ?? calls.find((c) => c.answered && c.status !== 'unknown');
}

/** Ids in a hang-up answer: `[id, ...]`, `[{id}, ...]`, `{entry: [...]}` or `{id}`. */
export function idsOf(data: unknown): string[] {
  const items = Array.isArray(data) ? data : entriesOf(data);
  const list = items.length ? items : isRecord(data) && 'id' in data ? [data] : [];
  return list.map((item) => stringOf(isRecord(item) ? item.id : item)).filter((id) => id !== '');
}

function flowOf(flow: unknown): Direction | undefined {
  const f = stringOf(flow).toLowerCase();
  if (f === 'in' || f === 'incoming' || f === 'inbound') return 'inbound';
  if (f === 'out' || f === 'outgoing' || f === 'outbound') return 'outbound';
  if (f === 'local' || f === 'internal') return 'internal';
  return undefined;
}

function numbers(v: unknown): string {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list
    .map(stringOf)
    .filter((s) => s !== '')
    .join(',');
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || (typeof v === 'string' && v.toLowerCase() === 'true');
}
