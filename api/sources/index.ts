// The adapters an order source may use (PUT /v1/sources/{sourceId} `adapter`), by name.
import type { AdapterName, SourceAdapter } from './adapter';
import { canonicalAdapter } from './canonical';
import { mappingAdapter } from './mapping';
import { shopifyAdapter } from './shopify';

/** Every adapter this build has. */
export const ADAPTERS: Record<AdapterName, SourceAdapter> = {
  canonical: canonicalAdapter,
  shopify: shopifyAdapter,
  mapping: mappingAdapter,
};

export const ADAPTER_NAMES: readonly AdapterName[] = ['canonical', 'shopify', 'mapping'];

/** The adapter of a configured source; throws when this build lacks it (a source is never stored with one it lacks). */
export function adapterOf(name: AdapterName): SourceAdapter {
  const adapter = ADAPTERS[name];
  if (!adapter) throw new Error(`the ${name} adapter is not in this build`);
  return adapter;
}
