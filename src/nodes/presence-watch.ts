import type { ExtensionState, ExtensionStateName } from '../core/types';

export interface PresenceChange {
  extension: string;
  state: ExtensionStateName;
  /** The state seen by the poll before; null for an extension that just appeared. */
  previous: ExtensionStateName | null;
}

export interface PresenceWatchOptions {
  intervalMs: number;
  /** Longest wait between polls while the provider keeps failing. */
  maxBackoffMs?: number;
  poll(): Promise<ExtensionState[]>;
  onChange(change: PresenceChange): void;
  onPoll(outcome: { ok: true; count: number } | { ok: false; error: unknown; retryInMs: number }): void;
}

/**
 * Polls presence (no provider pushes it) and reports only what changed. The first poll is the
 * baseline and reports nothing. Failures back off exponentially; `stop` ends it for good.
 */
export class PresenceWatch {
  private last: Map<string, ExtensionStateName> | null = null;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: PresenceWatchOptions) {}

  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Polls once now; resolves when the poll and its reports are done. */
  async tick(): Promise<void> {
    let states: ExtensionState[];
    try {
      states = await this.options.poll();
    } catch (error) {
      if (this.stopped) return;
      this.failures++;
      const retryInMs = this.delay();
      this.options.onPoll({ ok: false, error, retryInMs });
      this.schedule(retryInMs);
      return;
    }
    if (this.stopped) return;
    this.failures = 0;
    const next = new Map(states.map((s) => [s.extension, s.state]));
    if (this.last) {
      for (const [extension, state] of next) {
        const previous = this.last.get(extension);
        if (previous !== state) this.options.onChange({ extension, state, previous: previous ?? null });
      }
    }
    this.last = next;
    this.options.onPoll({ ok: true, count: next.size });
    this.schedule(this.options.intervalMs);
  }

  private delay(): number {
    const max = this.options.maxBackoffMs ?? 5 * 60 * 1000;
    return Math.min(max, this.options.intervalMs * 2 ** Math.min(this.failures, 10));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }
}
