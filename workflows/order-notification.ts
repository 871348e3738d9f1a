import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type * as activities from '../activities';
import {
  advance,
  dispositionOf,
  notificationKindFor,
  START_POSITION,
  TERMINAL_STATUSES,
  type LifecyclePosition,
  type OrderEvent,
  type PushOutcome,
} from '../domain/index';
import {
  orderEventSignal,
  orderStateQuery,
  searchAttributes,
  type NotificationState,
  type OrderState,
  type ProcessedEvent,
} from './definitions';

type Activities = ReturnType<typeof activities.createActivities>;

// Database steps are short and local to the worker: local activities save a server round trip each,
// which is most of the cost of an event. Keep trying through a database outage rather than lose it.
const { loadOrderPosition, prepareNotification, recordUnsent, recordNotificationFailed, recordDeadLetter } =
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['TemplateMissing'] },
  });

/** Retry policy of a push to one device; the API passes Herald's configuration in (HERALD_PUSH_RETRY_*). */
export interface PushRetry {
  initialInterval: Duration;
  maximumInterval: Duration;
  maximumAttempts: number;
}

export const DEFAULT_PUSH_RETRY: PushRetry = { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8 };

export function pushActivities(retry: PushRetry = DEFAULT_PUSH_RETRY) {
  return proxyActivities<Activities>({
    // Longer than a provider's own request timeout (10 s), short enough that a crashed worker's send is retried soon.
    startToCloseTimeout: '15 seconds',
    retry: { ...retry, backoffCoefficient: 2, nonRetryableErrorTypes: ['InvalidDeviceToken', 'PermanentProviderError'] },
  });
}

export interface OrderWorkflowInput {
  orderId: string;
  customerId: string;
  /** How long a finished order (delivered, cancelled, refunded) still listens for a late refund. */
  lingerAfterTerminal?: Duration;
  /** How long an order with no news keeps its run open; a later event starts a new run. */
  idleTimeout?: Duration;
  pushRetry?: PushRetry;
  /** State carried across continue-as-new. */
  carried?: CarriedState;
}

export interface CarriedState {
  position: LifecyclePosition;
  pending: OrderEvent[];
  processed: ProcessedEvent[];
  seenEventIds: string[];
  completesAt: string | null;
}

const KEEP_PROCESSED = 50;
const KEEP_SEEN_IDS = 500;
const CONTINUE_AS_NEW_AFTER_EVENTS = 200;

