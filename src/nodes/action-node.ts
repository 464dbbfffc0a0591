import { isPbxError, PbxError } from '../core/errors';
import { NODE_PARAMS } from '../core/provider';
import type { NodeKind, ParamName, Params } from '../core/types';
import { t } from './i18n';
import { healthAwareStatus, type HealthAwareStatus } from './node-status';
import type { PbxConfigNode } from './pbx-config';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './red';

export interface ActionNode extends Node {
  pbx?: PbxConfigNode;
}

/** The property holding the operation: `query` on pbx-status, `operation` elsewhere. */
export function operationProperty(kind: NodeKind): 'query' | 'operation' {
  return kind === 'status' ? 'query' : 'operation';
}

/**
 * Resolves each parameter's TypedInput; an empty `str` setting reads `msg.payload.<param>`.
 * Values come out as strings; anything that cannot be one is `invalid_input`.
 */
export async function resolveParams(RED: NodeAPI, node: Node, def: NodeDef, kind: NodeKind, msg: NodeMessage): Promise<Params> {
  const params: Params = {};
  const payload = msg.payload && typeof msg.payload === 'object' ? (msg.payload as Record<string, unknown>) : {};
  for (const name of NODE_PARAMS[kind]) {
    const value = def[name];
    const type = String(def[`${name}Type`] ?? 'str');
    let resolved: unknown;
    if (value === undefined || value === '' || value === null) {
      resolved = payload[name];
    } else {
      resolved = await evaluate(RED, node, value, type, msg);
    }
    const text = asParam(name, resolved);
    if (text !== undefined) params[name] = text;
  }
  return params;
}

function evaluate(RED: NodeAPI, node: Node, value: unknown, type: string, msg: NodeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type, node, msg, (err, result) => {
      if (err) reject(new PbxError('invalid_input', `cannot evaluate ${type} property: ${err.message}`));
      else resolve(result);
    });
  });
}

function asParam(name: ParamName, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new PbxError('invalid_input', `${name} must be text or a number, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/**
 * A node-specific mode that replaces answering inputs (pbx-status `watch`); returns true when it
 * took over the node.
 */
export type AlternateMode = (node: Node, def: NodeDef, pbx: PbxConfigNode | undefined, status: HealthAwareStatus) => boolean;

/** Registers one of the three action node types; they differ only in their operation table. */
export function registerActionNode(RED: NodeAPI, type: string, kind: NodeKind, alternate?: AlternateMode): void {
  function ActionNodeCtor(this: ActionNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    node.pbx = (RED.nodes.getNode(String(def.pbx ?? '')) as PbxConfigNode | null) ?? undefined;
    const opProperty = operationProperty(kind);
    const configured = String(def[opProperty] ?? '');
    const status = healthAwareStatus(RED, node, node.pbx?.account);
    node.on('close', (_removed, done) => {
      status.close();
      done();
    });
    if (!node.pbx) status.set({ fill: 'red', shape: 'ring', text: t(RED, 'status.no-config') });
    if (alternate?.(node, def, node.pbx, status)) {
      // The alternate mode owns the node; inputs are acknowledged and dropped.
      node.on('input', (_msg, _send, done) => done());
      return;
    }

    node.on('input', (msg, send, done) => {
      void handle(msg).then(
        () => {
          send(msg);
          done();
        },
        (err: unknown) => {
          const e = isPbxError(err) ? err : new PbxError('provider_error', String(err));
          const details = e.toJSON();
          msg.pbx = { provider: node.pbx?.provider, operation: details.operation, error: details };
          status.set({ fill: 'red', shape: 'ring', text: e.code });
          done(e);
        },
      );
    });

    async function handle(msg: NodeMessage): Promise<void> {
      const operation = configured || (typeof msg[opProperty] === 'string' ? String(msg[opProperty]) : '');
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
      const result = await account.run(kind, operation, params);
      msg.payload = result.payload;
      msg.raw = result.raw;
      msg.pbx = { provider: account.definition.id, operation };
      status.set({ fill: 'green', shape: 'dot', text: `${operation} ok` });
    }
  }
  RED.nodes.registerType(type, ActionNodeCtor);
}
