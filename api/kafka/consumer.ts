// The Kafka intake: a consumer group member that reads order events from the canonical topic (and one topic per
// configured source), stores each message's event through a KafkaIngest, and commits a partition's offset only past
// messages whose event is stored.
//
// - Order: producers key messages by order id, so one order's events are in one partition, in order. Each partition's
//   messages are stored one after the other; partitions go side by side.
// - Nothing lost: a message whose store fails (the database is away) is tried again, with backoff, for as long as it
//   takes; its partition waits behind it and nothing past it is committed. A restart resumes at the committed offset.
// - Nothing twice: a message stored but not yet committed (a crash, a rebalance) comes again; intake finds its eventId
//   stored and notifies nothing again.
// - A message intake cannot take (not JSON, an invalid event) is stored too, as a rejected event: it never blocks.
import { parseShopifyJson } from '../sources/shopify';
import type { KafkaConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { metrics } from '../../lib/metrics';
import type { RawSourceEvent } from '../sources/adapter';
import { connectionOptions, loadKafka } from './client';
import type { KafkaIngest, KafkaOutcome, KafkaTopicRoute } from './ingest';

export interface KafkaIntakeOptions {
  config: KafkaConfig;
  ingest: KafkaIngest;
  logger: Logger;
  /** How often stored offsets are committed (and once more at shutdown). */
  commitIntervalMs?: number;
  /** How often the lag gauge is refreshed. */
  lagIntervalMs?: number;
  /** Messages taken from the stream but not yet stored, across partitions; the stream waits beyond it. */
  maxInFlight?: number;
  /** Backoff between tries of a message whose store failed, and between reconnections. */
  retry?: { initialMs: number; maxMs: number };
  /** The group's session timeout: how long a member that died (SIGKILL) keeps its partitions. */
  sessionTimeoutMs?: number;
}

export type KafkaIntakeStatus = 'connecting' | 'consuming' | 'reconnecting' | 'stopped';

export interface KafkaIntakeState {
  status: KafkaIntakeStatus;
  groupId: string;
  topics: string[];
  /** Partitions this process consumes, with their lag as last measured (null before the first measure). */
  partitions: Array<{ topic: string; partition: number; lag: number | null }>;
  /** Messages being tried again because their store failed. */
  retrying: number;
  lastError: string | null;
}

export interface KafkaIntake {
  state(): KafkaIntakeState;
  /** Stops taking messages, lets those being stored finish, commits what is stored, leaves the group. */
  close(): Promise<void>;
}

// Keys as text (the order id), values and headers as the bytes that came.
type Consumer = import('@platformatic/kafka').Consumer<string, Buffer, Buffer, Buffer>;
type Stream = import('@platformatic/kafka').MessagesStream<string, Buffer, Buffer, Buffer>;
type Message = import('@platformatic/kafka').Message<string, Buffer, Buffer, Buffer>;

const backoff = (attempt: number, { initialMs, maxMs }: { initialMs: number; maxMs: number }) =>
  Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20)) * (0.75 + Math.random() * 0.5);

/** A message as a source adapter takes a request: its bytes, its JSON (undefined when it is not JSON), its headers. */
export function rawKafkaEvent(message: { value?: Buffer | null; headers?: Map<Buffer | string | undefined, Buffer | string | undefined> }): RawSourceEvent {
  const body = message.value ?? Buffer.alloc(0);
  let payload: unknown;
  try {
    payload = parseShopifyJson(body); // integers past 2^53 (64-bit ids) kept exact, as strings
  } catch {
    payload = undefined;
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of message.headers ?? []) {
    if (name !== undefined) headers[name.toString().toLowerCase()] = value?.toString();
  }
  return { body, payload, headers };
}

/** One partition as this process consumes it. */
interface PartitionState {
  topic: string;
  partition: number;
  /** Each message is stored after the one before it. */
  chain: Promise<void>;
  /** The offset after the last message taken: a message below it was taken already (a refetch after a rebalance). */
  next: bigint | undefined;
  /** The last message whose event is stored, to commit. */
  stored: Message | undefined;
  /** The last message committed. */
  committed: Message | undefined;
  /** A store was given up (shutdown): nothing after it in this session may be stored before it is. */
  halted: boolean;
  lag: number | null;
}

