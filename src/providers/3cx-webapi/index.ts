import type { ProviderDefinition } from '../../core/provider';
import { OPERATIONS, ThreeCxAdapter } from './operations';
import { normalize3cxWebhook } from './webhook';

/** The 3CX WebAPI add-on: the access key as first path segment, call control over GET, one webhook URL. */
export const threeCxWebApi: ProviderDefinition = {
  id: '3cx-webapi',
  label: { 'en-US': '3CX WebAPI', 'zh-CN': '3CX WebAPI' },
  credentials: [{ name: 'accessKey', kind: 'secret', label: { 'en-US': 'Access key', 'zh-CN': '访问密钥' } }],
  settings: [
    {
      name: 'edition',
      label: { 'en-US': 'Edition', 'zh-CN': '版本' },
      options: [
        { value: 'k2m', label: { 'en-US': 'K2M Software (WebhooksApi.ini)', 'zh-CN': 'K2M Software（WebhooksApi.ini）' } },
        { value: 'creomate', label: { 'en-US': 'Creomate (TCXWebAPI.ini)', 'zh-CN': 'Creomate（TCXWebAPI.ini）' } },
      ],
    },
  ],
  baseUrlPlaceholder: 'https://pbx.example.com/webapi',
  webhookHint: {
    'en-US':
      '3CX WebAPI: set these lines in WebhooksApi.ini and restart the WebAPI service:\n\nWEBHOOK_URL={url}\nHTTP_REQUEST_METHOD_POST=1',
    'zh-CN': '3CX WebAPI：在 WebhooksApi.ini 中设置以下两行，然后重启 WebAPI 服务：\n\nWEBHOOK_URL={url}\nHTTP_REQUEST_METHOD_POST=1',
  },
  operations: OPERATIONS,
  create: (context) => new ThreeCxAdapter(context),
  normalizeWebhook: normalize3cxWebhook,
};
