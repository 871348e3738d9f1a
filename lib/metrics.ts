// Herald's own Prometheus metrics (prom-client). The API and the worker each serve the ones they move.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'herald_' });

/** How many distinct order-event sources get a label of their own; every later one is counted as `other`. */
export const SOURCE_LABEL_CAP = 20;
export const OTHER_LABEL = 'other';

/**
 * A label whose values come from outside (an order event's free-text `source`) and so must stay bounded: the first
 * `cap` distinct values seen by this process keep their own value, every later one becomes `other`.
 */
export function boundedLabel(cap: number): (value: string | null | undefined) => string {
  const seen = new Set<string>();
  return (value) => {
    const v = value ?? 'unknown';
    if (seen.has(v)) return v;
    if (seen.size >= cap || v === OTHER_LABEL) return OTHER_LABEL;
    seen.add(v);
    return v;
  };
}

/** The `source` label of the intake counters: one of the first SOURCE_LABEL_CAP sources, or `other`. */
export const sourceLabel = boundedLabel(SOURCE_LABEL_CAP);

export const metrics = {
  eventsAccepted: new Counter({
    name: 'herald_order_events_accepted_total',
    help: 'Order events accepted by intake',
    labelNames: ['source', 'status', 'duplicate'] as const,
    registers: [registry],
  }),
  eventsRejected: new Counter({
    name: 'herald_order_events_rejected_total',
    help: 'Order events refused by validation and kept as rejected events, by source (bounded, as accepted events), reason (REJECTION_REASONS) and criticality',
    labelNames: ['source', 'reason', 'critical'] as const,
    registers: [registry],
  }),
  rejectedEventReplays: new Counter({
    name: 'herald_rejected_event_replays_total',
    help: 'Replays of rejected events, by outcome (accepted, ignored, rejected again)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  httpRequests: new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'API request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  rateLimited: new Counter({
    name: 'herald_http_rate_limited_total',
    help: 'Requests answered 429 because their budget was spent, by budget (key, intake, address)',
    labelNames: ['budget'] as const,
    registers: [registry],
  }),
  authCacheEntries: new Gauge({
    name: 'herald_auth_cache_entries',
    help: 'Valid API keys held in this process\'s authentication cache (unknown keys are never held)',
    registers: [registry],
  }),
  inboxStreamsOpen: new Gauge({
    name: 'herald_inbox_streams_open',
    help: 'Inbox streams (server-sent events) open on this API process',
    registers: [registry],
  }),
  notifications: new Counter({
    name: 'herald_notifications_total',
    help: 'Notifications by channel and outcome (sent, failed, suppressed with its reason)',
    labelNames: ['channel', 'priority', 'outcome', 'reason'] as const,
    registers: [registry],
  }),
  deliveryAttempts: new Counter({
    name: 'herald_delivery_attempts_total',
    help: 'Attempts to hand a message to a provider, by provider and outcome',
    labelNames: ['channel', 'provider', 'outcome', 'error_kind'] as const,
    registers: [registry],
  }),
  providerLatency: new Histogram({
    name: 'herald_provider_latency_seconds',
    help: 'Time a provider took to accept or refuse a message',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  deadLetters: new Counter({
    name: 'herald_dead_letters_total',
    help: 'Deliveries that failed after their retries (or were refused) and were kept for replay',
    labelNames: ['channel', 'provider'] as const,
    registers: [registry],
  }),
  receipts: new Counter({
    name: 'herald_receipts_total',
    help: 'Receipts recorded for notifications (delivered, opened, clicked, bounced, complained, failed), by where they came from',
    labelNames: ['type', 'source'] as const,
    registers: [registry],
  }),
  outboxRelayFailures: new Counter({
    name: 'herald_outbox_relay_failures_total',
    help: "Relay tries that failed, by outbox (order_events, product_events, receipts, cart_events, cart_orders) and why: the row's own (event) or Temporal not answering (temporal_unavailable)",
    labelNames: ['outbox', 'reason'] as const,
    registers: [registry],
  }),
  outboxStuckEvents: new Gauge({
    name: 'herald_outbox_stuck_events',
    help: 'Stored rows (events, receipts, orders owed to carts) the relay failed to hand to Temporal 3 or more times and still owes (database-wide, as of the last pass)',
    labelNames: ['outbox'] as const,
    registers: [registry],
  }),
  outboxOldestPendingSeconds: new Gauge({
    name: 'herald_outbox_oldest_pending_seconds',
    help: 'Age of the oldest stored row the relay still owes to Temporal (database-wide, as of the last pass; 0 when none)',
    labelNames: ['outbox'] as const,
    registers: [registry],
  }),
  kafkaConsumerLag: new Gauge({
    name: 'herald_kafka_consumer_lag',
    help: "Messages of a partition this process consumes that its group has not committed yet: the partition's end offset minus the group's committed offset",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
  }),
  kafkaMessages: new Counter({
    name: 'herald_kafka_messages_total',
    help: 'Kafka messages stored, by topic and outcome (accepted, duplicate, ignored, rejected: kept as a rejected event)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
  }),
  kafkaStoreFailures: new Counter({
    name: 'herald_kafka_store_failures_total',
    help: 'Tries to store a Kafka message that failed (the database did not answer); the message is tried again, never skipped',
    labelNames: ['topic'] as const,
    registers: [registry],
  }),
  kafkaConsumerConnected: new Gauge({
    name: 'herald_kafka_consumer_connected',
    help: '1 while the Kafka consumer is in its group and fetching, 0 while it connects or reconnects',
    registers: [registry],
  }),
  intakeBacklog: new Gauge({
    name: 'herald_intake_backlog',
    help: 'Order events stored but not yet signalled to their workflows (database-wide, as of the last relay pass, every 2 s): the intake backlog',
    registers: [registry],
  }),
  intakeSignalPool: new Gauge({
    name: 'herald_intake_signal_pool',
    help: "Stored order events in this API process's signalling pool, by state: queued (waiting for a slot) or in_flight (being signalled)",
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  intakeSignalsDeferred: new Counter({
    name: 'herald_intake_signals_deferred_total',
    help: 'Stored order events the signalling pool left to the relay, by why: queue_full, behind (an earlier event of the order is the relay\'s), failed (the event or one before it of its order), temporal_unavailable, stopping',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  devicesDeactivated: new Counter({
    name: 'herald_devices_deactivated_total',
    help: 'Device tokens deactivated, by why',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
};
