import { Simulator } from './server';
import { ThreeCxSimulator } from './3cx-webapi';
import { CloudCallCenterSimulator } from './cloud-callcenter';
import { VoipNowSimulator } from './voipnow';
import type { ProviderSimulator } from './types';
import type { WebhookScheme } from './webhook-sender';

export { Simulator } from './server';
export { ThreeCxSimulator } from './3cx-webapi';
export { CloudCallCenterSimulator } from './cloud-callcenter';
export { VoipNowSimulator } from './voipnow';

export interface SimulatorOptions {
  port?: number;
  /** Pause between the webhooks of one call (ms). */
  stepMs?: number;
  /** Talk time of calls placed through call control (ms). */
  talkMs?: number;
  /** Webhook target per provider id. */
  webhooks?: Record<string, { url?: string; scheme?: WebhookScheme }>;
}

/** Credentials every simulated account accepts (demo and tests). */
export const DEFAULT_CREDENTIALS = {
  '3cx-webapi': { accessKey: 'demo-3cx-access-key' },
  'cloud-callcenter': { appId: 'demo-cc-app-id', appKey: 'demo-cc-app-key' },
  voipnow: { clientId: 'demo-voipnow-client', clientSecret: 'demo-voipnow-secret' },
};

/** One factory per provider; a new provider adds one line. */
const FACTORIES: Array<(o: SimulatorOptions) => ProviderSimulator> = [
  (o) => new ThreeCxSimulator({ accessKey: DEFAULT_CREDENTIALS['3cx-webapi'].accessKey, stepMs: o.stepMs, talkMs: o.talkMs }),
  (o) => new CloudCallCenterSimulator({ ...DEFAULT_CREDENTIALS['cloud-callcenter'], stepMs: o.stepMs, talkMs: o.talkMs }),
  (o) => new VoipNowSimulator({ ...DEFAULT_CREDENTIALS.voipnow, stepMs: o.stepMs, talkMs: o.talkMs }),
];

/** Starts a simulator with every provider on 127.0.0.1. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new Simulator(FACTORIES.map((make) => make(options)));
  for (const [id, target] of Object.entries(options.webhooks ?? {})) sim.setWebhook(id, target.url, target.scheme);
  await sim.listen(options.port ?? 0);
  return sim;
}