/** Starts consuming in the background (it never throws: a broker that is away is retried) and returns its handle. */
export function startKafkaIntake(options: KafkaIntakeOptions): KafkaIntake {
  const { config, ingest, logger } = options;
  const retry = options.retry ?? { initialMs: 250, maxMs: 10_000 };
  const reconnect = { initialMs: 1_000, maxMs: 30_000 };
  const routes = new Map<string, KafkaTopicRoute>([[config.topic, { topic: config.topic, sourceId: null }]]);
  for (const { topic, sourceId } of config.sourceTopics) routes.set(topic, { topic, sourceId });
  const topics = [...routes.keys()];
  const log = logger.child({ component: 'kafka-intake', groupId: config.groupId });

  let status: KafkaIntakeStatus = 'connecting';
  let stopping = false;
  let lastError: string | null = null;
  let session: Session | undefined;
  let wakeUp: () => void = () => undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  class Session {
    consumer: Consumer | undefined;
    stream: Stream | undefined;
    closing = false;
    joined = false;
    readonly partitions = new Map<string, PartitionState>();
    private inFlight = 0;
    private capacity: (() => void) | undefined;
    private flushing: Promise<void> | undefined;
    private timers: NodeJS.Timeout[] = [];
    private readonly sleeps = new Set<() => void>();
    readonly retrying = new Set<string>();
    private readonly lagLabels = new Set<string>();

    async run(): Promise<void> {
      const kafka = await loadKafka();
      const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
      const consumer: Consumer = new kafka.Consumer<string, Buffer, Buffer, Buffer>({
        ...connectionOptions(config),
        groupId: config.groupId,
        // As Java's allow.auto.create.topics: a missing topic is created if the broker allows it (auto.create.topics.enable).
        autocreateTopics: true,
        sessionTimeout,
        rebalanceTimeout: sessionTimeout * 2,
        heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)),
        autocommit: false,
        deserializers: { key: kafka.stringDeserializer },
        maxWaitTime: 1_000,
        highWaterMark: 256,
      });
      this.consumer = consumer;
      consumer.on('consumer:group:join', () => {
        this.joined = true;
        log.info({ assignments: consumer.assignments }, 'joined the consumer group');
      });
      if (this.closing) return;
      const stream = await consumer.consume({ topics, mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      this.stream = stream;
      status = 'consuming';
      lastError = null;
      metrics.kafkaConsumerConnected.set(1);
      log.info({ topics, brokers: config.brokers }, 'consuming order events from Kafka');
      this.timers.push(setInterval(() => void this.flushCommits(), options.commitIntervalMs ?? 500));
      this.timers.push(setInterval(() => void this.measureLag(), options.lagIntervalMs ?? 2_000));
      for await (const message of stream) {
        if (this.closing) break;
        await this.take(message);
      }
    }

    private async take(message: Message): Promise<void> {
      const key = `${message.topic}:${message.partition}`;
      let p = this.partitions.get(key);
      if (!p) {
        p = { topic: message.topic, partition: message.partition, chain: Promise.resolve(), next: undefined, stored: undefined, committed: undefined, halted: false, lag: null };
        this.partitions.set(key, p);
      }
      if (p.next !== undefined && message.offset < p.next) return;
      p.next = message.offset + 1n;
      const partition = p;
      this.inFlight++;
      partition.chain = partition.chain
        .then(async () => {
          if (partition.halted) return;
          if (await this.store(message, key)) partition.stored = message;
          else partition.halted = true;
        })
        .finally(() => {
          this.inFlight--;
          this.capacity?.();
        });
      while (this.inFlight >= (options.maxInFlight ?? 500) && !this.closing) {
        await new Promise<void>((resolve) => (this.capacity = resolve));
      }
    }

    /** Stores one message's event, trying again until it is stored; false when given up because the session ends. */
    private async store(message: Message, key: string): Promise<boolean> {
      const route = routes.get(message.topic)!;
      const raw = rawKafkaEvent(message);
      const where = { topic: message.topic, partition: message.partition, offset: String(message.offset), key: message.key };
      for (let attempt = 0; ; attempt++) {
        if (this.closing) return false;
        let outcome: KafkaOutcome;
        try {
          outcome = await ingest(route, raw);
        } catch (err) {
          metrics.kafkaStoreFailures.inc({ topic: message.topic });
          this.retrying.add(key);
          const delay = Math.round(backoff(attempt, retry));
          if (attempt % 10 === 0) log.warn({ err, ...where, attempt: attempt + 1, retryInMs: delay }, 'could not store a Kafka message: trying it again (its partition waits behind it; nothing is skipped)');
          await this.sleep(delay);
          continue;
        }
        this.retrying.delete(key);
        const label = outcome.outcome === 'accepted' ? (outcome.accepted.duplicate ? 'duplicate' : 'accepted') : outcome.outcome;
        metrics.kafkaMessages.inc({ topic: message.topic, outcome: label });
        if (outcome.outcome === 'rejected') log.warn({ ...where, rejectedEventId: outcome.rejectedEventId, code: outcome.code, reason: outcome.reason }, 'Kafka message kept as a rejected event');
        if (attempt > 0) log.info({ ...where, attempts: attempt + 1 }, 'Kafka message stored after failed tries');
        return true;
      }
    }

    private sleep(ms: number): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.sleeps.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.sleeps.add(done);
      });
    }

    /** Commits, per partition, the offset after its last stored message. */
    flushCommits(): Promise<void> {
      this.flushing ??= (async () => {
        for (const p of this.partitions.values()) {
          const message = p.stored;
          if (!message || message === p.committed) continue;
          try {
            await message.commit();
            p.committed = message;
          } catch (err) {
            // Kept: the next flush tries again (a later message may replace it). A partition given to another member
            // meanwhile refuses it; that member then redelivers from the group's offset, and intake dedupes.
            log.warn({ err, topic: p.topic, partition: p.partition, offset: String(message.offset + 1n) }, 'could not commit a Kafka offset; will try again');
          }
        }
      })().finally(() => (this.flushing = undefined));
      return this.flushing;
    }

    /** herald_kafka_consumer_lag for the partitions this member consumes: end offset minus the group's committed offset. */
    private async measureLag(): Promise<void> {
      const consumer = this.consumer;
      if (!consumer || this.closing) return;
      const assigned = (consumer.assignments ?? []).filter((a) => a.partitions.length > 0);
      const labels = new Set<string>();
      try {
        if (assigned.length) {
          const names = assigned.map((a) => a.topic);
          const [ends, committed] = await Promise.all([consumer.listOffsets({ topics: names }), consumer.listCommittedOffsets({ topics: assigned })]);
          const starts = [...committed.values()].some((offsets) => offsets.some((o) => o < 0n)) ? await consumer.listOffsets({ topics: names, timestamp: -2n }) : undefined;
          for (const { topic, partitions } of assigned) {
            for (const partition of partitions) {
              const end = ends.get(topic)?.[partition];
              if (end === undefined) continue;
              let from = committed.get(topic)?.[partition] ?? -1n;
              if (from < 0n) from = starts?.get(topic)?.[partition] ?? 0n;
              const lag = Number(end > from ? end - from : 0n);
              metrics.kafkaConsumerLag.set({ topic, partition: String(partition) }, lag);
              labels.add(`${topic}\u0000${partition}`);
              const p = this.partitions.get(`${topic}:${partition}`);
              if (p) p.lag = lag;
            }
          }
        }
      } catch (err) {
        log.debug({ err }, 'could not measure the Kafka consumer lag');
        return;
      }
      for (const label of this.lagLabels) {
        if (labels.has(label)) continue;
        const [topic, partition] = label.split('\u0000') as [string, string];
        metrics.kafkaConsumerLag.remove({ topic, partition });
      }
      this.lagLabels.clear();
      for (const label of labels) this.lagLabels.add(label);
    }

    /** Ends the stream: the loop in run() returns. */
    async stopFetching(): Promise<void> {
      this.closing = true;
      this.capacity?.();
      for (const wake of [...this.sleeps]) wake();
      await this.stream?.close().catch(() => undefined);
    }

    /** After run() returned or threw: lets stores in progress finish (retries give up), commits what is stored, leaves. */
    async shutdown(): Promise<void> {
      await this.stopFetching();
      for (const timer of this.timers) clearInterval(timer);
      await Promise.all([...this.partitions.values()].map((p) => p.chain));
      await this.flushCommits();
      metrics.kafkaConsumerConnected.set(0);
      for (const label of this.lagLabels) {
        const [topic, partition] = label.split('\u0000') as [string, string];
        metrics.kafkaConsumerLag.remove({ topic, partition });
      }
      const consumer = this.consumer;
      if (consumer) {
        await new Promise<void>((resolve) =>
          consumer.close(true, (err) => {
            if (err) log.debug({ err }, 'closing the Kafka consumer failed');
            resolve();
          }),
        );
      }
    }
  }

  const running = (async () => {
    for (let attempt = 0; !stopping; attempt++) {
      if (session?.joined) attempt = 0;
      session = new Session();
      try {
        await session.run();
      } catch (err) {
        if (!stopping) {
          lastError = err instanceof Error ? err.message : String(err);
          log.warn({ err, attempt: attempt + 1 }, 'the Kafka consumer stopped; reconnecting');
        }
      } finally {
        await session.shutdown();
      }
      if (stopping) break;
      status = 'reconnecting';
      await pause(Math.round(backoff(attempt, reconnect)));
    }
    status = 'stopped';
  })();

  return {
    state() {
      const partitions = [...(session?.partitions.values() ?? [])].map((p) => ({ topic: p.topic, partition: p.partition, lag: p.lag }));
      return { status, groupId: config.groupId, topics, partitions, retrying: session?.retrying.size ?? 0, lastError };
    },
    async close() {
      stopping = true;
      wakeUp();
      await session?.stopFetching();
      await running;
    },
  };
}
