import type { Account, AccountMemory } from './account';
import type { Logger, WebhookInput } from './types';
import { normalizePath, type DeliveryReply, type WebhookRouter } from './webhook-router';

/**
 * Whether the flows are running. Closed from the moment the flows start stopping (a deploy or a
 * shutdown) until all nodes of the new flows exist and have subscribed.
 */
export interface DeliveryGate {
  readonly open: boolean;
  /** Calls `listener` on each change; returns the unsubscribe function. */
  onChange(listener: (open: boolean) => void): () => void;
}

/** Bounds of what is held while the gate is closed; past them a delivery is answered 503. */
export interface HoldLimits {
  /** Deliveries held per config node. */
  count: number;
  /** Bytes (of the request's fingerprint: method, query and body) held per config node. */
  bytes: number;
  /** How long one delivery may wait for the flows; then it is answered 503. */
  ms: number;
}

export const DEFAULT_HOLD_LIMITS: HoldLimits = { count: 500, bytes: 8 * 1024 * 1024, ms: 15_000 };

export interface WebhookRoute {
  path: string;
  secret?: string;
  allowFrom?: string;
  trustedProxies?: string;
}

export interface AttachRequest {
  /**
   * Everything the account is built from (provider, base URL, credentials, timeouts...), as one
   * string: an equal key means the running account can be kept as it is, tokens included.
   */
  settingsKey: string;
  provider: string;
  /**
   * Builds the account. `memory`: the predecessor's duplicates and calls, when it had the same
   * provider. `log`: the account's logger, which writes through the config node attached last.
   */
  create(memory: AccountMemory | undefined, log: Logger): Account;
  /** The webhook endpoint; none where Node-RED serves no HTTP. */
  route?: WebhookRoute;
  /** Where rejected requests are reported (already answered). */
  onRejected(status: number, reason: string, remoteAddress: string): void;
  log: Logger;
}

interface Held {
  input: WebhookInput;
  fingerprint: string;
  reply: DeliveryReply;
  bytes: number;
  expiresAt: number;
  timer?: NodeJS.Timeout;
}

/** One config node id: its account and route, which outlive a redeploy of the node. */
interface Kept {
  id: string;
  account?: Account;
  settingsKey?: string;
  provider?: string;
  routeKey?: string;
  /** The normalized path of its route, to find the owner of a path. */
  routePath?: string;
  removeRoute?: () => void;
  request?: AttachRequest;
  /** Writes through the log of the config node attached last (a kept account outlives its first node). */
  log: Logger;
  lastLog?: Logger;
  held: Held[];
  heldBytes: number;
}

/**
 * Keeps each pbx-config's account and webhook endpoint alive across redeploys, so that nothing is
 * lost or repeated while flows restart:
 * - a config node redeployed unchanged (same id, same settings) gets its running account back:
 *   duplicate filter, call tracker and tokens; one whose settings changed gets a new account with
 *   the old one's duplicates and calls (same provider);
 * - the endpoint stays registered while the flows restart; a delivery that arrives while the gate
 *   is closed is held (bounded in count, bytes and time) and taken once the new nodes have
 *   subscribed, answered 200 then; past the bounds, or when its config node is removed, it is
 *   answered 503 so the PBX delivers it again later. A delivery is never answered 200 and dropped.
 * A closed node whose successor has not attached by the time the flows have started again was
 * removed after all (or failed to start): its account and route end then.
 */
export class AccountKeeper {
  private readonly kept = new Map<string, Kept>();
  /** Set while anything is kept: a keeper with nothing left does not hold on to the gate. */
  private stopWatchingGate?: () => void;

  constructor(
    private readonly router: WebhookRouter | undefined,
    private readonly gate: DeliveryGate,
    private readonly limits: HoldLimits = DEFAULT_HOLD_LIMITS,
  ) {}

  /**
   * The account of config node `id`, kept from its previous deploy when the settings are the same.
   * Registers (or keeps) its webhook route; throws when the path is used by another config node.
   */
  attach(id: string, request: AttachRequest): Account {
    const kept = this.kept.get(id) ?? this.newKept(id);
    try {
      this.adoptAccount(kept, request);
      this.routeTo(kept, request.route);
    } catch (err) {
      this.dispose(kept);
      throw err;
    }
    kept.request = request;
    kept.lastLog = request.log;
    if (this.gate.open) this.release(kept);
    return kept.account!;
  }

  /**
   * Config node `id` closed. Removed: its account and route go at once. Otherwise (a redeploy, or
   * a shutdown) what the node's users had begun ends, and the rest waits for the node's successor.
   */
  detach(id: string, removed: boolean): void {
    const kept = this.kept.get(id);
    if (!kept) return;
    kept.request = undefined;
    if (removed) return this.dispose(kept);
    kept.account?.suspend();
  }

  /** Closes everything. */
  close(): void {
    for (const kept of [...this.kept.values()]) this.dispose(kept);
  }

  /** Deliveries waiting for the flows, over all config nodes: for tests and status. */
  get heldCount(): number {
    let n = 0;
    for (const kept of this.kept.values()) n += kept.held.length;
    return n;
  }

