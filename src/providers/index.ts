import { ownProperty } from '../core/lookup';
import type { ProviderDefinition } from '../core/provider';
import type { ProviderId } from '../core/types';
import { threeCxWebApi } from './3cx-webapi';
import { cloudCallCenter } from './cloud-callcenter';
import { voipNow } from './voipnow';

/** Every provider the package speaks. A new provider is one folder and one line here. */
export const PROVIDERS: Partial<Record<ProviderId, ProviderDefinition>> = {
  '3cx-webapi': threeCxWebApi,
  'cloud-callcenter': cloudCallCenter,
  voipnow: voipNow,
};

export function providerOf(id: string): ProviderDefinition | undefined {
  return ownProperty(PROVIDERS, id);
}