/** One run per order: receives its events as signals and notifies the customer of each, in order. */
export async function orderNotificationWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  const { orderId } = input;
  const { sendPush } = pushActivities(input.pushRetry);
  const lingerAfterTerminal = input.lingerAfterTerminal ?? '7 days';
  const idleTimeout = input.idleTimeout ?? '30 days';
  const pending: OrderEvent[] = [...(input.carried?.pending ?? [])];
  const seenEventIds: string[] = [...(input.carried?.seenEventIds ?? [])];
  const seen = new Set(seenEventIds);
  let processed: ProcessedEvent[] = [...(input.carried?.processed ?? [])];
  let position: LifecyclePosition = input.carried?.position ?? START_POSITION;
  let completesAt: string | null = input.carried?.completesAt ?? null;
  let notificationState: NotificationState = 'waiting-for-events';
  let customerId = input.customerId;
  let eventsThisRun = 0;

  setHandler(orderEventSignal, (event) => {
    // The API dedupes by event id too; this catches a re-sent signal for an event already queued.
    if (seen.has(event.eventId)) return;
    seen.add(event.eventId);
    seenEventIds.push(event.eventId);
    if (seenEventIds.length > KEEP_SEEN_IDS) seen.delete(seenEventIds.shift()!);
    pending.push(event);
  });

  setHandler(orderStateQuery, (): OrderState => ({
    orderId,
    customerId,
    lastStatus: position.status,
    position,
    notificationState,
    pending: pending.map(({ eventId, status, occurredAt }) => ({ eventId, status, occurredAt })),
    processed,
    completesAt,
  }));

  // Indexed only for states an order rests in; 'sending' lasts milliseconds and would cost a visibility write per event.
  let indexedState: NotificationState = 'waiting-for-events';
  function setNotificationState(state: NotificationState): void {
    notificationState = state;
    if (state === 'sending' || state === indexedState) return;
    indexedState = state;
    upsertIndexed({ key: searchAttributes.notificationState, value: state });
  }

  if (!input.carried) position = await loadOrderPosition(orderId);

  for (;;) {
    if (pending.length === 0) {
      const isTerminal = position.stage !== null && TERMINAL_STATUSES.has(position.stage);
      setNotificationState(isTerminal ? 'done' : 'idle');
      const waitFor = isTerminal && completesAt ? Math.max(0, Date.parse(completesAt) - Date.now()) : idleTimeout;
      const gotEvent = await condition(() => pending.length > 0, waitFor);
      if (!gotEvent) break;
    }
    const event = pending.shift()!;
    customerId = event.customerId;
    setNotificationState('sending');
    const record = await notify(event);
    processed = [...processed, record].slice(-KEEP_PROCESSED);
    eventsThisRun++;
    if (position.stage !== null && TERMINAL_STATUSES.has(position.stage) && record.disposition === 'announced') {
      completesAt = new Date(Date.now() + msToNumber(lingerAfterTerminal)).toISOString();
    }

    if (workflowInfo().continueAsNewSuggested || eventsThisRun >= CONTINUE_AS_NEW_AFTER_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof orderNotificationWorkflow>({
        ...input,
        customerId,
        carried: { position, pending, processed, seenEventIds, completesAt },
      });
    }
  }

  await condition(allHandlersFinished);
  return {
    orderId,
    customerId,
    lastStatus: position.status,
    position,
    notificationState: 'done',
    pending: [],
    processed,
    completesAt,
  };

  async function notify(event: OrderEvent): Promise<ProcessedEvent> {
    const kind = notificationKindFor(event.status);
    // Deterministic per event, so an event re-signalled into a later run maps to the same records.
    const notificationId = `${event.eventId}/push`;
    const base = { eventId: event.eventId, status: event.status, occurredAt: event.occurredAt, notificationId };

    if (dispositionOf(position, event.status, event.occurredAt) === 'out_of_order') {
      await recordUnsent({ notificationId, event, kind, outcome: { status: 'suppressed', reason: 'out_of_order' }, position: null });
      return { ...base, disposition: 'out_of_order', notificationStatus: 'suppressed', suppressionReason: 'out_of_order', sentTo: 0, failedTo: 0 };
    }

    position = advance(position, event.status, event.occurredAt);
    upsertIndexed({ key: searchAttributes.orderStatus, value: event.status });

    const prepared = await prepareNotification({ notificationId, event, kind, position });
    switch (prepared.outcome) {
      case 'already_processed':
        return { ...base, disposition: 'announced', notificationStatus: 'sent', sentTo: 0, failedTo: 0, duplicate: true };
      case 'suppressed':
        return { ...base, disposition: 'announced', notificationStatus: 'suppressed', suppressionReason: prepared.reason, sentTo: 0, failedTo: 0 };
      case 'failed':
        return { ...base, disposition: 'announced', notificationStatus: 'failed', sentTo: 0, failedTo: 0 };
    }

    const message = {
      notificationId,
      orderId: event.orderId,
      title: prepared.rendered.title,
      body: prepared.rendered.body,
      priority: kind.priority,
      collapseKey: `order-${event.orderId}`,
      data: { notificationId, orderId: event.orderId, status: event.status, type: kind.type },
    };
    const outcomes = await Promise.all(
      prepared.devices.map((target) =>
        sendPush({ notificationId, target, message }).catch(async (err): Promise<PushOutcome> => {
          const error = describeFailure(err);
          // A dead token is handled (the device is retired); anything else that failed for good is kept for replay.
          if (!isInvalidToken(err)) {
            await recordDeadLetter({ notificationId, orderId: event.orderId, customerId: event.customerId, target, message, lastError: error });
          }
          return { deviceId: target.deviceId, status: 'failed', provider: target.platform, error };
        }),
      ),
    );
    const sentTo = outcomes.filter((o) => o.status === 'sent').length;
    if (sentTo === 0) await recordNotificationFailed({ notificationId, priority: kind.priority, outcomes });
    return {
      ...base,
      disposition: 'announced',
      notificationStatus: sentTo > 0 ? 'sent' : 'failed',
      sentTo,
      failedTo: outcomes.length - sentTo,
    };
  }
}

/**
 * Upserts a search attribute only when the run was started with it (intake sets all four): a
 * namespace without Herald's attributes registered, such as the time-skipping test server's, would
 * otherwise fail every workflow task.
 */
function upsertIndexed(pair: { key: typeof searchAttributes.orderStatus; value: string }): void {
  if (workflowInfo().typedSearchAttributes.get(pair.key) === undefined) return;
  upsertSearchAttributes([pair]);
}

export function isInvalidToken(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidDeviceToken';
}

export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return `${err.cause.type ?? 'Error'}: ${err.cause.message}`;
  }
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
