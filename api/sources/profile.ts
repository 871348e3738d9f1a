// Validation profiles: which canonical fields a source must send, which it may leave out (and what is used instead), and
// the time formats its occurredAt may come in, all applied to the adapter's canonical fields before orderEventSchema.
// Pure: the pipeline hands in the time the event was received.
import type { FieldError } from '../errors';
import type { RejectionReason } from './rejections';
import type { ValidationProfile } from './adapter';

/** The time formats a profile may tolerate besides ISO-8601 with a zone, which is always taken. */
export const TIME_FORMATS = ['iso8601', 'iso8601-local', 'epoch-seconds', 'epoch-millis', 'rfc2822'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** Fields every event needs whatever the profile says (customerId may also come from the order's first event). */
export const ALWAYS_REQUIRED = ['eventId', 'orderId', 'customerId', 'status'] as const;

/** The profile of a source that configures none, and of POST /v1/order-events: every field sent, ISO-8601 times only. */
export const STRICT_PROFILE: ValidationProfile = { required: [], optional: {}, timeFormats: ['iso8601'] };

/** The default of an optional field that stands for the time the event was received (`{ "occurredAt": "receivedAt" }`). */
export const RECEIVED_AT = 'receivedAt';

/** The customer profile fields an event may carry (api/sources/adapter.ts CustomerFromEvent). */
export const CUSTOMER_FIELDS = ['name', 'email', 'phone', 'locale', 'country'] as const;

/** A canonical field a profile may require: occurredAt, data (or one of its keys), the carried customer (or one of its fields). */
export const REQUIRABLE_FIELD = new RegExp(`^(occurredAt|data|data\\.[A-Za-z0-9_]{1,64}|customer|customer\\.(${CUSTOMER_FIELDS.join('|')}))$`);
export const REQUIRABLE_REASON = `must be occurredAt, data, data.<key>, customer or customer.<${CUSTOMER_FIELDS.join('|')}>`;
/** A canonical field a profile may let a source leave out. */
export const DEFAULTABLE_FIELD = /^(occurredAt|data|data\.[A-Za-z0-9_]{1,64})$/;
export const DEFAULTABLE_REASON = 'must be occurredAt, data or data.<key> (eventId, orderId, customerId and status are always sent)';

/** An event the pipeline cannot go on with: the reason for the quarantine, and the fields that say what was wrong. */
export class NormaliseFailure extends Error {
  constructor(
    readonly reason: RejectionReason,
    readonly fields: FieldError[],
  ) {
    super(fields.map((f) => `${f.field}: ${f.reason}`).join('; '));
    this.name = 'NormaliseFailure';
  }
}

const absent = (value: unknown): boolean => value === undefined || value === null || value === '';

/** The value at a dotted path of the event (`data.trackingNumber`). */
function at(event: Record<string, unknown>, path: string): unknown {
  let value: unknown = event;
  for (const key of path.split('.')) value = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function setAt(event: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = event;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node = next && typeof next === 'object' && !Array.isArray(next) ? (next as Record<string, unknown>) : (node[key] = {});
  }
  node[keys.at(-1)!] = value;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const ISO_LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d{1,9})?)?$/;
const EPOCH = /^-?\d{1,16}(\.\d+)?$/;
const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const RFC_2822 = new RegExp(`^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\\s*)?\\d{1,2}\\s+(?:${MONTHS})\\s+\\d{4}\\s+\\d{2}:\\d{2}(?::\\d{2})?\\s+(?:[+-]\\d{4}|UT|GMT|Z|[ECMP][SD]T)$`);
/** Epoch numbers this large are milliseconds when a profile takes both (1e11 seconds is the year 5138). */
const MILLIS_FROM = 1e11;

const isoOf = (ms: number): string | undefined => (Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined);

/**
 * occurredAt as ISO-8601 with a zone, from any of the tolerated formats: `iso8601` (with a zone: as it is), `iso8601-local`
 * (no zone: taken as UTC), `epoch-seconds` and `epoch-millis` (a number, or digits in a string; with both, 1e11 and above
 * are milliseconds), `rfc2822` (`Tue, 01 Dec 2026 09:30:00 +0000`). Undefined when the value is in none of them.
 */
export function normaliseTime(value: unknown, formats: readonly string[]): string | undefined {
  const allowed = new Set(formats);
  if (typeof value === 'string' && ISO_WITH_ZONE.test(value)) return value;
  if (typeof value === 'string' && allowed.has('iso8601-local')) {
    const local = ISO_LOCAL.exec(value);
    if (local) return `${local[1]}T${local[2]}${local[3] ?? ':00'}Z`;
  }
  const seconds = allowed.has('epoch-seconds');
  const millis = allowed.has('epoch-millis');
  if ((seconds || millis) && (typeof value === 'number' || (typeof value === 'string' && EPOCH.test(value)))) {
    const n = Number(value);
    const asMillis = millis && (!seconds || Math.abs(n) >= MILLIS_FROM);
    return isoOf(asMillis ? n : n * 1000);
  }
  if (typeof value === 'string' && allowed.has('rfc2822') && RFC_2822.test(value.trim())) return isoOf(Date.parse(value.trim()));
  return undefined;
}

function timeReason(formats: readonly string[]): string {
  const others = formats.filter((f) => f !== 'iso8601');
  const base = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z';
  return others.length ? `${base}, or in one of this source's formats: ${others.join(', ')}` : base;
}

/**
 * The profile applied to the adapter's canonical fields: defaults for the optional fields left out, occurredAt in ISO-8601,
 * and every required field present. Throws a NormaliseFailure (missing_field, or invalid_field for a time in no tolerated
 * format). customerId is left to the pipeline when absent (the order's first event may name it).
 */
export function applyProfile(
  profile: ValidationProfile,
  input: Record<string, unknown>,
  customer: Record<string, unknown> | undefined,
  receivedAt: Date,
): Record<string, unknown> {
  const event = structuredClone(input);
  for (const [field, value] of Object.entries(profile.optional)) {
    if (absent(at(event, field))) setAt(event, field, value === RECEIVED_AT ? receivedAt.toISOString() : structuredClone(value));
  }
  const missing: FieldError[] = [];
  for (const field of [...ALWAYS_REQUIRED.filter((f) => f !== 'customerId'), ...profile.required]) {
    const value = field === 'customer' ? customer : field.startsWith('customer.') ? customer?.[field.slice('customer.'.length)] : at(event, field);
    if (absent(value)) missing.push({ field, reason: "is required by this source's profile" });
  }
  if (missing.length) throw new NormaliseFailure('missing_field', missing.map((f) => (ALWAYS_REQUIRED.includes(f.field as never) ? { ...f, reason: 'is required' } : f)));
  if (!absent(event.occurredAt)) {
    const iso = normaliseTime(event.occurredAt, profile.timeFormats);
    // ISO-8601 only: orderEventSchema names what is wrong, in the words POST /v1/order-events answers.
    const strict = profile.timeFormats.every((f) => f === 'iso8601');
    if (iso === undefined && !strict) throw new NormaliseFailure('invalid_field', [{ field: 'occurredAt', reason: timeReason(profile.timeFormats) }]);
    if (iso !== undefined) event.occurredAt = iso;
  }
  return event;
}
