// What one Kafka message becomes: the seam between the consumer (api/kafka/consumer.ts), which owns partitions, order,
// offsets and retries, and intake. The consumer only calls a KafkaIngest; `createCanonicalKafkaIngest` is the one used
// until the source pipeline (api/sources/pipeline.ts) lands, and then `pipeline.ingest(source, raw, 'kafka')` replaces it.
import { isOrderStatus, notificationKindFor } from '../../domain';
import type { KafkaConfig } from '../../lib/config';
import { Prisma, type Db } from '../../lib/db';
import { metrics, sourceLabel } from '../../lib/metrics';
import { fieldErrors, HttpError, type FieldError } from '../errors';
import type { AcceptedEvent, Intake } from '../intake';
import { tooDeep, tooDeepError } from '../json-depth';
import { orderEventSchema } from '../schemas';
import type { RawSourceEvent } from '../sources/adapter';
import { rejectionReason, type RejectionReason } from '../sources/rejections';

/** Which topic a message came from and what it is read as: the canonical format (sourceId null) or a configured source's. */
export interface KafkaTopicRoute {
  topic: string;
  /** null: the canonical topic (HERALD_KAFKA_TOPIC); else the source of HERALD_KAFKA_SOURCE_TOPICS, read through its adapter. */
  sourceId: string | null;
}

/** The pipeline's outcome (design-11.md `IngestOutcome`): each one means the message's event is stored, and its offset may be committed. */
export type KafkaOutcome =
  | { outcome: 'accepted'; accepted: AcceptedEvent }
  | { outcome: 'ignored'; ignoredEventId: string; reason: string }
  | { outcome: 'rejected'; rejectedEventId: string; code: string; message: string; fields: FieldError[]; reason: string };

/**
 * Stores one message's event and says what became of it. It throws only when nothing could be stored (the database
 * is away): the consumer then tries the same message again and commits nothing past it. An event intake refuses for
 * good (a 4xx HttpError: another customer's order, an eventId used for another event) must come back as `rejected`,
 * kept in quarantine, never thrown: a thrown refusal would stop its partition for ever.
 */
export type KafkaIngest = (route: KafkaTopicRoute, raw: RawSourceEvent) => Promise<KafkaOutcome>;

/** A refusal that trying again cannot change (intake's 409s and 400s), as opposed to a store that failed (retry). */
export function isPermanentRefusal(err: unknown): err is HttpError {
  return err instanceof HttpError && err.status >= 400 && err.status < 500;
}

/** The RejectedEvent.source of a message kept from `topic`, so the quarantine can be filtered by where it came from. */
export const kafkaRejectSource = (topic: string): string => `kafka:${topic}`.slice(0, 200);

/** PostgreSQL cannot store U+0000 in text or jsonb: the kept copy of a rejected payload has U+FFFD instead. */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(storable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)]));
  return value;
}

/**
 * The ingest the consumer runs with. Until the source pipeline (api/sources/pipeline.ts) is merged, only the canonical
 * topic can be read, so source topics are refused at start-up. With it: a source topic's messages go through
 * `pipeline.ingest(<that source's SourceConfig>, raw, 'kafka')`, the canonical topic's through `pipeline.ingest(null, raw, 'kafka')`,
 * and a permanent refusal thrown by intake (isPermanentRefusal) is kept with `pipeline.reject(...)`.
 */
export function createKafkaIngest(kafka: Pick<KafkaConfig, 'sourceTopics'>, dependencies: { db: Db; intake: Pick<Intake, 'accept'> }): KafkaIngest {
  if (kafka.sourceTopics.length) {
    throw new Error(`HERALD_KAFKA_SOURCE_TOPICS (${kafka.sourceTopics.map((r) => r.topic).join(', ')}): topics read through a source's adapter need the source pipeline, which this build does not have yet`);
  }
  return createCanonicalKafkaIngest(dependencies);
}

/**
 * Until the source pipeline lands: the canonical topic only. A message is JSON of POST /v1/order-events' body, validated
 * with the same orderEventSchema and handed to intake.accept; anything else is kept as a RejectedEvent whose payload
 * is the message (its text when it is not JSON) and whose source is `kafka:<topic>`. A source topic is refused when the
 * consumer is built (api/server.ts), so this never sees one.
 */
export function createCanonicalKafkaIngest({ db, intake }: { db: Db; intake: Pick<Intake, 'accept'> }): KafkaIngest {
  async function reject(route: KafkaTopicRoute, raw: RawSourceEvent, code: string, message: string, fields: FieldError[], reason: RejectionReason): Promise<KafkaOutcome> {
    const body = (raw.payload && typeof raw.payload === 'object' && !Array.isArray(raw.payload) ? raw.payload : {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? (storable(v) as string).slice(0, 200) : null);
    const payload = raw.payload === undefined ? raw.body.toString('utf8') : raw.payload;
    const rejected = await db.rejectedEvent.create({
      data: {
        source: kafkaRejectSource(route.topic),
        eventId: text(body.eventId),
        orderId: text(body.orderId),
        status: text(body.status),
        critical: isOrderStatus(body.status) && notificationKindFor(body.status).priority === 'critical',
        payload: payload === null ? Prisma.JsonNull : (storable(payload) as Prisma.InputJsonValue),
        errors: storable(fields) as Prisma.InputJsonValue,
      },
    });
    metrics.eventsRejected.inc({ source: sourceLabel(rejected.source), critical: String(rejected.critical) });
    return { outcome: 'rejected', rejectedEventId: rejected.id, code, message, fields, reason };
  }

  return async (route, raw) => {
    if (route.sourceId !== null) throw new Error(`topic ${route.topic} is read through source ${route.sourceId}, and source adapters are not in this build`);
    if (raw.payload === null || typeof raw.payload !== 'object' || Array.isArray(raw.payload)) {
      const reason = raw.payload === undefined ? 'is not JSON' : 'must be a JSON object';
      return reject(route, raw, raw.payload === undefined ? 'invalid_json' : 'validation_failed', `message ${reason}`, [{ field: '(body)', reason }], 'not_json');
    }
    const deep = tooDeep(raw.payload);
    if (deep) {
      // Kept as its text: a schema (or jsonb) walking it could run out of stack.
      const error = tooDeepError(deep);
      return reject(route, { ...raw, payload: undefined }, error.code, error.message, error.fields ?? [], 'invalid_field');
    }
    const parsed = orderEventSchema.safeParse(raw.payload);
    if (!parsed.success) {
      const fields = fieldErrors(parsed.error);
      return reject(route, raw, 'validation_failed', `invalid event: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`, fields, rejectionReason(fields));
    }
    try {
      const accepted = await intake.accept(parsed.data);
      metrics.eventsAccepted.inc({ source: sourceLabel(parsed.data.source), status: parsed.data.status, duplicate: String(accepted.duplicate) });
      return { outcome: 'accepted', accepted };
    } catch (err) {
      if (!isPermanentRefusal(err)) throw err;
      return reject(route, raw, err.code, err.message, err.fields ?? [], 'invalid_field');
    }
  };
}
