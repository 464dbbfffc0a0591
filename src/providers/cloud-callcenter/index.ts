import type { ProviderDefinition } from '../../core/provider';
import { CloudCallCenterAdapter, OPERATIONS } from './operations';
import { normalizeCallCenterWebhook } from './webhook';

export const cloudCallCenter: ProviderDefinition = {
  id: 'cloud-callcenter',
  label: 'Cloud call center (App.Sip_*)',
  credentials: ['appId', 'appKey'],
  operations: OPERATIONS,
  create: (context) => new CloudCallCenterAdapter(context),
  normalizeWebhook: normalizeCallCenterWebhook,
  webhookHint: (url) =>
    `Give this URL as both callback addresses of the account (the call center's back office, or ask the vendor to set them):\n` +
    `extension call status callback: ${url}\n` +
    `CDR (call record) callback: ${url}`,
};
