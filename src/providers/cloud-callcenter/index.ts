import type { ProviderDefinition } from '../../core/provider';
import { CloudCallCenterAdapter, OPERATIONS } from './operations';
import { normalizeCallCenterWebhook } from './webhook';

/** A cloud call center with a form-data `App.Sip_*` API: login token, JSON call status and CDR callbacks. */
export const cloudCallCenter: ProviderDefinition = {
  id: 'cloud-callcenter',
  label: { 'en-US': 'Cloud call center (App.Sip_*)', 'zh-CN': '云呼叫中心（App.Sip_*）' },
  credentials: [
    { name: 'appId', kind: 'identifier', label: { 'en-US': 'App ID', 'zh-CN': 'App ID' } },
    { name: 'appKey', kind: 'secret', label: { 'en-US': 'App key', 'zh-CN': 'App Key' } },
  ],
  baseUrlPlaceholder: 'https://api.callcenter.example.com',
  webhookHint: {
    'en-US':
      "Give this URL as both callback addresses of the account (in the call center's back office, or ask the vendor to set them):\n\n" +
      'extension call status callback: {url}\nCDR (call record) callback: {url}',
    'zh-CN': '在呼叫中心后台将此 URL 同时设为账号的两个回调地址（或请服务商设置）：\n\n分机通话状态回调：{url}\n话单（CDR）回调：{url}',
  },
  operations: OPERATIONS,
  create: (context) => new CloudCallCenterAdapter(context),
  normalizeWebhook: normalizeCallCenterWebhook,
};
