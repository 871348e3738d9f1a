import type { OrderStatus } from '../../domain';

/**
 * A source adapter turns one source's own payload into Herald's canonical order event.
 * Adapters are pure: no I/O, no clock; the intake pipeline (api/sources/pipeline.ts) stores, counts and signals.
 */
export type AdapterName = 'canonical' | 'shopify' | 'mapping';

/** Which canonical fields a source must send, which it may leave out (with the default used), and the time formats it may use. */
export interface ValidationProfile {
  /** Canonical fields the source must send, beyond eventId, orderId, customerId, status (always required). */
  required: string[];
  /** Canonical fields the source may leave out, with the value used instead (e.g. { occurredAt: 'receivedAt' }). */
  optional: Record<string, unknown>;
  /** Accepted time formats for occurredAt: 'iso8601' (always), 'iso8601-local' (no zone: taken as UTC), 'epoch-seconds', 'epoch-millis', 'rfc2822'. */
  timeFormats: string[];
}

/** A configured source, as the pipeline hands it to its adapter. */
export interface SourceConfig {
  sourceId: string;
  adapter: AdapterName;
  /** The shared secret webhooks are signed with (Shopify: the app's client secret); null when the source has none. */
  secret: string | null;
  profile: ValidationProfile;
  /** The source's own status words to Herald's statuses; a word mapped to null, or not mapped at all, is ignored. */
  statusMap: Record<string, OrderStatus | null>;
  /** The `mapping` adapter's field mapping (JSONata expressions per canonical field); null for other adapters. */
  mapping: Record<string, string> | null;
  enabled: boolean;
}

/** One request (or Kafka message) as it arrived. */
export interface RawSourceEvent {
  /** The exact bytes, for signature checks. */
  body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  payload: unknown;
  /** Lower-case header names (Kafka: the message headers). */
  headers: Record<string, string | undefined>;
}

/** The customer profile an event carries (Shopify sends email, phone, locale); the pipeline creates or refreshes it. */
export interface CustomerFromEvent {
  customerId: string;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  locale?: string;
  country?: string | null;
}

export type Normalised =
  | {
      kind: 'event';
      /** The source's own status word (e.g. `orders/paid`, `fulfillment_event:in_transit`): the status map turns it into a Herald status. */
      sourceStatus: string;
      /** Canonical fields as far as the adapter could fill them (not validated yet: the pipeline validates with the source's profile). */
      event: Record<string, unknown>;
      customer?: CustomerFromEvent;
    }
  /** Nothing to notify (a topic the adapter does not handle): recorded as ignored, never rejected. */
  | { kind: 'ignored'; reason: string; sourceStatus?: string; eventId?: string; orderId?: string };

export type Verification = { ok: true } | { ok: false; reason: string };

export interface SourceAdapter {
  name: AdapterName;
  /** The status map used when the source configures none, and under the source's own entries. */
  defaultStatusMap: Record<string, OrderStatus | null>;
  /** Checks the request's signature with the source's secret (constant time); a failure is a 401 and nothing is stored. */
  verify(source: SourceConfig, raw: RawSourceEvent): Verification;
  /**
   * A promise where the reading itself is asynchronous (JSONata evaluates asynchronously), still without I/O. A payload the
   * adapter cannot read at all throws a NormaliseFailure (api/sources/profile.ts), which the pipeline rejects with its reason.
   */
  normalise(source: SourceConfig, raw: RawSourceEvent): Normalised | Promise<Normalised>;
  /** The request headers normalise reads (lower-case), kept with a rejected event so its replay reads it the same way; unset: every x- header but signatures and keys. */
  replayHeaders?: readonly string[];
}