  private gateChanged(open: boolean): void {
    if (!open) return;
    for (const kept of [...this.kept.values()]) {
      if (kept.request) this.release(kept);
      else this.dispose(kept);
    }
  }

  private newKept(id: string): Kept {
    this.stopWatchingGate ??= this.gate.onChange((open) => this.gateChanged(open));
    const kept: Kept = {
      id,
      held: [],
      heldBytes: 0,
      log: { debug: (m) => kept.lastLog?.debug(m), warn: (m) => kept.lastLog?.warn(m) },
    };
    this.kept.set(id, kept);
    return kept;
  }

  private adoptAccount(kept: Kept, request: AttachRequest): void {
    if (kept.account && kept.settingsKey === request.settingsKey) return;
    const previous = kept.account;
    const memory = previous && kept.provider === request.provider ? previous.memory : undefined;
    kept.account = undefined;
    previous?.close();
    kept.lastLog = request.log;
    kept.account = request.create(memory, kept.log);
    kept.settingsKey = request.settingsKey;
    kept.provider = request.provider;
  }

  private routeTo(kept: Kept, route: WebhookRoute | undefined): void {
    const routeKey = route
      ? JSON.stringify([route.path, route.secret ?? '', route.allowFrom ?? '', route.trustedProxies ?? ''])
      : undefined;
    if (routeKey === kept.routeKey) return;
    kept.removeRoute?.();
    kept.removeRoute = kept.routeKey = kept.routePath = undefined;
    if (!route || !this.router) return;
    const path = normalizePath(route.path);
    this.takeOverFromClosed(kept, path);
    kept.removeRoute = this.router.register({
      ...route,
      onDelivery: (input, fingerprint, reply) => this.take(kept, input, fingerprint, reply),
      onRejected: (status, reason, remote) => kept.request?.onRejected(status, reason, remote),
    });
    kept.routeKey = routeKey;
    kept.routePath = path;
  }

  /**
   * A path still held by a closed node that has not come back yet (its successor may be moving
   * to another path in the same deploy) goes to the node that wants it now, with the deliveries
   * held on it. Should the closed node come back wanting it too, that one gets the conflict.
   */
  private takeOverFromClosed(kept: Kept, path: string): void {
    for (const other of this.kept.values()) {
      if (other === kept || other.request || other.routePath !== path) continue;
      other.removeRoute?.();
      other.removeRoute = other.routeKey = other.routePath = undefined;
      for (const h of other.held) this.holdOn(kept, h);
      other.held = [];
      other.heldBytes = 0;
    }
  }

  private take(kept: Kept, input: WebhookInput, fingerprint: string, reply: DeliveryReply): void {
    if (this.gate.open && kept.request && kept.account) {
      if (kept.account.refusesDeliveries) return reply(503);
      if (kept.account.isShared) return kept.account.deliverShared(input, fingerprint, reply);
      // Answer and deliver in the same tick: no deploy can begin between the two.
      reply(200);
      kept.account.deliver(input, fingerprint);
      return;
    }
    const bytes = fingerprint.length;
    if (kept.held.length >= this.limits.count || kept.heldBytes + bytes > this.limits.bytes) return reply(503);
    const held: Held = { input, fingerprint, reply, bytes, expiresAt: Date.now() + this.limits.ms };
    this.holdOn(kept, held);
  }

  /** Puts `held` on `kept`, answered 503 by `kept` when it waited too long. */
  private holdOn(kept: Kept, held: Held): void {
    clearTimeout(held.timer);
    held.timer = setTimeout(() => this.expire(kept, held), Math.max(0, held.expiresAt - Date.now()));
    held.timer.unref?.();
    kept.held.push(held);
    kept.heldBytes += held.bytes;
  }

  private expire(kept: Kept, held: Held): void {
    const i = kept.held.indexOf(held);
    if (i < 0) return;
    kept.held.splice(i, 1);
    kept.heldBytes -= held.bytes;
    held.reply(503);
  }

  /** Takes the held deliveries in arrival order, once the node is attached and the gate open. */
  private release(kept: Kept): void {
    if (!kept.request || !kept.account) return;
    const account = kept.account;
    account.resume();
    if (kept.held.length === 0) return;
    const held = kept.held;
    kept.held = [];
    kept.heldBytes = 0;
    for (const h of held) {
      clearTimeout(h.timer);
      if (account.refusesDeliveries) {
        h.reply(503);
        continue;
      }
      if (account.isShared) {
        account.deliverShared(h.input, h.fingerprint, h.reply);
        continue;
      }
      h.reply(200);
      account.deliver(h.input, h.fingerprint);
    }
  }

  private dispose(kept: Kept): void {
    kept.removeRoute?.();
    for (const h of kept.held) {
      clearTimeout(h.timer);
      h.reply(503);
    }
    kept.held = [];
    kept.heldBytes = 0;
    kept.account?.close();
    kept.account = kept.request = undefined;
    if (this.kept.get(kept.id) === kept) this.kept.delete(kept.id);
    if (this.kept.size === 0) {
      this.stopWatchingGate?.();
      this.stopWatchingGate = undefined;
    }
  }
}
