import type { ProviderDefinition } from '../core/provider';
import { registerProviders } from '../core/registry';
import { ownProperty } from '../core/lookup';
import { threeCxWebApi } from './3cx-webapi';
import { cloudCallCenter } from './cloud-callcenter';
import { voipNow } from './voipnow';

/**
 * Every provider the package speaks, by id, in the order the editor lists them. A new provider is
 * one folder beside these (its definition in index.ts) and its entry in this list.
 */
export const PROVIDERS = registerProviders([threeCxWebApi, voipNow, cloudCallCenter]);

export function providerOf(id: string): ProviderDefinition | undefined {
  return ownProperty(PROVIDERS, id);
}
