import type { ProviderDefinition } from '../../core/provider';
import { OPERATIONS, ThreeCxAdapter } from './operations';
import { normalize3cxWebhook } from './webhook';

export const threeCxWebApi: ProviderDefinition = {
  id: '3cx-webapi',
  label: '3CX WebAPI',
  credentials: ['accessKey'],
  operations: OPERATIONS,
  create: (context) => new ThreeCxAdapter(context),
  normalizeWebhook: normalize3cxWebhook,
  webhookHint: (url) => `WebhooksApi.ini:\nWEBHOOK_URL=${url}\nHTTP_REQUEST_METHOD_POST=1`,
};
