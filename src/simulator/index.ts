import { Simulator } from './server';
import { ThreeCxSimulator, type ThreeCxEdition } from './3cx-webapi';
import { CloudCallCenterSimulator, type CloudCallCenterModes } from './cloud-callcenter';
import { VoipNowSimulator } from './voipnow';
import type { ProviderSimulator } from './types';
import type { WebhookScheme } from './webhook-sender';

export { Simulator } from './server';
export { ThreeCxSimulator, THREE_CX_EDITIONS, type ThreeCxEdition } from './3cx-webapi';
export { CloudCallCenterSimulator } from './cloud-callcenter';
export { VoipNowSimulator } from './voipnow';
export {
  planQueueLoad,
  queueLoadFigures,
  queueLoadSettings,
  QueueLoadOptionError,
  QUEUE_LOAD_DEFAULTS,
  QUEUE_LOAD_LIMITS,
  QUEUE_LOAD_OPTIONS,
  type QueueFigures,
  type QueueLoadLog,
} from './queue-load';
export { DEMO_QUEUE_LOAD } from './queue-load-demo';

export interface SimulatorOptions {
  port?: number;
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  /** Ids of the providers to simulate; default all. */
  providers?: string[];
  /** Refuse calls placed while their provider has no webhook target (the command does). */
  requireWebhook?: boolean;
  /** Pause between the webhooks of one call (ms). */
  stepMs?: number;
  /** Talk time of calls placed through call control (ms). */
  talkMs?: number;
  /** Whose 3CX WebAPI add-on the 3cx-webapi simulator speaks: `k2m` (default) or `creomate`. */
  threeCxEdition?: ThreeCxEdition;
  /** Webhook target per provider id. */
  webhooks?: Record<string, { url?: string; scheme?: WebhookScheme }>;
  /** The cloud call center's API variant (older CDR callbacks, MakeCall without uuid); default the newer. */
  callCenterModes?: Partial<CloudCallCenterModes>;
}

type Timing = Pick<SimulatorOptions, 'stepMs' | 'talkMs' | 'callCenterModes' | 'threeCxEdition'>;

/** A simulated provider: the credentials its accounts accept (demo and tests), and how to start it. */
function simulated<C>(credentials: C, create: (credentials: C, timing: Timing) => ProviderSimulator) {
  return { credentials, start: (timing: Timing) => create(credentials, timing) };
}

/** Every simulated provider by id; a new one adds one entry. */
const SIMULATED = {
  '3cx-webapi': simulated(
    { accessKey: 'demo-3cx-access-key' },
    (c, { threeCxEdition, ...t }) => new ThreeCxSimulator({ ...c, ...t, edition: threeCxEdition }),
  ),
  'cloud-callcenter': simulated(
    { appId: 'demo-cc-app-id', appKey: 'demo-cc-app-key' },
    (c, t) => new CloudCallCenterSimulator({ ...c, stepMs: t.stepMs, talkMs: t.talkMs, modes: t.callCenterModes }),
  ),
  voipnow: simulated(
    { clientId: 'demo-voipnow-client', clientSecret: 'demo-voipnow-secret' },
    (c, t) => new VoipNowSimulator({ ...c, ...t }),
  ),
};

/** Credentials every simulated account accepts, by provider id. */
export const DEFAULT_CREDENTIALS = Object.fromEntries(Object.entries(SIMULATED).map(([id, p]) => [id, p.credentials])) as {
  [Id in keyof typeof SIMULATED]: (typeof SIMULATED)[Id]['credentials'];
};

/** Ids of every simulated provider. */
export const SIMULATED_PROVIDER_IDS = Object.keys(SIMULATED).sort();

/** Starts a simulator with every provider (or those of `options.providers`) on 127.0.0.1. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const timing = {
    stepMs: options.stepMs,
    talkMs: options.talkMs,
    callCenterModes: options.callCenterModes,
    threeCxEdition: options.threeCxEdition,
  };
  const chosen = Object.entries(SIMULATED).filter(([id]) => !options.providers || options.providers.includes(id));
  const sim = new Simulator(
    chosen.map(([, p]) => p.start(timing)),
    { requireWebhook: options.requireWebhook },
  );
  for (const [id, target] of Object.entries(options.webhooks ?? {})) sim.setWebhook(id, target.url, target.scheme);
  await sim.listen(options.port ?? 0, options.host);
  return sim;
}

/** Every simulated provider as the command's help describes it, without starting a server. */
export function describeProviders(): Array<{
  id: string;
  prefix: string;
  credentials: Record<string, string>;
  scenarios: string[];
  scenarioOptions: Readonly<Record<string, string>>;
  /** The queues (call center: hotlines) a queue load may use. */
  loadQueues: string[];
}> {
  return SIMULATED_PROVIDER_IDS.map((id) => {
    const entry = SIMULATED[id as keyof typeof SIMULATED];
    const p = entry.start({});
    return {
      id,
      prefix: p.prefix,
      credentials: { ...entry.credentials },
      scenarios: p.scenarios(),
      scenarioOptions: p.scenarioOptions,
      loadQueues: [...(p.loadQueues ?? [])],
    };
  });
}

// `node dist/simulator` runs the command.
if (require.main === module) void import('./cli').then((cli) => cli.main(process.argv.slice(2)));
