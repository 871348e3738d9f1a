// What one Kafka message becomes: the seam between the consumer (api/kafka/consumer.ts), which owns partitions, order,
// offsets and retries, and intake. The consumer only calls a KafkaIngest, which is the source pipeline (api/sources/pipeline.ts).
import type { KafkaConfig } from '../../lib/config';
import type { Db } from '../../lib/db';
import { HttpError, type FieldError } from '../errors';
import type { AcceptedEvent } from '../intake';
import { tooDeep, tooDeepError } from '../json-depth';
import type { RawSourceEvent, SourceConfig } from '../sources/adapter';
import { loadSource } from '../sources/config';
import { adapterOf } from '../sources/index';
import { replayHeaders, type SourcePipeline } from '../sources/pipeline';
import type { RejectionReason } from '../sources/rejections';

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

/**
 * The ingest the consumer runs with: every message goes through the source pipeline, as a request to
 * POST /v1/sources/{sourceId}/events would (without a signature: the broker's own authentication is the credential).
 * The canonical topic's messages are read as POST /v1/order-events' body and a refusal is kept with source `kafka:<topic>`;
 * a source topic's through its source's adapter, status map and profile. A source topic whose source is not configured
 * (or is disabled) is kept in quarantine, never retried for ever: configure the source, then replay.
 */
export function createKafkaIngest(_kafka: Pick<KafkaConfig, 'sourceTopics'>, { db, pipeline }: { db: Db; pipeline: Pick<SourcePipeline, 'ingest' | 'reject'> }): KafkaIngest {
  const origin = (route: KafkaTopicRoute) => kafkaRejectSource(route.topic);
  // A refusal keeps the message's source (configured or not yet) and the headers its adapter reads, so that once the
  // source is configured (or the fix made) the replay reads it exactly as it came.
  const keep = async (route: KafkaTopicRoute, source: SourceConfig | null, raw: RawSourceEvent, code: string, message: string, fields: FieldError[], reason: RejectionReason): Promise<KafkaOutcome> => {
    const payload = raw.payload === undefined ? raw.body.toString('utf8') : raw.payload;
    const body = (payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : {}) as Record<string, unknown>;
    const sourceId = route.sourceId;
    const headers = sourceId === null ? null : replayHeaders(adapterOf(source?.adapter ?? 'canonical'), raw.headers);
    return pipeline.reject({ sourceId, payload, headers, code, message, fields, reason, summary: { ...body, source: sourceId ?? origin(route) } });
  };
  return async (route, raw) => {
    const deep = tooDeep(raw.payload);
    if (deep) {
      // Kept as its text: a schema (or jsonb) walking it could run out of stack.
      const error = tooDeepError(deep);
      return keep(route, route.sourceId === null ? null : await loadSource(db, route.sourceId), { ...raw, payload: undefined }, error.code, error.message, error.fields ?? [], 'invalid_field');
    }
    let source: SourceConfig | null = null;
    if (route.sourceId !== null) {
      source = await loadSource(db, route.sourceId);
      if (!source || !source.enabled) {
        const reason = source ? 'is disabled' : 'is not configured';
        return keep(route, source, raw, source ? 'source_disabled' : 'source_not_found', `topic ${route.topic} is read through source ${route.sourceId}, which ${reason}`, [{ field: 'sourceId', reason: `source ${route.sourceId} ${reason}` }], 'invalid_field');
      }
    }
    try {
      const outcome = await pipeline.ingest(source, raw, 'kafka', { origin: origin(route) });
      if (outcome.outcome === 'rejected') return { ...outcome, rejectedEventId: outcome.rejectedEventId ?? '' };
      return outcome;
    } catch (err) {
      if (!isPermanentRefusal(err)) throw err;
      return keep(route, source, raw, err.code, err.message, err.fields ?? [], 'invalid_field');
    }
  };
}
