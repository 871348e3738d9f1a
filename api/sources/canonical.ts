// The canonical adapter: Herald's own event format (the body of POST /v1/order-events), whose status words are Herald's
// statuses. A source may send the customer's profile with the event as `customer` (name, email, phone, locale, country).
import { ORDER_STATUSES, type OrderStatus } from '../../domain';
import type { CustomerFromEvent, Normalised, RawSourceEvent, SourceAdapter, SourceConfig } from './adapter';
import { CUSTOMER_FIELDS, NormaliseFailure } from './profile';
import { verifyHeraldSignature } from './signature';

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/** The profile fields of a `customer` object, as sent (the pipeline validates them); undefined when there is none. */
export function customerOf(value: unknown, customerId: unknown): CustomerFromEvent | undefined {
  if (!isObject(value)) return undefined;
  const fields = Object.fromEntries(CUSTOMER_FIELDS.filter((f) => value[f] !== undefined).map((f) => [f, value[f]]));
  return { ...fields, customerId: typeof customerId === 'string' ? customerId : '' } as CustomerFromEvent;
}

export const canonicalAdapter: SourceAdapter = {
  name: 'canonical',
  defaultStatusMap: Object.fromEntries(ORDER_STATUSES.map((s) => [s, s])) as Record<string, OrderStatus>,
  verify: (source, raw) => verifyHeraldSignature(source, raw),
  normalise(_source: SourceConfig, raw: RawSourceEvent): Normalised {
    const payload = raw.payload as Record<string, unknown>;
    const { customer, ...event } = payload;
    const status = payload.status;
    if (customer !== undefined && customer !== null && !isObject(customer)) throw new NormaliseFailure('invalid_customer', [{ field: 'customer', reason: 'must be an object' }]);
    const carried = customerOf(customer, payload.customerId);
    return {
      kind: 'event',
      // A status that is no string is no word of the source's: the pipeline names it.
      sourceStatus: typeof status === 'string' ? status : '',
      event,
      ...(carried ? { customer: carried } : {}),
    };
  },
};
