// The adapters an order source may use (PUT /v1/sources/{sourceId} `adapter`), by name.
import type { AdapterName, SourceAdapter } from './adapter';
import { canonicalAdapter } from './canonical';
import { mappingAdapter } from './mapping';

/**
 * Every adapter this build has. The shopify adapter (api/sources/shopify.ts) is registered here beside the others:
 * `shopify: shopifyAdapter`; until it is, a source of adapter shopify is refused with a 400 naming `adapter`.
 */
export const ADAPTERS: Partial<Record<AdapterName, SourceAdapter>> = {
  canonical: canonicalAdapter,
  mapping: mappingAdapter,
};

export const ADAPTER_NAMES: readonly AdapterName[] = ['canonical', 'shopify', 'mapping'];

/** The adapter of a configured source; throws when this build lacks it (a source is never stored with one it lacks). */
export function adapterOf(name: AdapterName): SourceAdapter {
  const adapter = ADAPTERS[name];
  if (!adapter) throw new Error(`the ${name} adapter is not in this build`);
  return adapter;
}
