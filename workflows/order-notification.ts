import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import {
  advance,
  DEFAULT_ESCALATION_POLICY,
  dispositionOf,
  escalationRuleFor,
  notificationKindFor,
  START_POSITION,
  TERMINAL_STATUSES,
  type EscalationPolicy,
  type EscalationReason,
  type FallbackChannel,
  type LifecyclePosition,
  type NotificationKind,
  type OrderEvent,
  type Platform,
  type PushMessage,
  type PushOutcome,
  type PushTarget,
} from '../domain/index';
import {
  CONFIRMING_RECEIPTS,
  notificationReceiptSignal,
  orderEventSignal,
  orderStateQuery,
  searchAttributes,
  type EscalationRecord,
  type NotificationState,
  type OrderState,
  type ProcessedEvent,
  type WaitingFor,
} from './definitions';
import { deliveryActivities, describeFailure, failureType, isInvalidToken, type DeliveryOptions } from './delivery';

// Database steps are short and local to the worker: local activities save a server round trip each,
// which is most of the cost of an event. Keep trying through a database outage rather than lose it.
const { loadOrderPosition, prepareNotification, prepareFallback, recordUnsent, recordNotificationFailed, recordMessageFailed, recordDeadLetter } =
  proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['TemplateMissing'] },
  });

export interface OrderWorkflowInput {
  orderId: string;
  customerId: string;
  /** How long a finished order (delivered, cancelled, refunded) still listens for a late refund. */
  lingerAfterTerminal?: Duration;
  /** How long an order with no news keeps its run open; a later event starts a new run. */
  idleTimeout?: Duration;
  /** Retry policies and task queues per channel (HERALD_<CHANNEL>_RETRY_*). */
  delivery?: DeliveryOptions;
  /** Which channels back push up, and how long a push waits for its receipt (HERALD_ESCALATION_POLICY_FILE). */
  escalation?: EscalationPolicy;
  /** State carried across continue-as-new. */
  carried?: CarriedState;
}

/** An escalation waiting for a push receipt. */
interface PendingEscalation {
  event: OrderEvent;
  kind: NotificationKind;
  notificationId: string;
  channels: FallbackChannel[];
  until: string;
}

export interface CarriedState {
  position: LifecyclePosition;
  pending: OrderEvent[];
  processed: ProcessedEvent[];
  seenEventIds: string[];
  completesAt: string | null;
  awaiting?: PendingEscalation | null;
  receipts?: Array<[string, string]>;
}

const KEEP_PROCESSED = 50;
const KEEP_SEEN_IDS = 500;
const KEEP_RECEIPTS = 50;
const CONTINUE_AS_NEW_AFTER_EVENTS = 200;
/** More Android devices than this for one customer go to FCM in one sendEach batch rather than one call each. */
const FCM_BATCH_FROM = 2;

