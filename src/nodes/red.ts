import type { RuntimeEvents } from './flow-gate';
/**
 * The slice of the Node-RED runtime API these nodes use. Node-RED ships no types of its own;
 * declaring only what is used keeps the compiler honest about it.
 */
import type { MountableApp, RequestSource } from '../core/webhook-router';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | null>): void;
  status(status: NodeStatus | Record<string, never>): void;
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string | Error, message?: NodeMessage): void;
  debug(msg: string): void;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  [key: string]: unknown;
}

type Handler = (req: AdminRequest, res: AdminResponse, next?: () => void) => void;

export interface AdminRequest {
  params: Record<string, string>;
  body?: Record<string, unknown>;
  query: Record<string, string>;
}

export interface AdminResponse {
  json(body: unknown): void;
  status(code: number): AdminResponse;
}

export interface NodeAPI {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    registerType<T extends Node>(
      type: string,
      ctor: (this: T, def: NodeDef) => void,
      opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> },
    ): void;
    getNode(id: string): Node | null;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
  };
  util: {
    evaluateNodeProperty(
      value: unknown,
      type: string,
      node: Node,
      msg: NodeMessage,
      callback: (err: Error | null, result: unknown) => void,
    ): void;
  };
  settings: Record<string, unknown>;
  httpNode?: MountableApp;
  /** Node-RED's HTTP(S) server, which serves httpNode and httpAdmin. */
  server?: RequestSource;
  /** Node-RED's runtime events (`flows:stopping`, `flows:started`, ...). */
  events?: RuntimeEvents;
  httpAdmin: {
    get(path: string, ...handlers: Handler[]): void;
    post(path: string, ...handlers: Handler[]): void;
  };
  auth: { needsPermission(permission: string): Handler };
  _(key: string, substitutions?: Record<string, unknown>): string;
}
