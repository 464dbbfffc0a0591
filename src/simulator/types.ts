import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueueLoadLog, QueueLoadMode } from './queue-load';
import type { WebhookSender } from './webhook-sender';

/** A request as the simulator's provider handlers see it: body already read. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  rawBody: Buffer;
}

export interface SimReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The part of the simulator that speaks one provider's API. */
export interface ProviderSimulator {
  readonly id: string;
  /** Path prefix this provider's API is served under, e.g. `/webapi`. */
  readonly prefix: string;
  readonly sender: WebhookSender;
  handle(req: SimRequest): Promise<SimReply> | SimReply;
  /** Names of scenarios `play` accepts. */
  scenarios(): string[];
  /** The options `play` reads, each with what it sets (for `pbx-simulator --help`). */
  readonly scenarioOptions: Readonly<Record<string, string>>;
  /** Plays a scenario's webhooks; resolves when the last one was delivered. */
  play(name: string, options?: Record<string, unknown>): Promise<{ callId: string }>;
  /** Whether this API request places a call, whose events are webhooks (makecall and the like). */
  placesCall(req: SimRequest): boolean;
  /** A refusal with HTTP status 409 in this provider's own error shape; default the message as text. */
  refusal?(message: string): SimReply;
  /** Told the simulator's own URL once it listens (for URLs it hands out, e.g. recordings). */
  listening?(url: string): void;
  /** Plays a queue load (queue-load.ts); resolves with its ground-truth log once every call has ended. */
  playQueueLoad?(options?: Record<string, unknown>, mode?: QueueLoadMode): Promise<QueueLoadLog>;
  /** The queues (call center: hotline numbers) a queue load may use; the first two are its default. */
  readonly loadQueues?: readonly string[];
  /** Stops the provider's queue loads at once. */
  stopQueueLoad?(): void;
  /** Snapshot of in-memory state for tests and the demo. */
  state(): unknown;
  reset(): void;
}

export interface Fault {
  /** Only requests whose path starts with this; default all. */
  pathPrefix?: string;
  /** Only requests whose query string or body contains this text (e.g. one form-data `service`). */
  bodyIncludes?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with this HTTP status and a short body instead of the provider's answer. */
  status?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /**
   * Let the provider handle the request (its effect takes place), send the status line, headers and
   * half of the body, then destroy the socket: a connection lost in the middle of the response.
   */
  resetMidResponse?: boolean;
  /** Answer with this raw text (e.g. invalid JSON). */
  rawBody?: string;
  /** Apply to this many requests, then clear; default unlimited. */
  times?: number;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void;
