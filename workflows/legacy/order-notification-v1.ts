import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../../activities';
import {
  advance,
  capRulesFor,
  DEFAULT_ESCALATION_POLICY,
  DEFAULT_FREQUENCY_CAPS,
  describeCapRule,
  splitByQuietHours,
  type FrequencyCapRule,
  type Recipient,
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
} from '../../domain/index';
import {
  CONFIRMING_RECEIPTS,
  notificationReceiptSignal,
  orderEventSignal,
  orderStateQuery,
  searchAttributes,
  type EscalationRecord,
  type HeldView,
  type HoldReason,
  type NotificationState,
  type OrderState,
  type ProcessedEvent,
  type WaitingFor,
} from '../definitions';
import { deliveryActivities, describeFailure, failureType, isInvalidToken, type DeliveryOptions } from '../delivery';

// Database steps are short and local to the worker: local activities save a server round trip each,
// which is most of the cost of an event. Keep trying through a database outage rather than lose it.
const {
  loadOrderPosition,
  prepareNotification,
  prepareFallback,
  prepareDigest,
  recordUnsent,
  recordNotificationFailed,
  recordMessageFailed,
  recordDeadLetter,
  recordHold,
  recordReplaced,
  recordCapped,
  claimFrequencySlot,
} = proxyLocalActivities<Activities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['TemplateMissing'] },
  });

export interface LegacyOrderInput {
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
  /** Routine updates within this time of the last one sent go out together as one digest; '0' turns digests off. */
  digestWindow?: Duration;
  /** Per-customer caps per channel and category (HERALD_FREQUENCY_CAPS); critical events are never capped. */
  frequencyCaps?: FrequencyCapRule[];
  /** State carried across continue-as-new. */
  carried?: LegacyCarriedState;
}

/** One push, ready to go to some of the customer's devices. */
interface PushDelivery {
  event: OrderEvent;
  kind: NotificationKind;
  notificationId: string;
  message: PushMessage;
  devices: PushTarget[];
  customer: NonNullable<Recipient['customer']>;
  /** Title and body per device locale that differs from the customer's. */
  localized: Record<string, { title: string; body: string }>;
}

/** Pushes held back: until quiet hours end (the latest status only), or until a digest window closes (all of them). */
interface Hold {
  reason: HoldReason;
  until: string;
  items: PushDelivery[];
}

/** An escalation waiting for a push receipt. */
interface PendingEscalation {
  event: OrderEvent;
  kind: NotificationKind;
  notificationId: string;
  channels: FallbackChannel[];
  until: string;
}

export interface LegacyCarriedState {
  position: LifecyclePosition;
  pending: OrderEvent[];
  processed: ProcessedEvent[];
  seenEventIds: string[];
  completesAt: string | null;
  awaiting?: PendingEscalation | null;
  receipts?: Array<[string, string]>;
  quietHold?: Hold | null;
  digestHold?: Hold | null;
  lastRoutineSentAt?: number | null;
}

/**
 * Versioning: runs started before quiet hours, digests and frequency caps existed send every routine
 * update at once, as they did; `patched` keeps their histories replaying.
 */
const ROUTINE_HOLDS_PATCH = 'routine-holds-and-caps';

const KEEP_PROCESSED = 50;
const KEEP_SEEN_IDS = 500;
const KEEP_RECEIPTS = 50;
const CONTINUE_AS_NEW_AFTER_EVENTS = 200;
/** More Android devices than this for one customer go to FCM in one sendEach batch rather than one call each. */
const FCM_BATCH_FROM = 2;

/**
 * The order run as it was before channel plans (push first, email and SMS as fallbacks). Runs that
 * started on it finish on it: `orderNotificationWorkflow` hands them here (see its versioning note).
 * Remove once no run older than the channel-plans release is open (HERALD_ORDER_IDLE_TIMEOUT after it).
 */
