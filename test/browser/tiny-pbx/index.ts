// A provider that exists only in test/browser/provider-fixture.test.js, which copies the package,
// puts this folder beside the real providers in src/providers/ and registers it in
// src/providers/index.ts: all it takes to add a provider. It speaks to the test's loopback fake:
// every operation is `POST {baseUrl}/{operation}` with the parameters as JSON, and call events
// arrive as JSON `{callId, state, extension?, from?}`.
import { joinPath } from '../../core/http';
import { op, WebhookPayloadError, type ProviderAdapter, type ProviderContext, type ProviderDefinition } from '../../core/provider';
import type { ActionResult, CallEvent, CallEventName, OperationName, Params, WebhookInput } from '../../core/types';

const STATES: readonly string[] = ['ringing', 'answered', 'hangup'];

class TinyPbxAdapter implements ProviderAdapter {
  constructor(private readonly ctx: ProviderContext) {}

  async request(operation: OperationName, params: Params): Promise<ActionResult> {
    const answer = await this.send(operation, params);
    return { payload: { ok: true, operation, ...params, ...(answer as object) }, raw: answer };
  }

  async testConnection(): Promise<string> {
    await this.send('ping', {});
    return 'the tiny PBX answered';
  }

  close(): void {}

  private async send(operation: string, body: Params): Promise<unknown> {
    const { credentials, extra } = this.ctx.settings;
    const res = await this.ctx.http.send({
      method: 'POST',
      path: joinPath(operation),
      body,
      headers: {
        authorization: `Bearer ${credentials.apiToken ?? ''}`,
        'x-tenant': credentials.tenant ?? '',
        'x-region': extra?.region ?? '',
      },
      operation,
      stateChanging: operation !== 'extension-state',
    });
    return res.data;
  }
}

function normalizeTinyPbxWebhook(input: WebhookInput): CallEvent[] {
  const body = (input.body ?? {}) as Record<string, unknown>;
  const { callId, state, extension, from } = body;
  if (typeof callId !== 'string' || typeof state !== 'string' || !STATES.includes(state)) {
    throw new WebhookPayloadError('not a tiny PBX call event');
  }
  const event: CallEvent = {
    event: state as CallEventName,
    provider: 'tiny-pbx',
    providerEvent: state,
    callId,
    direction: 'inbound',
    timestamp: input.receivedAt.toISOString(),
  };
  if (typeof extension === 'string') event.extension = extension;
  if (typeof from === 'string') event.from = from;
  return [event];
}

export const tinyPbx: ProviderDefinition = {
  id: 'tiny-pbx',
  label: { 'en-US': 'Tiny PBX (test fixture)', 'zh-CN': '微型 PBX（测试用）' },
  credentials: [
    { name: 'apiToken', kind: 'secret', label: { 'en-US': 'API token', 'zh-CN': 'API 令牌' } },
    { name: 'tenant', kind: 'identifier', label: { 'en-US': 'Tenant', 'zh-CN': '租户' } },
  ],
  settings: [
    {
      name: 'region',
      label: { 'en-US': 'Region', 'zh-CN': '区域' },
      options: [
        { value: 'eu', label: { 'en-US': 'Europe', 'zh-CN': '欧洲' } },
        { value: 'us', label: { 'en-US': 'United States', 'zh-CN': '美国' } },
      ],
    },
  ],
  baseUrlPlaceholder: 'https://tiny-pbx.example.com/api',
  webhookHint: {
    'en-US': 'Tiny PBX: post call events to {url}\nand missed calls to {url?kind=missed}',
    'zh-CN': '微型 PBX：将呼叫事件发送到 {url}\n未接来电发送到 {url?kind=missed}',
  },
  operations: [
    op('makecall', 'call', ['extension', 'destination']),
    op('extension-state', 'status', ['extension']),
    op('login', 'queue', ['extension', 'queue']),
  ],
  create: (context) => new TinyPbxAdapter(context),
  normalizeWebhook: normalizeTinyPbxWebhook,
};
