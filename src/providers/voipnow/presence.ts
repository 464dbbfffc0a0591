import { isRecord, recordOf, stringOf } from '../../core/fields';
import { lookupTable } from '../../core/lookup';
import type { ExtensionState, ExtensionStateName } from '../../core/types';
import { extensionNumber } from './extension';

/** Presence `status`: 0 unknown, 1 online, 2 ringing, 3 busy. */
const PRESENCE_STATES = lookupTable<ExtensionStateName>({ '0': 'unknown', '1': 'idle', '2': 'ringing', '3': 'busy' });

export type RegistrationWord = 'registered' | 'not-needed' | 'not-registered' | 'expired' | 'unknown';

/** Presence `registration`: 1 registered, 2 not needed, -1 not registered, -2 expired, 0 unknown. */
const REGISTRATIONS = lookupTable<RegistrationWord>({
  '1': 'registered',
  '2': 'not-needed',
  '-1': 'not-registered',
  '-2': 'expired',
  '0': 'unknown',
});

/** When an extension has several devices, the best one speaks for it. */
const RANK: Record<RegistrationWord, number> = { registered: 4, 'not-needed': 3, 'not-registered': 2, expired: 2, unknown: 1 };

/** `registered` per registration word. "Not needed": no registration exists, so none is claimed. */
const REGISTERED: Record<RegistrationWord, boolean | undefined> = {
  registered: true,
  'not-needed': undefined,
  'not-registered': false,
  expired: false,
  unknown: undefined,
};

export interface PresenceDevice {
  agent?: string;
  registration: RegistrationWord;
  expire?: string;
}

/**
 * One ExtensionPresence entry → `{ extension, state, registered?, registration, devices? }`.
 * A phone that is not registered (-1) or whose registration expired (-2) is `offline` unless
 * the PBX still reports it ringing or busy (a call it has in progress wins). "Not needed" (2)
 * leaves `registered` undefined: the extension takes calls without registering, so it is not
 * offline, but nothing is registered either; `registration: 'not-needed'` says which.
 */
export function presenceOf(entry: unknown): ExtensionState {
  const e = recordOf(entry);
  const devices = (Array.isArray(e.registration) ? e.registration : []).map(deviceOf);
  const registration = devices.reduce<RegistrationWord>(
    (best, d) => (RANK[d.registration] > RANK[best] ? d.registration : best),
    'unknown',
  );
  const registered = REGISTERED[registration];
  const reported = PRESENCE_STATES.get(stringOf(e.status)) ?? 'unknown';
  const state: ExtensionStateName = registered === false && reported !== 'busy' && reported !== 'ringing' ? 'offline' : reported;
  const out: ExtensionState = { extension: extensionNumber(stringOf(e.extension)) ?? '', state };
  if (registered !== undefined) out.registered = registered;
  out.registration = registration;
  if (devices.length) out.devices = devices;
  return out;
}

function deviceOf(raw: unknown): PresenceDevice {
  const r = recordOf(raw);
  const device: PresenceDevice = { registration: REGISTRATIONS.get(stringOf(r.registration)) ?? 'unknown' };
  const agent = stringOf(r.agent);
  const expire = stringOf(r.expire);
  if (agent) device.agent = agent;
  if (expire) device.expire = expire;
  return device;
}

/** A collection answer as the UnifiedAPI gives one: `{startIndex, totalResults, entry, ...}`, or a bare list. */
export function isCollection(data: unknown): boolean {
  return Array.isArray(data) || (isRecord(data) && (Object.hasOwn(data, 'entry') || Object.hasOwn(data, 'totalResults')));
}

/** The entries of a collection answer (`{entry: [...]}`); a bare array is taken as it is. */
export function entriesOf(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  const entry = recordOf(data).entry;
  if (Array.isArray(entry)) return entry;
  return isRecord(entry) ? [entry] : [];
}

/** The largest page the API serves; 1000 keeps answers small while the API allows 5000. */
export const PAGE_SIZE = 1000;
/** `startIndex` must stay below 5000 (presence doc, `startindex_invalid`). */
const MAX_START_INDEX = 4999;
/** A hard bound on requests per listing, whatever the server answers. */
const MAX_PAGES = 50;

export interface PresencePage {
  /** 204 = nothing (more) to list. */
  status: number;
  data: unknown;
}

export interface PresenceListing {
  entries: unknown[];
  pages: unknown[];
  /** True when the listing stopped at a bound before `totalResults` was reached. */
  truncated: boolean;
}

/**
 * Reads every page of a presence collection. The next `startIndex` advances by the entries
 * actually received (a server may serve fewer than `count`), until `totalResults` is reached,
 * a page is empty or 204, or a bound is hit. Entries are de-duplicated by extension: presence
 * may move between pages while they are read.
 */
export async function readAllPages(fetchPage: (startIndex: number, count: number) => Promise<PresencePage>): Promise<PresenceListing> {
  const entries: unknown[] = [];
  const pages: unknown[] = [];
  const seen = new Set<string>();
  let startIndex = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await fetchPage(startIndex, PAGE_SIZE);
    if (res.status === 204) return { entries, pages, truncated: false };
    pages.push(res.data);
    const items = entriesOf(res.data);
    if (!items.length) return { entries, pages, truncated: false };
    for (const item of items) {
      const ext = stringOf(recordOf(item).extension);
      if (ext && seen.has(ext)) continue;
      if (ext) seen.add(ext);
      entries.push(item);
    }
    startIndex += items.length;
    const total = Number(recordOf(res.data).totalResults);
    if (Number.isFinite(total) ? startIndex >= total : items.length < PAGE_SIZE) return { entries, pages, truncated: false };
    if (startIndex > MAX_START_INDEX) return { entries, pages, truncated: true };
  }
  return { entries, pages, truncated: true };
}
