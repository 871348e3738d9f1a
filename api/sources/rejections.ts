import type { FieldError } from '../errors';

/**
 * Why an event was quarantined, as a short code: the rejects metric counts by it (a bounded label set), and
 * `GET /v1/rejected-events?reason=` filters by it. The field errors themselves say exactly what was wrong.
 */
export const REJECTION_REASONS = [
  /** The body was not a JSON object. */
  'not_json',
  /** A field the source's profile requires was absent. */
  'missing_field',
  /** A field was present but wrong (type, format, length, an unknown Herald status after mapping). */
  'invalid_field',
  /** The source's mapping could not be evaluated on the payload. */
  'mapping_failed',
  /** The customer profile carried by the event was invalid. */
  'invalid_customer',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

const MISSING = /^(is required|required)/i;

/** The reason for a set of field errors: missing when every error is an absent field, invalid otherwise. */
export function rejectionReason(fields: readonly FieldError[]): RejectionReason {
  if (fields.length > 0 && fields.every((f) => MISSING.test(f.reason))) return 'missing_field';
  if (fields.some((f) => f.field.startsWith('customer.'))) return 'invalid_customer';
  return 'invalid_field';
}
