// The intake pipeline every order source goes through (POST /v1/sources/{sourceId}/events, the Kafka consumer, a replay
// from the quarantine): the source's adapter reads the payload, its status map turns the source's word into a Herald
// status (or ignores the event), its profile fills defaults and normalises times, orderEventSchema checks the canonical
// event as POST /v1/order-events does, the customer the event carries is created or refreshed, then intake stores and
// signals it. What fails is kept as a rejected event (reject, the one writer of RejectedEvent), with a reason.
import { isOrderStatus, notificationKindFor } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { metrics, sourceLabel } from '../../lib/metrics';
import { fieldErrors, type FieldError } from '../errors';
import type { AcceptedEvent, Intake } from '../intake';
import { customerSchema, orderEventSchema, pathIdSchema } from '../schemas';
import type { CustomerFromEvent, RawSourceEvent, SourceAdapter, SourceConfig } from './adapter';
import { canonicalAdapter } from './canonical';
import { adapterOf } from './index';
import { applyProfile, CUSTOMER_FIELDS, NormaliseFailure } from './profile';
import { rejectionReason, type RejectionReason } from './rejections';

export type IngestVia = 'http' | 'kafka' | 'replay';

export type IngestOutcome =
  | { outcome: 'accepted'; accepted: AcceptedEvent }
  | { outcome: 'ignored'; ignoredEventId: string; reason: string }
  /** rejectedEventId is null for a replay: the quarantined row it came from records the new errors, no second row is kept. */
  | { outcome: 'rejected'; rejectedEventId: string | null; code: string; message: string; fields: FieldError[]; reason: RejectionReason };

export type RejectedOutcome = Extract<IngestOutcome, { outcome: 'rejected' }>;

/** Why an event with nothing to notify was ignored, besides an adapter's own reasons. */
export const IGNORE_REASONS = {
  /** The source's status map (over its adapter's defaults) has no entry for the word. */
  notMapped: 'status_not_mapped',
  /** The word is mapped to null: the source says it is nothing to notify. */
  mappedToNull: 'status_ignored',
} as const;

export interface RejectInput {
  /** The configured source; null for POST /v1/order-events and the canonical Kafka topic. */
  sourceId: string | null;
  /** The payload as it came (undefined or null: no JSON body). */
  payload: unknown;
  /** The request headers a replay needs (never a signature or a key). */
  headers?: Record<string, string> | null;
  code: string;
  message: string;
  fields: FieldError[];
  /** Default: rejectionReason(fields). */
  reason?: RejectionReason;
  /** The event's identity as far as it is known; default: the payload's own source, eventId, orderId and status. */
  summary?: { source?: unknown; eventId?: unknown; orderId?: unknown; status?: unknown };
}

export interface IngestOptions {
  /** Where a canonical event without a source came from, as the quarantine's `source` of a refusal (Kafka: `kafka:<topic>`). */
  origin?: string;
}

export interface SourcePipelineOptions {
  db: Db;
  intake: Pick<Intake, 'accept'>;
  logger: Logger;
  /** The clock of receivedAt defaults (tests may fix it). */
  now?: () => Date;
}

/** PostgreSQL cannot store U+0000 in text or jsonb: the kept copy of a rejected payload has U+FFFD instead. */
export function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(storable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)]));
  return value;
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
const text = (v: unknown) => (typeof v === 'string' ? (storable(v) as string).slice(0, 200) : null);
const jsonOrNull = (v: unknown) => (v === undefined || v === null ? Prisma.JsonNull : (storable(v) as Prisma.InputJsonValue));

/** What a source's configuration is for POST /v1/order-events' format without one: the canonical adapter, nothing mapped. */
const NO_SOURCE: SourceConfig = { sourceId: '', adapter: 'canonical', secret: null, profile: { required: [], optional: {}, timeFormats: ['iso8601'] }, statusMap: {}, mapping: null, enabled: true };

const SECRET_HEADER = /signature|hmac|authorization|cookie|token|secret|key/i;

/** The headers kept with a rejected event: those the adapter reads, or else every x- header but signatures and keys. */
export function replayHeaders(adapter: SourceAdapter, headers: RawSourceEvent['headers']): Record<string, string> | null {
  const keep = Object.entries(headers).filter(
    (entry): entry is [string, string] =>
      typeof entry[1] === 'string' && !SECRET_HEADER.test(entry[0]) && (adapter.replayHeaders ? adapter.replayHeaders.includes(entry[0]) : entry[0].startsWith('x-')),
  );
  return keep.length ? Object.fromEntries(keep) : null;
}

const customerProfileSchema = customerSchema.pick({ name: true, email: true, phone: true, locale: true, country: true });