export async function runLegacyOrder(input: LegacyOrderInput): Promise<OrderState> {
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
  let quietHold: Hold | null = input.carried?.quietHold ?? null;
  let digestHold: Hold | null = input.carried?.digestHold ?? null;
  /** When a routine push last went out: routine updates within the digest window of it are merged. */
  let lastRoutineSentAt: number | null = input.carried?.lastRoutineSentAt ?? null;
  const digestWindowMs = msToNumber(input.digestWindow ?? '2 minutes');
  const capRules = input.frequencyCaps ?? DEFAULT_FREQUENCY_CAPS;
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
    held: heldView(),
  }));

  function heldView(): HeldView[] {
    return [quietHold, digestHold]
      .filter((h): h is Hold => h !== null)
      .map((h) => ({
        reason: h.reason,
        until: h.until,
        notificationIds: h.items.map((i) => i.notificationId),
        eventIds: h.items.map((i) => i.event.eventId),
        devices: new Set(h.items.flatMap((i) => i.devices.map((d) => d.deviceId))).size,
      }));
  }

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
    patchRecord(eventId, { escalation });
  }

  function patchRecord(eventId: string, patch: Partial<ProcessedEvent>): void {
    processed = processed.map((p) => (p.eventId === eventId ? { ...p, ...patch } : p));
  }

  if (!input.carried) position = await loadOrderPosition(orderId);

  for (;;) {
    if (pending.length === 0 && (awaiting || quietHold || digestHold)) {
      // Something is due later: a receipt deadline, the end of quiet hours, a digest window.
      const current = awaiting;
      const deadlines = [current?.until, quietHold?.until, digestHold?.until].filter((d): d is string => d !== undefined).map((d) => Date.parse(d));
      const next = Math.min(...deadlines);
      describeWait();
      const receiptIn = () => current !== null && receipts.has(current.notificationId);
      await condition(() => pending.length > 0 || receiptIn(), Math.max(1, next - Date.now()));
      if (current && receiptIn()) {
        const receipt = receipts.get(current.notificationId)!;
        awaiting = null;
        if (CONFIRMING_RECEIPTS.has(receipt as never)) updateRecord(current.event.eventId, { status: 'confirmed', channels: current.channels });
        else await escalate(current.event, current.kind, current.channels, 'push_undelivered');
        continue;
      }
      if (pending.length > 0) continue; // the next event decides: a newer status supersedes
      const now = Date.now();
      if (digestHold && Date.parse(digestHold.until) <= now) await releaseDigest();
      if (quietHold && Date.parse(quietHold.until) <= now) await releaseQuietHold();
      if (awaiting && Date.parse(awaiting.until) <= now) {
        const due: PendingEscalation = awaiting;
        awaiting = null;
        await escalate(due.event, due.kind, due.channels, 'no_receipt');
      }
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
      await continueAsNew<typeof runLegacyOrder>({
        ...input,
        customerId,
        carried: { position, pending, processed, seenEventIds, completesAt, awaiting, receipts: [...receipts], quietHold, digestHold, lastRoutineSentAt },
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
    held: [],
  };

  function describeWait(): void {
    if (quietHold) {
      setNotificationState('waiting-quiet-hours', `Quiet hours: ${quietHold.items.map((i) => i.event.status).join(', ')} waits until ${quietHold.until}.`);
    } else if (digestHold) {
      setNotificationState('waiting-digest', `Digest: ${digestHold.items.map((i) => i.event.status).join(', ')} go together at ${digestHold.until}.`);
    } else if (awaiting) {
      setNotificationState(
        'awaiting-receipt',
        `Waiting until ${awaiting.until} for a receipt of ${awaiting.notificationId} (${awaiting.event.status}); then ${awaiting.channels.join(' and ')}.`,
      );
    }
  }

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
    const push: PushDelivery = { event, kind, notificationId, message, devices: prepared.devices, customer: prepared.recipient.customer!, localized: prepared.localized ?? {} };
    const announced = { ...base, disposition: 'announced' as const };

    if (kind.priority === 'critical') {
      // Critical: no quiet hours, no digest. Devices waiting for quiet hours to end get this newer
      // status instead of the old one; a pending digest goes now, ahead of it.
      if (quietHold) await supersede(quietHold, notificationId);
      quietHold = null;
      if (digestHold) await releaseDigest();
      return { ...announced, ...(await deliverNow(push)) };
    }

    if (!patched(ROUTINE_HOLDS_PATCH)) return { ...announced, ...(await deliverNow(push)) };
    // Routine: devices inside their quiet hours wait for the end (a newer status replaces what waits).
    const { awake, asleep, until } = splitByQuietHours(push.devices, push.customer, Date.now());
    let held: ProcessedEvent['held'];
    if (asleep.length > 0) {
      if (quietHold) await supersede(quietHold, notificationId);
      quietHold = { reason: 'quiet_hours', until: until!, items: [{ ...push, devices: asleep }] };
      held = { reason: 'quiet_hours', until: until! };
      await recordHold({ notificationId, reason: 'quiet_hours', until: until! });
    }
    if (awake.length === 0) return { ...announced, notificationStatus: 'queued', sentTo: 0, failedTo: 0, held };

    // Within the digest window of the last routine push: goes with the next digest.
    const now = Date.now();
    if (digestWindowMs > 0 && (digestHold || (lastRoutineSentAt !== null && now - lastRoutineSentAt < digestWindowMs))) {
      digestHold ??= { reason: 'digest', until: new Date(lastRoutineSentAt! + digestWindowMs).toISOString(), items: [] };
      digestHold.items.push({ ...push, devices: awake });
      await recordHold({ notificationId, reason: 'digest', until: digestHold.until });
      return { ...announced, notificationStatus: 'queued', sentTo: 0, failedTo: 0, held: { reason: 'digest', until: digestHold.until } };
    }
    return { ...announced, ...(await deliverNow({ ...push, devices: awake })), ...(held ? { held } : {}) };
  }

  /** Marks what a hold kept waiting as replaced by a newer notification; it will never go. */
  async function supersede(hold: Hold, by: string): Promise<void> {
    const ids = hold.items.map((i) => i.notificationId).filter((id) => id !== by);
    if (ids.length === 0) return;
    await recordReplaced({ notificationIds: ids, replacedBy: by, reason: 'superseded', priority: 'routine' });
    for (const item of hold.items) if (item.notificationId !== by) patchRecord(item.event.eventId, { notificationStatus: 'suppressed', suppressionReason: 'superseded', replacedBy: by });
  }

  /** Quiet hours are over for some devices: they get the latest waiting status now; the others wait on. */
  async function releaseQuietHold(): Promise<void> {
    const hold = quietHold!;
    const item = hold.items[0]!;
    const { awake, asleep, until } = splitByQuietHours(item.devices, item.customer, Date.now());
    quietHold = asleep.length > 0 ? { ...hold, until: until!, items: [{ ...item, devices: asleep }] } : null;
    if (awake.length === 0) return;
    const result = await deliverNow({ ...item, devices: awake });
    const { pendingEscalation, ...outcome } = result;
    patchRecord(item.event.eventId, outcome);
    if (pendingEscalation) await escalate(item.event, item.kind, pendingEscalation.channels, pendingEscalation.reason);
  }

  /** The digest window closed (or a critical event came): the held updates go as one message. */
  async function releaseDigest(): Promise<void> {
    const hold = digestHold!;
    digestHold = null;
    const [first] = hold.items;
    const latest = hold.items[hold.items.length - 1]!;
    if (hold.items.length === 1) {
      const { pendingEscalation, ...outcome } = await deliverNow(first!);
      patchRecord(first!.event.eventId, outcome);
      if (pendingEscalation) await escalate(first!.event, first!.kind, pendingEscalation.channels, pendingEscalation.reason);
      return;
    }
    // The first held notification carries the digest; the others are merged into it.
    const carrier = first!.notificationId;
    const digest = await prepareDigest({
      notificationId: carrier,
      event: latest.event,
      locale: latest.customer.locale,
      timeZone: latest.customer.timeZone,
      customerName: latest.customer.name,
      items: hold.items.map((i) => ({
        notificationId: i.notificationId,
        eventId: i.event.eventId,
        status: i.event.status,
        title: i.message.title,
        body: i.message.body,
        occurredAt: i.event.occurredAt,
      })),
    });
    const merged = hold.items.slice(1);
    await recordReplaced({ notificationIds: merged.map((i) => i.notificationId), replacedBy: carrier, reason: 'digest', priority: 'routine' });
    for (const item of merged) patchRecord(item.event.eventId, { notificationStatus: 'suppressed', suppressionReason: 'digest', replacedBy: carrier });
    const devices = [...new Map(hold.items.flatMap((i) => i.devices).map((d) => [d.deviceId, d])).values()];
    const message: PushMessage = {
      ...latest.message,
      notificationId: carrier,
      title: digest.title,
      body: digest.body,
      data: { ...latest.message.data, notificationId: carrier, type: 'order.digest', updates: hold.items.map((i) => i.event.status).join(',') },
    };
    const { pendingEscalation, ...outcome } = await deliverNow({ ...first!, message, devices });
    patchRecord(first!.event.eventId, outcome);
    if (pendingEscalation) await escalate(latest.event, latest.kind, pendingEscalation.channels, pendingEscalation.reason);
  }

  /**
   * Sends a push now: the frequency cap first (routine only), then every device, then the fallback
   * decision: escalate at once when nothing reached the customer, or wait for a receipt.
   */
  async function deliverNow(
    push: PushDelivery,
  ): Promise<Pick<ProcessedEvent, 'notificationStatus' | 'sentTo' | 'failedTo' | 'suppressionReason' | 'escalation'> & { pendingEscalation?: { channels: FallbackChannel[]; reason: EscalationReason } }> {
    const { event, kind, notificationId, message } = push;
    const rules = capRulesFor(capRules, 'push', kind);
    if (rules.length > 0 && patched(ROUTINE_HOLDS_PATCH)) {
      const slot = await claimFrequencySlot({
        notificationId,
        customerId: event.customerId,
        channel: 'push',
        rules: rules.map((r) => ({ category: r.category, limit: r.limit, windowSeconds: Math.round(msToNumber(r.window as Duration) / 1000), description: describeCapRule(r) })),
      });
      if (!slot.allowed) {
        await recordCapped({ notificationId, rule: slot.rule ?? 'frequency cap', priority: kind.priority });
        return { notificationStatus: 'suppressed', suppressionReason: 'frequency_cap', sentTo: 0, failedTo: 0 };
      }
    }
    setNotificationState('sending');
    const outcomes = await pushToDevices(event, notificationId, push.devices, message, push.localized);
    const sentTo = outcomes.filter((o) => o.status === 'sent').length;
    if (sentTo === 0) await recordNotificationFailed({ notificationId, priority: kind.priority, outcomes });
    const result = { notificationStatus: sentTo > 0 ? ('sent' as const) : ('failed' as const), sentTo, failedTo: outcomes.length - sentTo };
    const rule = escalationRuleFor(policy, kind);
    if (sentTo === 0) return { ...result, ...(rule.fallback.length > 0 ? { pendingEscalation: { channels: rule.fallback, reason: 'push_failed' as const } } : {}) };
    if (kind.priority !== 'critical') lastRoutineSentAt = Date.now();
    if (rule.receiptDeadline && rule.fallback.length > 0) {
      const until = new Date(Date.now() + msToNumber(rule.receiptDeadline as Duration)).toISOString();
      awaiting = { event, kind, notificationId, channels: rule.fallback, until };
      return { ...result, escalation: { status: 'awaiting-receipt', channels: rule.fallback, until } };
    }
    return result;
  }

  /** Pushes to every device: Android devices together in FCM batches, the others one activity each. */
  async function pushToDevices(
    event: OrderEvent,
    notificationId: string,
    devices: PushTarget[],
    baseMessage: PushMessage,
    localized: Record<string, { title: string; body: string }> = {},
  ): Promise<PushOutcome[]> {
    const localeOf = (target: PushTarget) => (target.locale && localized[target.locale] ? target.locale : '');
    const messageFor = (locale: string): PushMessage => (locale ? { ...baseMessage, ...localized[locale] } : baseMessage);
    const deadLetter = async (target: PushTarget, message: PushMessage, error: string) => {
      await recordDeadLetter({ notificationId, orderId: event.orderId, customerId: event.customerId, target, message, lastError: error });
    };
    // Android devices reading the same words go to FCM together; every other device on its own.
    const batches = new Map<string, PushTarget[]>();
    for (const d of devices.filter((d) => d.platform === 'android')) batches.set(localeOf(d), [...(batches.get(localeOf(d)) ?? []), d]);
    for (const [locale, group] of batches) if (group.length < FCM_BATCH_FROM) batches.delete(locale);
    const batched = new Set([...batches.values()].flat());

    const singles = devices
      .filter((d) => !batched.has(d))
      .map((target) => {
        const message = messageFor(localeOf(target));
        return delivery.sendPush
          .executeWithOptions(delivery.optionsOf('push', message.priority, `${label(target.platform)} push to device ${target.deviceId}: ${message.title}`), [
            { notificationId, target, message },
          ])
          .catch(async (err): Promise<PushOutcome> => {
            const error = describeFailure(err);
            // A dead token is handled (the device is retired); anything else that failed for good is kept for replay.
            if (!isInvalidToken(err)) await deadLetter(target, message, error);
            return { deviceId: target.deviceId, status: 'failed', provider: target.platform, error };
          });
      });
    const groups = [...batches].map(([locale, targets]) => {
      const message = messageFor(locale);
      return delivery.sendPushBatch
        .executeWithOptions(delivery.optionsOf('push', message.priority, `FCM batch push to ${targets.length} devices: ${message.title}`), [
          { notificationId, targets, message },
        ])
        .catch(async (err): Promise<PushOutcome[]> => {
          // The last attempt's outcomes ride on the failure: devices it could not reach become dead letters.
          const details = failureDetails(err);
          const outcomes: PushOutcome[] = targets.map(
            (t) => details.find((o) => o.deviceId === t.deviceId) ?? { deviceId: t.deviceId, status: 'failed', provider: 'fcm', error: describeFailure(err) },
          );
          for (const outcome of outcomes) {
            if (outcome.status === 'failed' && !outcome.error?.startsWith('InvalidDeviceToken')) {
              await deadLetter(targets.find((t) => t.deviceId === outcome.deviceId)!, message, outcome.error ?? describeFailure(err));
            }
          }
          return outcomes;
        });
    });
    const [singleOutcomes, batchOutcomes] = await Promise.all([Promise.all(singles), Promise.all(groups)]);
    return [...singleOutcomes, ...batchOutcomes.flat()];
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
        await delivery.sendEmail.executeWithOptions(delivery.optionsOf('email', kind.priority, `Email to ${prepared.address}: ${prepared.message.subject}`), [
          { ...common, message: prepared.message },
        ]);
      } else {
        await delivery.sendSms.executeWithOptions(delivery.optionsOf('sms', kind.priority, `SMS to ${prepared.address}`), [{ ...common, message: prepared.message }]);
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

