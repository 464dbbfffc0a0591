import { Simulator } from './server';
import { ThreeCxSimulator } from './3cx-webapi';
import type { WebhookScheme } from './webhook-sender';

export { Simulator } from './server';
export { ThreeCxSimulator } from './3cx-webapi';

export interface SimulatorOptions {
  port?: number;
  /** Credentials the simulated accounts accept. */
  threeCx?: { accessKey: string; webhookUrl?: string; scheme?: WebhookScheme };
  stepMs?: number;
  talkMs?: number;
}

export const DEFAULT_CREDENTIALS = {
  threeCxAccessKey: 'demo-3cx-access-key',
};

/** Starts a simulator with every provider on 127.0.0.1. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const threeCx = new ThreeCxSimulator({
    accessKey: options.threeCx?.accessKey ?? DEFAULT_CREDENTIALS.threeCxAccessKey,
    stepMs: options.stepMs,
    talkMs: options.talkMs,
    scheme: options.threeCx?.scheme,
  });
  threeCx.sender.url = options.threeCx?.webhookUrl;
  const sim = new Simulator([threeCx]);
  await sim.listen(options.port ?? 0);
  return sim;
}
