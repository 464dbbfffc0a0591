import type { ProviderDefinition } from '../core/provider';
import { ProviderRegistry } from '../core/registry';
import { threeCxWebApi } from './3cx-webapi';
import { cloudCallCenter } from './cloud-callcenter';
import { voipNow } from './voipnow';

/**
 * Every provider the package speaks, in the order the editor lists them. A new provider is one
 * folder beside these (its definition in index.ts) and its name in this list.
 */
export const PROVIDERS = new ProviderRegistry([threeCxWebApi, voipNow, cloudCallCenter]);

export function providerOf(id: string): ProviderDefinition | undefined {
  return PROVIDERS.get(id);
}
