import { isPbxError, PbxError } from '../core/errors';
import { ownProperty } from '../core/lookup';
import { NODE_PARAMS } from '../core/provider';
import type { ActionResult, NodeKind, ParamName, Params } from '../core/types';
import { asPbxError, messageOf } from './as-pbx-error';
import { t } from './i18n';
import { migrateNode } from './migrate';
import { configStatus, errorStatus, healthAwareStatus, type HealthAwareStatus } from './node-status';
import type { Account } from '../core/account';
import type { PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from './red';

export interface ActionNode extends Node {
  pbx?: PbxConfigNode;
}

/** The property holding the operation: `query` on pbx-status, `operation` elsewhere. */
export function operationProperty(kind: NodeKind): 'query' | 'operation' {
  return kind === 'status' ? 'query' : 'operation';
}

/**
 * Longest parameter value accepted, in characters (UTF-16 code units). Every parameter is an
 * identifier: a phone number (E.164: at most 15 digits), an extension, a queue or group name, a
 * call id or UUID, a SIP URI (a user part and a domain of at most 253 characters), a `reference`.
 * 1024 holds any of these with room to spare; a longer value is a mistake (a whole payload or
 * file passed as a parameter) or an attack, and would only travel into a provider's URL or form.
 */
export const MAX_PARAM_LENGTH = 1024;

/** Unicode control characters (C0, DEL, C1): a value holding one could split a header, URL or log line. */
const CONTROL_CHARACTERS = /\p{Cc}/u;
/** Half of a surrogate pair alone: no text, and URL encoding throws on it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Resolves each parameter's TypedInput; an empty `str` setting reads `msg.payload.<param>` (an
 * own property: nothing inherited). Values come out as trimmed strings; anything that cannot be
 * one, is longer than MAX_PARAM_LENGTH or holds a control character is `invalid_input`.
 */
export async function resolveParams(RED: NodeAPI, node: Node, def: NodeDef, kind: NodeKind, msg: NodeMessage): Promise<Params> {
  const params: Params = {};
  for (const name of NODE_PARAMS[kind]) {
    const value = def[name];
    const type = String(def[`${name}Type`] ?? 'str');
    let resolved: unknown;
    if (value === undefined || value === '' || value === null) {
      resolved = ownProperty(msg.payload, name);
    } else {
      resolved = await evaluate(RED, node, value, type, msg);
    }
    const text = asParam(name, resolved);
    if (text !== undefined) params[name] = text;
  }
  return params;
}

/** A TypedInput's value; its failures (reported, or thrown at once like a JSONata syntax error) are `invalid_input`. */
function evaluate(RED: NodeAPI, node: Node, value: unknown, type: string, msg: NodeMessage): Promise<unknown> {
  const invalid = (err: unknown) => new PbxError('invalid_input', `cannot evaluate ${type} property: ${messageOf(err)}`);
  return new Promise((resolve, reject) => {
    try {
      RED.util.evaluateNodeProperty(value, type, node, msg, (err, result) => {
        if (err) reject(invalid(err));
        else resolve(result);
      });
    } catch (err) {
      reject(invalid(err));
    }
  });
}

function asParam(name: ParamName, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return checkedText(name, value.trim()) || undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PbxError('invalid_input', `${name} must be a finite number`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  throw new PbxError('invalid_input', `${name} must be text or a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/**
 * `text` when it is short enough and free of control characters, else `invalid_input` naming
 * `what` (never quoting the value: it may be huge or hold a line break). Parameters are trimmed
 * first, so the trailing newline a template node leaves is not an error; one inside is.
 */
function checkedText(what: string, text: string): string {
  if (text.length > MAX_PARAM_LENGTH) throw new PbxError('invalid_input', `${what} is longer than ${MAX_PARAM_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(text)) throw new PbxError('invalid_input', `${what} contains control characters`);
  if (LONE_SURROGATE.test(text)) throw new PbxError('invalid_input', `${what} is not well-formed text (a lone surrogate)`);
  return text;
}

/**
 * A node-specific mode that replaces answering inputs (pbx-status `watch`); returns true when it
 * took over the node.
 */
export type AlternateMode = (node: Node, def: NodeDef, pbx: PbxConfigNode | undefined, status: HealthAwareStatus) => boolean;

/**
 * A node option that holds an operation's result back until more is known (pbx-call `wait`):
 * `begin` runs before the request, so nothing the request causes can be missed.
 */
export interface ResultHold {
  /** A held result for this input, or undefined to answer as soon as the request does. */
  begin(account: Account, operation: string, params: Params): HeldResult | undefined;
  /** The node closes: every held result ends at once (its message is dropped). */
  close(): void;
}

export interface HeldResult {
  /** Shown while the result is held. */
  readonly waitingStatus: NodeStatus;
  /**
   * The request succeeded with `payload`: resolves with the fields to add to msg.payload and the
   * status to show, or undefined when the node closed meanwhile.
   */
  settle(payload: unknown): Promise<{ fields: Record<string, unknown>; status: NodeStatus } | undefined>;
  /** The request failed: nothing is held any more. */
  cancel(): void;
}

/** Registers one of the three action node types; they differ only in their operation table. */
export function registerActionNode(
  RED: NodeAPI,
  type: string,
  kind: NodeKind,
  alternate?: AlternateMode,
  holdOf?: (node: Node, def: NodeDef) => ResultHold | undefined,
): void {
  function ActionNodeCtor(this: ActionNode, saved: NodeDef): void {
    RED.nodes.createNode(this, saved);
    const node = this;
    const def = migrateNode(RED, node, saved);
    node.pbx = (RED.nodes.getNode(String(def.pbx ?? '')) as PbxConfigNode | null) ?? undefined;
    const opProperty = operationProperty(kind);
    const configured = String(def[opProperty] ?? '');
    const status = healthAwareStatus(RED, node, node.pbx?.account);
    const hold = holdOf?.(node, def);
    node.on('close', (_removed, done) => {
      hold?.close();
      status.close();
      done();
    });
    if (!node.pbx?.account) status.set(configStatus(RED, node.pbx));
    if (alternate?.(node, def, node.pbx, status)) {
      // The alternate mode owns the node; inputs are acknowledged and dropped.
      node.on('input', (_msg, _send, done) => done());
      return;
    }

    node.on('input', (msg, send, done) => {
      void handle(msg).then(
        (sent) => {
          if (sent) send(msg);
          done();
        },
        (err: unknown) => {
          const e = asPbxError(err);
          const details = e.toJSON();
          msg.pbx = { provider: node.pbx?.provider, operation: details.operation, error: details };
          status.set(node.pbx?.account ? errorStatus(RED, e.code) : configStatus(RED, node.pbx));
          done(e);
        },
      );
    });

    /** Resolves false when the message is dropped (the node closed while its result was held). */
    async function handle(msg: NodeMessage): Promise<boolean> {
      const requested = ownProperty(msg, opProperty);
      const operation = configured || (typeof requested === 'string' ? checkedText(opProperty, requested) : '');
      const account = node.pbx?.account;
      if (!account) {
        throw new PbxError('invalid_input', node.pbx?.configError ?? t(RED, 'errors.no-config'), { operation });
      }
      if (!operation)
        throw new PbxError('invalid_input', t(RED, 'errors.no-operation', { property: opProperty }), { provider: account.definition.id });
      let params: Params;
      try {
        params = await resolveParams(RED, node, def, kind, msg);
      } catch (err) {
        if (isPbxError(err)) {
          err.provider = account.definition.id;
          err.operation = operation;
        }
        throw err;
      }
      status.set({ fill: 'blue', shape: 'dot', text: operation });
      const held = hold?.begin(account, operation, params);
      let result: ActionResult;
      try {
        result = await account.run(kind, operation, params);
      } catch (err) {
        held?.cancel();
        throw err;
      }
      msg.payload = result.payload;
      msg.raw = result.raw;
      msg.pbx = { provider: account.definition.id, operation };
      if (!held) {
        status.set({ fill: 'green', shape: 'dot', text: `${operation} ok` });
        return true;
      }
      status.set(held.waitingStatus);
      const settled = await held.settle(result.payload);
      if (!settled) return false;
      msg.payload = { ...(result.payload as Record<string, unknown>), ...settled.fields };
      status.set(settled.status);
      return true;
    }
  }
  RED.nodes.registerType(type, ActionNodeCtor);
}
