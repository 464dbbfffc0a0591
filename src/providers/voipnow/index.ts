import type { ProviderDefinition } from '../../core/provider';
import { OPERATIONS, VoipNowAdapter } from './operations';
import { normalizeVoipNowWebhook, voipNowWebhookHint } from './webhook';

/** 4PSA VoipNow UnifiedAPI: OAuth2 client credentials, presence, PhoneCalls, queue agents, Call Events. */
export const voipNow: ProviderDefinition = {
  id: 'voipnow',
  label: '4PSA VoipNow',
  credentials: ['clientId', 'clientSecret'],
  operations: OPERATIONS,
  create: (context) => new VoipNowAdapter(context),
  normalizeWebhook: normalizeVoipNowWebhook,
  webhookHint: voipNowWebhookHint,
};