/** The carried profile checked as PUT /v1/customers checks it; null fields are left out (an event never clears a field). */
function checkedCustomer(customer: CustomerFromEvent, customerId: string): { customerId: string; values: Record<string, string> } | FieldError[] {
  const id = pathIdSchema.safeParse(customer.customerId || customerId);
  const given = Object.fromEntries(CUSTOMER_FIELDS.flatMap((f) => (customer[f] === undefined || customer[f] === null ? [] : [[f, customer[f]]])));
  const parsed = customerProfileSchema.safeParse(given);
  const problems = [
    ...(id.success ? [] : [{ field: 'customer.customerId', reason: id.error.issues[0]!.message }]),
    ...(parsed.success ? [] : fieldErrors(parsed.error).map((f) => ({ ...f, field: `customer.${f.field}` }))),
  ];
  if (problems.length || !id.success || !parsed.success) return problems;
  const values = Object.fromEntries(Object.entries(parsed.data).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (values.locale) values.locale = Intl.getCanonicalLocales(values.locale)[0]!;
  return { customerId: id.data, values };
}

export function createSourcePipeline({ db, intake, logger, now = () => new Date() }: SourcePipelineOptions) {
  /** Keeps a refused event as a rejected event (the quarantine), counts it, and answers what a 400 carries. */
  async function reject(input: RejectInput): Promise<RejectedOutcome & { rejectedEventId: string }> {
    const payload = isObject(input.payload) ? input.payload : {};
    const summary = input.summary ?? payload;
    const status = text(summary.status);
    const reason = input.reason ?? (isObject(input.payload) || input.payload === undefined ? rejectionReason(input.fields) : 'not_json');
    // A source's retry of an event it already sent and Herald refused (Shopify retries every non-2xx for hours, Kafka
    // redelivers after a restart) is the same quarantined event: its open row takes the latest errors, no second row.
    const eventId = text(summary.eventId);
    if (input.sourceId && eventId) {
      const open = await db.rejectedEvent.findFirst({ where: { sourceId: input.sourceId, eventId, state: 'open' }, select: { id: true } });
      if (open) {
        await db.rejectedEvent.update({ where: { id: open.id }, data: { errors: storable(input.fields) as Prisma.InputJsonValue, reason, updatedAt: new Date() } });
        return { outcome: 'rejected', rejectedEventId: open.id, code: input.code, message: input.message, fields: input.fields, reason };
      }
    }
    const row = await db.rejectedEvent.create({
      data: {
        source: input.sourceId ?? text(summary.source),
        sourceId: input.sourceId,
        eventId: text(summary.eventId),
        orderId: text(summary.orderId),
        status,
        // Critical statuses are surfaced first to whoever fixes rejected events.
        critical: isOrderStatus(status) && notificationKindFor(status).priority === 'critical',
        payload: jsonOrNull(input.payload),
        errors: storable(input.fields) as Prisma.InputJsonValue,
        headers: input.headers ? (storable(input.headers) as Prisma.InputJsonValue) : Prisma.DbNull,
        reason,
      },
    });
    metrics.eventsRejected.inc({ source: sourceLabel(row.sourceId ?? row.source), reason, critical: String(row.critical) });
    return { outcome: 'rejected', rejectedEventId: row.id, code: input.code, message: input.message, fields: input.fields, reason };
  }

  /** Keeps an event with nothing to notify; a source's retry of one (the same eventId) is kept once and answers its id. */
  async function ignore(sourceId: string | null, fields: { eventId?: unknown; orderId?: unknown; sourceStatus?: unknown }, reason: string, payload: unknown): Promise<IngestOutcome> {
    const eventId = text(fields.eventId);
    const inserted = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO "IgnoredEvent" (id, "sourceId", "eventId", "orderId", "sourceStatus", reason, payload)
      VALUES (gen_random_uuid()::text, ${sourceId}, ${eventId}, ${text(fields.orderId)}, ${text(fields.sourceStatus)}, ${reason}, ${JSON.stringify(storable(payload ?? null))}::jsonb)
      ON CONFLICT ("sourceId", "eventId") DO NOTHING
      RETURNING id`;
    const id = inserted[0]?.id ?? (await db.ignoredEvent.findFirst({ where: { sourceId, eventId }, select: { id: true } }))!.id;
    return { outcome: 'ignored', ignoredEventId: id, reason };
  }

  /** The customer of the order's first event, for a source whose events after the first name only the order. */
  async function customerOfOrder(orderId: unknown): Promise<string | undefined> {
    if (typeof orderId !== 'string' || !orderId) return undefined;
    const rows = await db.$queryRaw<{ customerId: string }[]>`
      SELECT "customerId" FROM "OrderEvent" WHERE "orderId" = ${orderId} ORDER BY "receivedAt" LIMIT 1`;
    return rows[0]?.customerId;
  }

  /** Creates the customer or refreshes the fields the event gave; writes nothing when they are as stored (no row contention in a burst). */
  async function upsertCustomer(customerId: string, values: Record<string, string>): Promise<void> {
    const stored = await db.customer.findUnique({ where: { id: customerId }, select: { name: true, email: true, phone: true, locale: true, country: true } });
    if (stored && Object.entries(values).every(([k, v]) => stored[k as keyof typeof stored] === v)) return;
    await db.customer.upsert({ where: { id: customerId }, create: { id: customerId, ...values }, update: values }).catch(async (err: unknown) => {
      // Two first events of one new customer at once: the loser refreshes the row the winner created.
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') await db.customer.update({ where: { id: customerId }, data: values });
      else throw err;
    });
  }

  /**
   * One event through the pipeline. `source` null is the plain canonical format of POST /v1/order-events (no status map, no
   * profile, no carried customer defaults). A signature is the caller's to check first; an HttpError of intake (409) is thrown.
   */
  async function ingest(source: SourceConfig | null, raw: RawSourceEvent, via: IngestVia, options: IngestOptions = {}): Promise<IngestOutcome> {
    const adapter = source ? adapterOf(source.adapter) : canonicalAdapter;
    const sourceId = source?.sourceId ?? null;
    const headers = source ? replayHeaders(adapter, raw.headers) : null;
    // A body that is no JSON at all is kept as its text, so that whoever fixes it sees what came.
    const kept = raw.payload === undefined ? raw.body.toString('utf8') : raw.payload;
    let event: Record<string, unknown> = {};
    const refuse = async (fields: FieldError[], reason: RejectionReason): Promise<RejectedOutcome> => {
      const message = `invalid event: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`;
      if (via === 'replay') return { outcome: 'rejected', rejectedEventId: null, code: 'validation_failed', message, fields, reason };
      return reject({
        sourceId,
        payload: kept,
        headers,
        code: 'validation_failed',
        message,
        fields,
        reason,
        summary: source ? { ...event, source: sourceId } : { ...(isObject(raw.payload) ? raw.payload : {}), ...(options.origin ? { source: options.origin } : {}) },
      });
    };
    if (!isObject(raw.payload)) {
      return refuse([{ field: '(body)', reason: raw.payload === undefined ? 'is not JSON' : 'must be a JSON object' }], 'not_json');
    }
    const receivedAt = now();
    let normalised;
    try {
      normalised = await adapter.normalise(source ?? NO_SOURCE, raw);
    } catch (err) {
      if (err instanceof NormaliseFailure) return refuse(err.fields, err.reason);
      throw err;
    }
    if (normalised.kind === 'ignored') return ignore(sourceId, normalised, normalised.reason, raw.payload);
    event = { ...normalised.event };
    const customer = normalised.customer;
    try {
      if (source) {
        const word = normalised.sourceStatus;
        if (!word) {
          const absent = event.status === undefined || event.status === null;
          return await refuse([{ field: 'status', reason: absent ? 'is required' : "must be a string: the source's status word" }], absent ? 'missing_field' : 'invalid_field');
        }
        const statuses = { ...adapter.defaultStatusMap, ...source.statusMap };
        const status = Object.hasOwn(statuses, word) ? statuses[word] : undefined;
        if (!status) {
          return await ignore(sourceId, { ...event, sourceStatus: word }, status === null ? IGNORE_REASONS.mappedToNull : IGNORE_REASONS.notMapped, raw.payload);
        }
        event.status = status;
        event.source = source.sourceId;
        event = applyProfile(source.profile, event, customer as Record<string, unknown> | undefined, receivedAt);
        if (event.customerId === undefined || event.customerId === null || event.customerId === '') {
          const owner = await customerOfOrder(event.orderId);
          if (!owner) return await refuse([{ field: 'customerId', reason: 'is required: the order has no earlier event to take it from' }], 'missing_field');
          event.customerId = owner;
        }
      }
    } catch (err) {
      if (err instanceof NormaliseFailure) return refuse(err.fields, err.reason);
      throw err;
    }
    const parsed = orderEventSchema.safeParse(event);
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      return refuse(fields, rejectionReason(fields));
    }
    if (customer) {
      const checked = checkedCustomer(customer, parsed.data.customerId);
      if (Array.isArray(checked)) return refuse(checked, 'invalid_customer');
      await upsertCustomer(checked.customerId, checked.values);
    }
    const accepted = await intake.accept(parsed.data);
    metrics.eventsAccepted.inc({ source: sourceLabel(parsed.data.source), status: parsed.data.status, duplicate: String(accepted.duplicate) });
    if (via !== 'http') logger.debug({ via, sourceId, eventId: accepted.eventId, duplicate: accepted.duplicate }, 'source event accepted');
    return { outcome: 'accepted', accepted };
  }

  return { ingest, reject };
}

export type SourcePipeline = ReturnType<typeof createSourcePipeline>;
