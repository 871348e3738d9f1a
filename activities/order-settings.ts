// The settings an order run follows (channel plans, retries, holds, caps), from the worker's own
// configuration: a run loads them when it starts, so its input holds only what identifies the order.
import type { Duration } from '@temporalio/common';
import type { ChannelPlans, EscalationPolicy, FrequencyCapRule } from '../domain';
import type { HeraldConfig } from '../lib/config';
import type { DeliveryOptions } from '../workflows/delivery';

/** What an order run needs of Herald's configuration; the workflow's defaults fill what is missing. */
export interface OrderSettings {
  /** How long a finished order (delivered, picked up, cancelled, refunded) still listens for a return or refund. */
  lingerAfterTerminal?: Duration;
  /** How long an order with no news keeps its run open; a later event starts a new run. */
  idleTimeout?: Duration;
  /** Retry policies and task queues per channel (HERALD_<CHANNEL>_RETRY_*). */
  delivery?: DeliveryOptions;
  /** Which channels carry each notification type, and which back them up (HERALD_CHANNEL_PLANS_FILE). */
  channelPlans?: ChannelPlans;
  /** Before channel plans, the fallback policy; used (as plans) only when no channelPlans are given. */
  escalation?: EscalationPolicy;
  /** Routine pushes and emails within this time of the last one sent go out together as one digest; '0' turns digests off. */
  digestWindow?: Duration;
  /** Per-customer caps per channel and category (HERALD_FREQUENCY_CAPS); critical events are never capped. */
  frequencyCaps?: FrequencyCapRule[];
}

/** The order settings of a configuration, as the API used to put them in every run's input. */
export function orderSettingsFrom(config: Pick<HeraldConfig, 'orderLinger' | 'orderIdleTimeout' | 'retry' | 'channelPlans' | 'digestWindow' | 'frequencyCaps'>): OrderSettings {
  return {
    lingerAfterTerminal: config.orderLinger as Duration,
    idleTimeout: config.orderIdleTimeout as Duration,
    delivery: { retry: config.retry },
    channelPlans: config.channelPlans,
    digestWindow: config.digestWindow as Duration,
    frequencyCaps: config.frequencyCaps,
  };
}

export function createOrderSettingsActivities(settings: OrderSettings) {
  return {
    /** The settings in force on this worker, read once at its start; each new run (and each continue-as-new) takes them. */
    async loadOrderSettings(): Promise<OrderSettings> {
      return settings;
    },
  };
}
