import type { ProviderDefinition } from '../../core/provider';
import type { ActiveCall } from './calls';
import { OPERATIONS, VoipNowAdapter } from './operations';
import { CALL_EVENT_TYPES, normalizeVoipNowWebhook, type CallEventType } from './webhook';

/** The Call Event types as VoipNow's extension page names them. */
const EVENT_LABELS: Record<CallEventType, string> = {
  'dial-in': 'Dial-In',
  'dial-out': 'Dial-Out',
  'answer-incoming': 'Answer incoming',
  'answer-outgoing': 'Answer outgoing',
  hangup: 'Hangup',
};
/** One callback URL per Call Event type: the type travels in the query, VoipNow does not send it. */
const EVENT_URLS = CALL_EVENT_TYPES.map((type) => `${EVENT_LABELS[type]}: {url?event=${type}}`).join('\n');

/** 4PSA VoipNow UnifiedAPI: OAuth2 client credentials, presence, PhoneCalls, queue agents, Call Events. */
export const voipNow: ProviderDefinition = {
  id: 'voipnow',
  label: { 'en-US': '4PSA VoipNow (UnifiedAPI)', 'zh-CN': '4PSA VoipNow（UnifiedAPI）' },
  credentials: [
    { name: 'clientId', kind: 'identifier', label: { 'en-US': 'Client ID', 'zh-CN': 'Client ID' } },
    { name: 'clientSecret', kind: 'secret', label: { 'en-US': 'Client secret', 'zh-CN': 'Client Secret' } },
  ],
  baseUrlPlaceholder: 'https://voipnow.example.com',
  webhookHint: {
    'en-US': `VoipNow → extension → Call Events: add one Call Event per type (GET or POST), each with its own URL:\n\n${EVENT_URLS}`,
    'zh-CN': `VoipNow → 分机 → Call Events：为每种类型各添加一个 Call Event（GET 或 POST），各用自己的 URL：\n\n${EVENT_URLS}`,
  },
  operations: OPERATIONS,
  create: (context) => new VoipNowAdapter(context),
  normalizeWebhook: normalizeVoipNowWebhook,
  // A PhoneCall's `id` is the `CallID` its Call Events carry (as makecall's `wait` matches them too).
  activeCallIds: (payload) => (Array.isArray(payload) ? (payload as ActiveCall[]).map((c) => c.callId).filter(Boolean) : []),
};