/** One run per order: receives its events as signals and notifies the customer of each, in order. */
export async function orderNotificationWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  const { orderId } = input;
  const delivery = deliveryActivities(input.delivery);
  const policy = input.escalation ?? DEFAULT_ESCALATION_POLICY;
  const lingerAfterTerminal = input.lingerAfterTerminal ?? '7 days';
  const idleTimeout = input.idleTimeout ?? '30 days';
  const pending: OrderEvent[] = [...(input.carried?.pending ?? [])];
  const seenEventIds: string[] = [...(input.carried?.seenEventIds ?? [])];
  const seen = new Set(seenEventIds);
  let processed: ProcessedEvent[] = [...(input.carried?.processed ?? [])];
  let position: LifecyclePosition = input.carried?.position ?? START_POSITION;
  let completesAt: string | null = input.carried?.completesAt ?? null;
  let awaiting: PendingEscalation | null = input.carried?.awaiting ?? null;
  /** The latest receipt type per notification of this order (bounded). */
  const receipts = new Map<string, string>(input.carried?.receipts ?? []);
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

  setHandler(notificationReceiptSignal, (receipt) => {
    // A confirming receipt is never overwritten by a later report (an open after a delivery says the same).
    const previous = receipts.get(receipt.notificationId);
    if (previous && CONFIRMING_RECEIPTS.has(previous as never) && !CONFIRMING_RECEIPTS.has(receipt.type)) return;
    receipts.delete(receipt.notificationId);
    receipts.set(receipt.notificationId, receipt.type);
    if (receipts.size > KEEP_RECEIPTS) receipts.delete(receipts.keys().next().value!);
  });

  const waitingFor = (): WaitingFor | null =>
    awaiting
      ? { kind: 'receipt', notificationId: awaiting.notificationId, eventId: awaiting.event.eventId, until: awaiting.until, then: awaiting.channels }
      : null;

  setHandler(orderStateQuery, (): OrderState => ({
    orderId,
    customerId,
    lastStatus: position.status,
    position,
    notificationState,
    pending: pending.map(({ eventId, status, occurredAt }) => ({ eventId, status, occurredAt })),
    processed,
    completesAt,
    waitingFor: waitingFor(),
  }));

  // Indexed only for states an order rests in; 'sending' lasts milliseconds and would cost a visibility write per event.
  let indexedState: NotificationState = 'waiting-for-events';
  function setNotificationState(state: NotificationState, details?: string): void {
    notificationState = state;
    if (details !== undefined) setCurrentDetails(details);
    if (state === 'sending' || state === indexedState) return;
    indexedState = state;
    upsertIndexed({ key: searchAttributes.notificationState, value: state });
  }

  function updateRecord(eventId: string, escalation: EscalationRecord): void {
    processed = processed.map((p) => (p.eventId === eventId ? { ...p, escalation } : p));
  }

  if (!input.carried) position = await loadOrderPosition(orderId);

  for (;;) {
    if (pending.length === 0 && awaiting) {
      const current: PendingEscalation = awaiting;
      setNotificationState(
        'awaiting-receipt',
        `Waiting until ${current.until} for a receipt of ${current.notificationId} (${current.event.status}); then ${current.channels.join(' and ')}.`,
      );
      const settled = () => receipts.has(current.notificationId);
      await condition(() => pending.length > 0 || settled(), Math.max(1, Date.parse(current.until) - Date.now()));
      const receipt = receipts.get(current.notificationId);
      if (receipt && CONFIRMING_RECEIPTS.has(receipt as never)) {
        awaiting = null;
        updateRecord(current.event.eventId, { status: 'confirmed', channels: current.channels });
        continue;
      }
      if (!receipt && pending.length > 0) continue; // the next event decides: a newer status supersedes
      awaiting = null;
      await escalate(current.event, current.kind, current.channels, receipt ? 'push_undelivered' : 'no_receipt');
      continue;
    }
    if (pending.length === 0) {
      const isTerminal = position.stage !== null && TERMINAL_STATUSES.has(position.stage);
      setNotificationState(isTerminal ? 'done' : 'idle', isTerminal ? `Order ${orderId} is ${position.status}; nothing more to send.` : `Waiting for order ${orderId}'s next status.`);
      const waitFor = isTerminal && completesAt ? Math.max(0, Date.parse(completesAt) - Date.now()) : idleTimeout;
      const gotEvent = await condition(() => pending.length > 0, waitFor);
      if (!gotEvent) break;
    }
    const event = pending.shift()!;
    customerId = event.customerId;
    if (awaiting && dispositionOf(position, event.status, event.occurredAt) === 'announce') {
      // The order moved on: the customer hears the newer status instead of a fallback about the old one.
      updateRecord(awaiting.event.eventId, { status: 'superseded', channels: awaiting.channels, until: awaiting.until });
      awaiting = null;
    }
    setNotificationState('sending');
    const { pendingEscalation, ...record } = await notify(event);
    processed = [...processed, record].slice(-KEEP_PROCESSED);
    eventsThisRun++;
    if (position.stage !== null && TERMINAL_STATUSES.has(position.stage) && record.disposition === 'announced') {
      completesAt = new Date(Date.now() + msToNumber(lingerAfterTerminal)).toISOString();
    }
    // Push did not reach the customer at all: the fallback channels go now.
    if (pendingEscalation) await escalate(event, notificationKindFor(event.status), pendingEscalation.channels, pendingEscalation.reason);

    if (workflowInfo().continueAsNewSuggested || eventsThisRun >= CONTINUE_AS_NEW_AFTER_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof orderNotificationWorkflow>({
        ...input,
        customerId,
        carried: { position, pending, processed, seenEventIds, completesAt, awaiting, receipts: [...receipts] },
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
    waitingFor: null,
  };

  async function notify(event: OrderEvent): Promise<ProcessedEvent & { pendingEscalation?: { channels: FallbackChannel[]; reason: EscalationReason } }> {
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
    const rule = escalationRuleFor(policy, kind);
    const fallback = (reason: EscalationReason) => (rule.fallback.length > 0 ? { pendingEscalation: { channels: rule.fallback, reason } } : {});

    const prepared = await prepareNotification({ notificationId, event, kind, position });
    switch (prepared.outcome) {
      case 'already_processed':
        return { ...base, disposition: 'announced', notificationStatus: 'sent', sentTo: 0, failedTo: 0, duplicate: true };
      case 'suppressed':
        // An unknown customer has no address either; otherwise push being unavailable is what fallback is for.
        return {
          ...base,
          disposition: 'announced',
          notificationStatus: 'suppressed',
          suppressionReason: prepared.reason,
          sentTo: 0,
          failedTo: 0,
          ...(prepared.reason === 'unknown_customer' ? {} : fallback('push_unavailable')),
        };
      case 'failed':
        return { ...base, disposition: 'announced', notificationStatus: 'failed', sentTo: 0, failedTo: 0, ...fallback('push_failed') };
    }

    const message: PushMessage = {
      notificationId,
      orderId: event.orderId,
      title: prepared.rendered.title,
      body: prepared.rendered.body,
      priority: kind.priority,
      collapseKey: `order-${event.orderId}`,
      data: { notificationId, orderId: event.orderId, status: event.status, type: kind.type },
    };
    const outcomes = await pushToDevices(event, notificationId, prepared.devices, message);
    const sentTo = outcomes.filter((o) => o.status === 'sent').length;
    if (sentTo === 0) await recordNotificationFailed({ notificationId, priority: kind.priority, outcomes });
    const record: ProcessedEvent = {
      ...base,
      disposition: 'announced',
      notificationStatus: sentTo > 0 ? 'sent' : 'failed',
      sentTo,
      failedTo: outcomes.length - sentTo,
    };
    if (sentTo === 0) return { ...record, ...fallback('push_failed') };
    if (rule.receiptDeadline && rule.fallback.length > 0) {
      const until = new Date(Date.now() + msToNumber(rule.receiptDeadline as Duration)).toISOString();
      awaiting = { event, kind, notificationId, channels: rule.fallback, until };
      return { ...record, escalation: { status: 'awaiting-receipt', channels: rule.fallback, until } };
    }
    return record;
  }

  /** Pushes to every device: Android devices together in FCM batches, the others one activity each. */
  async function pushToDevices(event: OrderEvent, notificationId: string, devices: PushTarget[], message: PushMessage): Promise<PushOutcome[]> {
    const android = devices.filter((d) => d.platform === 'android');
    const batched = android.length >= FCM_BATCH_FROM ? android : [];
    const single = devices.filter((d) => !batched.includes(d));
    const deadLetter = async (target: PushTarget, error: string) => {
      await recordDeadLetter({ notificationId, orderId: event.orderId, customerId: event.customerId, target, message, lastError: error });
    };
    const singles = single.map((target) =>
      delivery.sendPush
        .executeWithOptions({ ...delivery.optionsOf('push'), summary: `${label(target.platform)} push to device ${target.deviceId}: ${message.title}` }, [
          { notificationId, target, message },
        ])
        .catch(async (err): Promise<PushOutcome> => {
          const error = describeFailure(err);
          // A dead token is handled (the device is retired); anything else that failed for good is kept for replay.
          if (!isInvalidToken(err)) await deadLetter(target, error);
          return { deviceId: target.deviceId, status: 'failed', provider: target.platform, error };
        }),
    );
    const batch =
      batched.length === 0
        ? Promise.resolve<PushOutcome[]>([])
        : delivery.sendPushBatch
            .executeWithOptions({ ...delivery.optionsOf('push'), summary: `FCM batch push to ${batched.length} devices: ${message.title}` }, [
              { notificationId, targets: batched, message },
            ])
            .catch(async (err): Promise<PushOutcome[]> => {
              // The last attempt's outcomes ride on the failure: devices it could not reach become dead letters.
              const details = failureDetails(err);
              const outcomes: PushOutcome[] = batched.map(
                (t) => details.find((o) => o.deviceId === t.deviceId) ?? { deviceId: t.deviceId, status: 'failed', provider: 'fcm', error: describeFailure(err) },
              );
              for (const outcome of outcomes) {
                if (outcome.status === 'failed' && !outcome.error?.startsWith('InvalidDeviceToken')) {
                  await deadLetter(batched.find((t) => t.deviceId === outcome.deviceId)!, outcome.error ?? describeFailure(err));
                }
              }
              return outcomes;
            });
    const [singleOutcomes, batchOutcomes] = await Promise.all([Promise.all(singles), batch]);
    return [...singleOutcomes, ...batchOutcomes];
  }

  /** Sends the event on each fallback channel at most once, in parallel, and records what happened. */
  async function escalate(event: OrderEvent, kind: NotificationKind, channels: FallbackChannel[], reason: EscalationReason): Promise<void> {
    setNotificationState('escalating', `Escalating ${event.status} (${reason}) to ${channels.join(' and ')}.`);
    const results = await Promise.all(channels.map((channel) => sendFallback(event, kind, channel)));
    updateRecord(event.eventId, { status: 'escalated', channels, reason, results });
  }

  async function sendFallback(event: OrderEvent, kind: NotificationKind, channel: FallbackChannel): Promise<NonNullable<EscalationRecord['results']>[number]> {
    const notificationId = `${event.eventId}/${channel}`;
    const prepared = await prepareFallback({ notificationId, event, kind, channel });
    if (prepared.outcome === 'already_sent') return { channel, notificationId, outcome: 'already_sent' };
    if (prepared.outcome === 'suppressed') return { channel, notificationId, outcome: 'suppressed', detail: prepared.reason };
    if (prepared.outcome === 'failed') return { channel, notificationId, outcome: 'failed', detail: prepared.reason };
    const common = { notificationId, orderId: event.orderId, priority: kind.priority };
    try {
      if (prepared.channel === 'email') {
        await delivery.sendEmail.executeWithOptions({ ...delivery.optionsOf('email'), summary: `Email to ${prepared.address}: ${prepared.message.subject}` }, [
          { ...common, message: prepared.message },
        ]);
      } else {
        await delivery.sendSms.executeWithOptions({ ...delivery.optionsOf('sms'), summary: `SMS to ${prepared.address}` }, [{ ...common, message: prepared.message }]);
      }
      return { channel, notificationId, outcome: 'sent' };
    } catch (err) {
      const error = describeFailure(err);
      await recordMessageFailed({ notificationId, channel, priority: kind.priority, reason: error });
      // A refused address is the customer's data to fix; anything else that failed for good is kept for replay.
      if (failureType(err) !== 'InvalidRecipient') {
        const target = { channel, address: prepared.address } as const;
        await recordDeadLetter(
          prepared.channel === 'email'
            ? { notificationId, orderId: event.orderId, customerId: event.customerId, channel: 'email', target: { ...target, channel: 'email' }, message: prepared.message, lastError: error }
            : { notificationId, orderId: event.orderId, customerId: event.customerId, channel: 'sms', target: { ...target, channel: 'sms' }, message: prepared.message, lastError: error },
        );
      }
      return { channel, notificationId, outcome: 'failed', detail: error };
    }
  }
}

function label(platform: Platform): string {
  return platform === 'ios' ? 'APNs' : platform === 'android' ? 'FCM' : 'Web';
}

/** The per-device outcomes an FCM batch attaches to its final failure. */
function failureDetails(err: unknown): PushOutcome[] {
  const cause = (err as { cause?: { details?: unknown[] } }).cause;
  const details = cause?.details?.[0];
  return Array.isArray(details) ? (details as PushOutcome[]) : [];
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

