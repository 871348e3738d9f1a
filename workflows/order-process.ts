// The state of one order's notifications and the steps that move it: take an event, carry out its
// channel plan, hold what must wait, release what is due, and go to the backup channels when what
// went did not reach the customer. The workflow (order-notification.ts) only feeds it events,
// receipts and deadlines; every decision comes from domain/ (planStep, stepVerdict, dispositionOf).
import { patched, proxyLocalActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import type { OrderSettings } from '../activities/order-settings';
import type { PreparedDelivery } from '../activities/order-steps';
import {
  advance,
  DEFAULT_CHANNEL_PLANS,
  DEFAULT_FREQUENCY_CAPS,
  dispositionOf,
  notificationKindFor,
  planFor,
  plansFromEscalationPolicy,
  receiptDeadlineOf,
  splitByQuietHours,
  START_POSITION,
  stepVerdict,
  TERMINAL_STATUSES,
  type BackupReason,
  type Channel,
  type ChannelPlan,
  type ChannelPlans,
  type ChannelWindows,
  type DeliveryChannel,
  type FrequencyCapRule,
  type HoldReason,
  type LifecyclePosition,
  type NotificationKind,
  type NotificationStatus,
  type OrderEvent,
  type PlanRecipient,
  type StepMessage,
} from '../domain';
import { createChannelSender, type Sendable, type SendResult } from './channel-delivery';
import { Deadlines } from './deadlines';
import {
  CONFIRMING_RECEIPTS,
  searchAttributes,
  type DeliveryRecord,
  type EscalationRecord,
  type HeldView,
  type NotificationState,
  type OrderState,
  type ProcessedEvent,
  type ReceiptType,
} from './definitions';

// Database steps are short and local to the worker: a local activity saves a server round trip each.
// Keep trying through a database outage rather than lose the event.
const { loadOrderSettings, loadOrderPosition, prepareStep, recordUnsent, recordReplaced, prepareDigest } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['TemplateMissing'] },
});

/**
 * What identifies the order, and on continue-as-new the state carried over. New runs load their
 * settings from the worker (loadOrderSettings); runs started before that carry them here (the
 * OrderSettings fields) and keep using them.
 */
export interface OrderWorkflowInput extends OrderSettings {
  orderId: string;
  customerId: string;
  /** State carried across continue-as-new. */
  carried?: OrderSnapshot;
}

const SETTINGS_KEYS = ['lingerAfterTerminal', 'idleTimeout', 'delivery', 'channelPlans', 'escalation', 'digestWindow', 'frequencyCaps'] as const satisfies ReadonlyArray<keyof OrderSettings>;

/**
 * Versioning: a run whose input carries no settings loads them in a local activity; a history that
 * an older worker made from such an input (defaults, no activity) replays without it.
 */
const SETTINGS_ACTIVITY_PATCH = 'order-settings-activity';

/**
 * Versioning: the search attributes used to be upserted as each value changed (two or three upserts an event); runs
 * from this patch on gather them and upsert once, when the run next waits, and only what differs from the index.
 */
const ONE_UPSERT_PATCH = 'one-search-attribute-upsert-per-wait';

/** A message that waits (quiet hours, a digest window), ready to go as it is. */
interface HeldMessage extends Sendable {
  customer: NonNullable<PlanRecipient['customer']>;
}

interface Hold {
  channel: DeliveryChannel;
  reason: HoldReason;
  until: string;
  items: HeldMessage[];
}

/** One channel's message of an event, as the plan follows it. */
interface Message {
  channel: Channel;
  notificationId: string;
  step: number;
  status: StepMessage['state'];
  /** Parts still held (a push may wait for some devices and not others). */
  heldParts: number;
  receipt?: StepMessage['receipt'];
  reason?: string;
  held?: { reason: HoldReason; until: string };
  replacedBy?: string;
  sentTo?: number;
  failedTo?: number;
}

/** An announced event whose plan is still running: a message held, or a receipt awaited, or a backup to decide. */
interface PlanRun {
  event: OrderEvent;
  kind: NotificationKind;
  plan: ChannelPlan;
  /** The step now running: 0 is the plan's first channels, n the plan's n-th backup. */
  step: number;
  messages: Message[];
  awaitingUntil?: string;
  escalation?: EscalationRecord;
  /** Its update went in a newer message (superseded) or a digest: it ends, without backups, once nothing of it waits. */
  replaced?: boolean;
}

export interface OrderSnapshot {
  version: 2;
  position: LifecyclePosition;
  pending: OrderEvent[];
  processed: ProcessedEvent[];
  seenEventIds: string[];
  completesAt: string | null;
  holds: Hold[];
  runs: PlanRun[];
  windows: ChannelWindows;
  receipts: Array<[string, string]>;
  deadlines: Record<string, string>;
}

const KEEP_PROCESSED = 50;
const KEEP_SEEN_IDS = 500;
const KEEP_RECEIPTS = 50;
const CONTINUE_AS_NEW_AFTER_EVENTS = 200;
/** Receipts that say the message did not reach the customer. */
const NEGATIVE_RECEIPTS: ReadonlySet<string> = new Set<ReceiptType>(['bounced', 'failed']);

const holdKey = (channel: DeliveryChannel, reason: HoldReason) => `hold:${channel}:${reason}`;
const receiptKey = (eventId: string) => `receipt:${eventId}`;

export type Work = 'event' | 'receipt' | 'due' | 'finished';

export class OrderProcess {
  private readonly orderId: string;
  private customerId: string;
  // The settings, from the input or the worker once the run has begun.
  private plans: ChannelPlans = DEFAULT_CHANNEL_PLANS;
  private digestWindowMs = 0;
  private capRules: FrequencyCapRule[] = [];
  private lingerMs = 0;
  private idleMs = 0;
  private sender!: ReturnType<typeof createChannelSender>;
  private readonly fresh: boolean;

  private position: LifecyclePosition;
  private readonly pending: OrderEvent[];
  private processed: ProcessedEvent[];
  private readonly seenEventIds: string[];
  private readonly seen: Set<string>;
  private completesAt: string | null;
  private holds: Hold[];
  private runs: PlanRun[];
  private readonly windows: ChannelWindows;
  private readonly receipts: Map<string, string>;
  private readonly deadlines: Deadlines;
  private receiptsArrived = false;
  private eventsThisRun = 0;
  private state: NotificationState = 'waiting-for-events';
  private indexedState: NotificationState = 'waiting-for-events';
  /** Upsert once per wait (ONE_UPSERT_PATCH), or at once as older runs did. */
  private upsertOnWait = false;
  private readonly toIndex = new Map<string, { key: typeof searchAttributes.orderStatus; value: string }>();

  constructor(private readonly input: OrderWorkflowInput) {
    const carried = input.carried;
    this.orderId = input.orderId;
    this.customerId = input.customerId;
    this.fresh = !carried;
    this.position = carried?.position ?? START_POSITION;
    this.pending = [...(carried?.pending ?? [])];
    this.processed = [...(carried?.processed ?? [])];
    this.seenEventIds = [...(carried?.seenEventIds ?? [])];
    this.seen = new Set(this.seenEventIds);
    this.completesAt = carried?.completesAt ?? null;
    this.holds = carried?.holds ?? [];
    this.runs = carried?.runs ?? [];
    this.windows = carried?.windows ?? { lastRoutineSentAt: {}, openDigests: {} };
    this.receipts = new Map(carried?.receipts ?? []);
    this.deadlines = new Deadlines(carried?.deadlines, (name) => this.deadlineSummary(name));
    // Receipts carried over are looked at again, in case one came in just before the run continued as new.
    this.receiptsArrived = this.receipts.size > 0;
  }

  // ------------------------------------------------------------------------------- what comes in

  receive(event: OrderEvent): void {
    // The API dedupes by event id too; this catches a re-sent signal for an event already queued.
    if (this.seen.has(event.eventId)) return;
    this.seen.add(event.eventId);
    this.seenEventIds.push(event.eventId);
    if (this.seenEventIds.length > KEEP_SEEN_IDS) this.seen.delete(this.seenEventIds.shift()!);
    this.pending.push(event);
  }

  receiveReceipt(receipt: { notificationId: string; type: ReceiptType }): void {
    // A confirming receipt is never overwritten by a later report (an open after a delivery says the same).
    const previous = this.receipts.get(receipt.notificationId);
    if (previous && CONFIRMING_RECEIPTS.has(previous as ReceiptType) && !CONFIRMING_RECEIPTS.has(receipt.type)) return;
    this.receipts.delete(receipt.notificationId);
    this.receipts.set(receipt.notificationId, receipt.type);
    if (this.receipts.size > KEEP_RECEIPTS) this.receipts.delete(this.receipts.keys().next().value!);
    this.receiptsArrived = true;
  }

  // ------------------------------------------------------------------------------- the loop's steps

  /**
   * Takes the run's settings, then (a new order's run) starts where an earlier run of the same order
   * left it, so late events are still spotted.
   */
  async begin(): Promise<void> {
    this.upsertOnWait = patched(ONE_UPSERT_PATCH);
    const fromInput = SETTINGS_KEYS.some((key) => this.input[key] !== undefined) || !patched(SETTINGS_ACTIVITY_PATCH);
    this.use(fromInput ? this.input : await loadOrderSettings());
    // With the run id: an attempt of this first task that a dead worker cut off must not count (activities/recipient.ts).
    if (this.fresh) this.position = await loadOrderPosition(this.orderId, workflowInfo().runId);
  }

  private use(settings: OrderSettings): void {
    this.plans = settings.channelPlans ?? (settings.escalation ? plansFromEscalationPolicy(settings.escalation) : DEFAULT_CHANNEL_PLANS);
    this.digestWindowMs = msToNumber(settings.digestWindow ?? '2 minutes');
    this.capRules = settings.frequencyCaps ?? DEFAULT_FREQUENCY_CAPS;
    this.lingerMs = msToNumber(settings.lingerAfterTerminal ?? '7 days');
    this.idleMs = msToNumber(settings.idleTimeout ?? '30 days');
    this.sender = createChannelSender(settings.delivery);
  }

  /** Waits for the next thing to do: an event, a receipt, a deadline, or long enough without news to finish. */
  async next(): Promise<Work> {
    if (this.pending.length > 0) return 'event';
    if (this.receiptsArrived) return 'receipt';
    this.describeWait();
    const idle = this.deadlines.next() ? null : this.quietLimit();
    this.flushIndex();
    const outcome = await this.deadlines.wait(() => this.pending.length > 0 || this.receiptsArrived, idle);
    if (outcome === 'woken') return this.pending.length > 0 ? 'event' : 'receipt';
    return outcome === 'due' ? 'due' : 'finished';
  }

  async handle(work: Exclude<Work, 'finished'>): Promise<void> {
    if (work === 'event') await this.takeEvent(this.pending.shift()!);
    else if (work === 'receipt') await this.takeReceipts();
    else await this.takeDeadlines();
  }

  shouldContinueAsNew(): boolean {
    return workflowInfo().continueAsNewSuggested || this.eventsThisRun >= CONTINUE_AS_NEW_AFTER_EVENTS;
  }

  snapshot(): OrderSnapshot {
    return {
      version: 2,
      position: this.position,
      pending: this.pending,
      processed: this.processed,
      seenEventIds: this.seenEventIds,
      completesAt: this.completesAt,
      holds: this.holds,
      runs: this.runs,
      windows: this.windows,
      receipts: [...this.receipts],
      deadlines: this.deadlines.snapshot(),
    };
  }

  /** The next run's input: the order and its state, never the settings (the next run loads the worker's). */
  continuation(): OrderWorkflowInput {
    // The next run starts with this run's search attributes: they must be current.
    this.flushIndex();
    return { orderId: this.orderId, customerId: this.customerId, carried: this.snapshot() };
  }

  view(): OrderState {
    const awaiting = this.runs.find((r) => r.awaitingUntil);
    const backup = awaiting ? awaiting.plan.then[awaiting.step] : undefined;
    return {
      orderId: this.orderId,
      customerId: this.customerId,
      lastStatus: this.position.status,
      position: this.position,
      notificationState: this.state,
      pending: this.pending.map(({ eventId, status, occurredAt }) => ({ eventId, status, occurredAt })),
      processed: this.processed,
      completesAt: this.completesAt,
      waitingFor:
        awaiting && backup
          ? { kind: 'receipt', notificationId: this.primary(awaiting.messages.filter((m) => m.step === awaiting.step))?.notificationId ?? '', eventId: awaiting.event.eventId, until: awaiting.awaitingUntil!, then: backup.channels }
          : null,
      held: this.holds.map(
        (h): HeldView => ({
          channel: h.channel,
          reason: h.reason,
          until: h.until,
          notificationIds: h.items.map((i) => i.notificationId),
          eventIds: h.items.map((i) => i.event.eventId),
          devices: new Set(h.items.flatMap((i) => (i.outbound.channel === 'push' ? i.outbound.devices.map((d) => d.deviceId) : []))).size,
        }),
      ),
    };
  }

  finalState(): OrderState {
    return { ...this.view(), notificationState: 'done', pending: [], waitingFor: null, held: [] };
  }

  // ------------------------------------------------------------------------------- an event

  private async takeEvent(event: OrderEvent): Promise<void> {
    this.customerId = event.customerId;
    this.eventsThisRun++;
    const kind = notificationKindFor(event.status);
    const plan = planFor(this.plans, kind);
    const primaryId = `${event.eventId}/${plan.channels.find((c) => c !== 'inapp') ?? plan.channels[0] ?? 'push'}`;
    const base = { eventId: event.eventId, status: event.status, occurredAt: event.occurredAt, notificationId: primaryId };

    if (dispositionOf(this.position, event.status, event.occurredAt) === 'out_of_order') {
      await recordUnsent({ notificationId: primaryId, event, kind, outcome: { status: 'suppressed', reason: 'out_of_order' }, position: null });
      this.remember({ ...base, disposition: 'out_of_order', notificationStatus: 'suppressed', suppressionReason: 'out_of_order', sentTo: 0, failedTo: 0 });
      return;
    }
    this.position = advance(this.position, event.status, event.occurredAt);
    this.index(searchAttributes.orderStatus, event.status);
    this.setState('sending');

    const prepared = await prepareStep({
      event,
      kind,
      step: 0,
      channels: plan.channels,
      planChannels: [...plan.channels, ...plan.then.flatMap((s) => s.channels)],
      position: this.position,
      runId: workflowInfo().runId,
      now: new Date().toISOString(),
      digestWindowMs: this.digestWindowMs,
      windows: this.windows,
      capRules: this.capRules,
    });
    if (prepared.outcome === 'already_processed') {
      this.remember({ ...base, disposition: 'announced', notificationStatus: 'sent', sentTo: 0, failedTo: 0, duplicate: true });
      return;
    }
    // The order moved on: nobody waits for a receipt about an older status any more.
    for (const run of this.runs.filter((r) => r.awaitingUntil)) this.closeRun(run, 'superseded');
    if (kind.priority === 'critical') {
      // Critical: a pending digest goes now, ahead of it; what waits for quiet hours on a channel this
      // update takes is replaced by it (a channel it does not take keeps what waits there).
      for (const hold of this.holds.filter((h) => h.reason === 'digest')) await this.release(hold);
      const takes = new Set(prepared.deliveries.filter((d) => d.decision.action === 'send' || d.decision.action === 'hold').map((d) => d.channel));
      for (const hold of this.holds.filter((h) => h.reason === 'quiet_hours' && takes.has(h.channel))) await this.supersede(hold, `${event.eventId}/${hold.channel}`);
    }
    const run: PlanRun = { event, kind, plan, step: 0, messages: [] };
    this.runs.push(run);
    await this.carryOut(run, prepared.deliveries, prepared.customer);
    this.remember({ ...base, disposition: 'announced', notificationStatus: 'queued', sentTo: 0, failedTo: 0 });
    this.refreshRecord(run);
    if (this.position.stage !== null && TERMINAL_STATUSES.has(this.position.stage)) {
      this.completesAt = new Date(Date.now() + this.lingerMs).toISOString();
    }
    await this.advanceRun(run);
  }

  /** Does what a prepared step decided: records what could not go, holds what must wait, sends the rest together. */
  private async carryOut(run: PlanRun, deliveries: PreparedDelivery[], customer: PlanRecipient['customer']): Promise<void> {
    const sends: Array<Promise<void>> = [];
    for (const delivery of deliveries) {
      const message = this.messageOf(run, delivery.notificationId, delivery.channel);
      const decision = delivery.decision;
      switch (decision.action) {
        case 'suppress':
          Object.assign(message, { status: 'skipped', reason: decision.reason });
          break;
        case 'failed':
          Object.assign(message, { status: 'failed', reason: decision.reason });
          break;
        case 'written':
        case 'already_sent':
          message.status = 'sent';
          if (decision.action === 'already_sent') message.reason = 'already_sent';
          break;
        case 'hold':
          if ('outbound' in delivery) await this.hold(run, message, { ...this.sendable(run, delivery), customer: customer! }, decision.reason, decision.until);
          break;
        case 'send':
          if ('outbound' in delivery) sends.push(this.sendNow(run, message, this.sendable(run, delivery)));
          break;
      }
    }
    await Promise.all(sends);
    this.refreshRecord(run);
  }

  private sendable(run: PlanRun, delivery: Extract<PreparedDelivery, { outbound: unknown }>): Sendable {
    return { notificationId: delivery.notificationId, event: run.event, kind: run.kind, outbound: delivery.outbound, caps: delivery.decision.caps };
  }

  private async sendNow(run: PlanRun, message: Message, item: Sendable): Promise<void> {
    const result = await this.sender.send(item);
    this.settle(message, result);
    if (result.state === 'sent' && run.kind.priority !== 'critical') this.windows.lastRoutineSentAt[item.outbound.channel] = Date.now();
  }

  private settle(message: Message, result: SendResult): void {
    message.sentTo = (message.sentTo ?? 0) + result.sentTo;
    message.failedTo = (message.failedTo ?? 0) + result.failedTo;
    if (message.status === 'sent') return;
    if (result.state === 'sent') {
      message.status = 'sent';
      delete message.reason;
    } else if (message.heldParts === 0) {
      message.status = result.state === 'capped' ? 'capped' : 'failed';
      message.reason = result.state === 'capped' ? `frequency_cap: ${result.detail}` : result.detail;
    }
  }

  // ------------------------------------------------------------------------------- holds

  private async hold(run: PlanRun, message: Message, item: HeldMessage, reason: HoldReason, until: string): Promise<void> {
    const channel = item.outbound.channel;
    let hold = this.holds.find((h) => h.channel === channel && h.reason === reason);
    // Quiet hours keep only the latest status per channel: a newer one replaces what waits.
    if (hold && reason === 'quiet_hours') {
      await this.supersede(hold, item.notificationId);
      hold = undefined;
    }
    if (!hold) {
      hold = { channel, reason, until, items: [] };
      this.holds.push(hold);
      this.deadlines.set(holdKey(channel, reason), until);
      if (reason === 'digest') this.windows.openDigests[channel] = until;
    }
    hold.items.push(item);
    message.heldParts++;
    message.held = { reason, until: hold.until };
    if (message.status !== 'sent') message.status = 'pending';
  }

  /** What a hold kept waiting will never go: a newer notification went instead. */
  private async supersede(hold: Hold, by: string): Promise<void> {
    this.dropHold(hold);
    const replaced = hold.items.filter((i) => i.notificationId !== by);
    if (replaced.length === 0) return;
    await recordReplaced({ notificationIds: replaced.map((i) => i.notificationId), replacedBy: by, reason: 'superseded', priority: 'routine', channel: hold.channel });
    for (const item of replaced) {
      const run = this.runOf(item.event.eventId);
      if (!run) continue;
      const message = this.messageOf(run, item.notificationId, hold.channel);
      message.heldParts = Math.max(0, message.heldParts - 1);
      if (message.status !== 'sent') Object.assign(message, { status: 'skipped', reason: 'superseded', replacedBy: by });
      run.replaced = true;
      this.refreshRecord(run);
      await this.advanceRun(run);
    }
  }

  /** The end of a hold: quiet hours over (for some devices, perhaps), or a digest window closed. */
  private async release(hold: Hold): Promise<void> {
    this.dropHold(hold);
    if (hold.reason === 'quiet_hours') {
      for (const item of hold.items) await this.releaseQuiet(hold, item);
    } else {
      await this.releaseDigest(hold);
    }
    if (hold.reason === 'digest') delete this.windows.openDigests[hold.channel];
  }

  private async releaseQuiet(hold: Hold, item: HeldMessage): Promise<void> {
    const run = this.runOf(item.event.eventId);
    if (item.outbound.channel === 'push') {
      // Devices still inside their own quiet hours wait on.
      const { awake, asleep, until } = splitByQuietHours(item.outbound.devices, item.customer, Date.now());
      if (asleep.length > 0) {
        const rest: Hold = { ...hold, until: until!, items: [{ ...item, outbound: { ...item.outbound, devices: asleep } }] };
        this.holds.push(rest);
        this.deadlines.set(holdKey(hold.channel, hold.reason), rest.until);
        if (run) this.messageOf(run, item.notificationId, 'push').held = { reason: 'quiet_hours', until: rest.until };
      }
      if (awake.length === 0) return;
      item = { ...item, outbound: { ...item.outbound, devices: awake } };
      if (asleep.length > 0 && run) this.messageOf(run, item.notificationId, 'push').heldParts++;
    }
    await this.sendReleased(run, item);
  }

  /** One update alone goes as it is; several go as one digest, carried by the first one's notification. */
  private async releaseDigest(hold: Hold): Promise<void> {
    const [first, ...merged] = hold.items;
    if (!first) return;
    if (merged.length === 0) return this.sendReleased(this.runOf(first.event.eventId), first);
    const latest = hold.items[hold.items.length - 1]!;
    const digest = await prepareDigest({
      notificationId: first.notificationId,
      event: latest.event,
      locale: latest.customer.locale,
      timeZone: latest.customer.timeZone,
      customerName: latest.customer.name,
      channel: hold.channel === 'email' ? 'email' : 'push',
      items: hold.items.map((i) => ({ notificationId: i.notificationId, eventId: i.event.eventId, status: i.event.status, ...wordsOf(i), occurredAt: i.event.occurredAt })),
    });
    await recordReplaced({ notificationIds: merged.map((i) => i.notificationId), replacedBy: first.notificationId, reason: 'digest', priority: 'routine', channel: hold.channel });
    for (const item of merged) {
      const run = this.runOf(item.event.eventId);
      if (!run) continue;
      const message = this.messageOf(run, item.notificationId, hold.channel);
      message.heldParts = Math.max(0, message.heldParts - 1);
      // Its words went in the digest: the digest's run follows it up.
      if (message.status !== 'sent') Object.assign(message, { status: 'skipped', reason: 'digest', replacedBy: first.notificationId });
      run.replaced = true;
      this.refreshRecord(run);
      await this.advanceRun(run);
    }
    const outbound = first.outbound;
    const carrier: HeldMessage =
      outbound.channel === 'push'
        ? {
            ...first,
            outbound: {
              ...outbound,
              devices: [...new Map(hold.items.flatMap((i) => (i.outbound.channel === 'push' ? i.outbound.devices : [])).map((d) => [d.deviceId, d])).values()],
              localized: {},
              message: {
                ...outbound.message,
                title: digest.title,
                body: digest.body,
                data: { ...outbound.message.data, type: 'order.digest', updates: hold.items.map((i) => i.event.status).join(',') },
              },
            },
          }
        : outbound.channel === 'email'
          ? { ...first, outbound: { ...outbound, message: { ...withoutHtml(outbound.message), subject: digest.title, text: digest.body, ...(digest.html ? { html: digest.html } : {}) } } }
          : first;
    await this.sendReleased(this.runOf(first.event.eventId), carrier);
  }

  private async sendReleased(run: PlanRun | undefined, item: HeldMessage): Promise<void> {
    this.setState('sending');
    if (!run) {
      await this.sender.send(item);
      return;
    }
    const message = this.messageOf(run, item.notificationId, item.outbound.channel);
    message.heldParts = Math.max(0, message.heldParts - 1);
    await this.sendNow(run, message, item);
    this.refreshRecord(run);
    await this.advanceRun(run);
  }

  private dropHold(hold: Hold): void {
    this.holds = this.holds.filter((h) => h !== hold);
    this.deadlines.clear(holdKey(hold.channel, hold.reason));
  }

  // ------------------------------------------------------------------------------- the plan's steps

  /** After anything changed in a run: wait on, finish, wait for a receipt, or go to the backup channels. */
  private async advanceRun(run: PlanRun): Promise<void> {
    if (!this.runs.includes(run)) return;
    this.applyReceipts(run);
    const backup = run.plan.then[run.step];
    const verdict = this.verdictOf(run);
    if (run.replaced) {
      if (verdict.next !== 'wait') this.closeRun(run, 'superseded');
      return;
    }
    switch (verdict.next) {
      case 'wait':
        return;
      case 'done':
        // Confirmed in time (perhaps before the wait began): the backup is not needed.
        if (verdict.confirmed && backup) run.escalation = { ...(run.escalation ?? {}), status: 'confirmed', channels: backup.channels };
        return this.closeRun(run, null);
      case 'await_receipt': {
        if (run.awaitingUntil) return;
        run.awaitingUntil = new Date(Date.now() + msToNumber(receiptDeadlineOf(this.plans, backup!) as Duration)).toISOString();
        this.deadlines.set(receiptKey(run.event.eventId), run.awaitingUntil);
        run.escalation = { status: 'awaiting-receipt', channels: backup!.channels, until: run.awaitingUntil };
        this.refreshRecord(run);
        return;
      }
      case 'backup':
        return this.goToBackup(run, verdict.reason);
    }
  }

  /** Where the run's current step stands; a message with parts still held is still on its way. */
  private verdictOf(run: PlanRun) {
    const backup = run.plan.then[run.step];
    const messages = run.messages
      .filter((m) => m.step === run.step)
      .map((m) => ({ channel: m.channel, state: m.heldParts > 0 ? ('pending' as const) : m.status, ...(m.receipt ? { receipt: m.receipt } : {}) }));
    return stepVerdict(messages, backup?.when ?? null);
  }

  private async goToBackup(run: PlanRun, reason: BackupReason): Promise<void> {
    const backup = run.plan.then[run.step]!;
    this.deadlines.clear(receiptKey(run.event.eventId));
    delete run.awaitingUntil;
    run.step++;
    this.setState('escalating', `Escalating ${run.event.status} (${reason}) to ${backup.channels.join(' and ')}.`);
    const prepared = await prepareStep({
      event: run.event,
      kind: run.kind,
      step: run.step,
      escalationReason: reason,
      channels: backup.channels,
      planChannels: [...run.plan.channels, ...run.plan.then.flatMap((s) => s.channels)],
      position: null,
      runId: workflowInfo().runId,
      now: new Date().toISOString(),
      digestWindowMs: this.digestWindowMs,
      windows: this.windows,
      capRules: this.capRules,
    });
    if (prepared.outcome === 'planned') await this.carryOut(run, prepared.deliveries, prepared.customer);
    const stepMessages = run.messages.filter((m) => m.step === run.step);
    run.escalation = {
      status: 'escalated',
      channels: backup.channels,
      reason,
      results: stepMessages
        .filter((m) => m.channel !== 'inapp')
        .map((m) => ({
          channel: m.channel as DeliveryChannel,
          notificationId: m.notificationId,
          outcome: m.reason === 'already_sent' ? 'already_sent' : m.status === 'sent' ? 'sent' : m.status === 'pending' ? 'held' : m.status === 'failed' ? 'failed' : 'suppressed',
          ...(m.reason ? { detail: m.reason } : {}),
        })),
    };
    this.refreshRecord(run);
    await this.advanceRun(run);
  }

  private closeRun(run: PlanRun, why: 'superseded' | null): void {
    if (!this.runs.includes(run)) return;
    this.runs = this.runs.filter((r) => r !== run);
    this.deadlines.clear(receiptKey(run.event.eventId));
    if (why === 'superseded' && run.awaitingUntil) run.escalation = { ...(run.escalation ?? { channels: [] }), status: 'superseded', until: run.awaitingUntil };
    delete run.awaitingUntil;
    this.refreshRecord(run);
  }

  // ------------------------------------------------------------------------------- receipts and deadlines

  private async takeReceipts(): Promise<void> {
    this.receiptsArrived = false;
    for (const run of [...this.runs]) if (this.applyReceipts(run) && run.awaitingUntil) await this.advanceRun(run);
  }

  /** Marks the run's sent messages with what their receipts said; true when anything changed. */
  private applyReceipts(run: PlanRun): boolean {
    let changed = false;
    for (const message of run.messages) {
      const type = this.receipts.get(message.notificationId);
      if (!type || message.status !== 'sent') continue;
      // A complaint says the customer saw it: as good as delivered, for the plan.
      const receipt = CONFIRMING_RECEIPTS.has(type as ReceiptType) || type === 'complained' ? 'confirmed' : NEGATIVE_RECEIPTS.has(type) ? 'negative' : undefined;
      if (receipt && message.receipt !== receipt) {
        message.receipt = receipt;
        changed = true;
      }
    }
    return changed;
  }

  private async takeDeadlines(): Promise<void> {
    for (const name of this.deadlines.passed()) {
      this.deadlines.clear(name);
      const [what, channel, reason] = name.split(':');
      if (what === 'hold') {
        const hold = this.holds.find((h) => h.channel === channel && h.reason === reason);
        if (hold) await this.release(hold);
      } else if (what === 'receipt') {
        const run = this.runs.find((r) => receiptKey(r.event.eventId) === name);
        if (!run) continue;
        // A receipt may be in hand that the loop has not taken yet: it decides first.
        this.applyReceipts(run);
        if (this.verdictOf(run).next === 'await_receipt') await this.goToBackup(run, 'no_receipt');
        else {
          delete run.awaitingUntil;
          await this.advanceRun(run);
        }
      }
    }
  }

  // ------------------------------------------------------------------------------- records

  private runOf(eventId: string): PlanRun | undefined {
    return this.runs.find((r) => r.event.eventId === eventId);
  }

  private messageOf(run: PlanRun, notificationId: string, channel: Channel): Message {
    let message = run.messages.find((m) => m.notificationId === notificationId);
    if (!message) {
      message = { channel, notificationId, step: run.step, status: 'pending', heldParts: 0 };
      run.messages.push(message);
    }
    return message;
  }

  /** The channel the event's record leads with: push when the plan has it, else the first delivery channel. */
  private primary(messages: Message[]): Message | undefined {
    return messages.find((m) => m.channel === 'push') ?? messages.find((m) => m.channel !== 'inapp') ?? messages[0];
  }

  private remember(record: ProcessedEvent): void {
    this.processed = [...this.processed, record].slice(-KEEP_PROCESSED);
  }

  private refreshRecord(run: PlanRun): void {
    const first = this.primary(run.messages.filter((m) => m.step === 0));
    const deliveries: DeliveryRecord[] = run.messages.map((m) => ({
      channel: m.channel,
      notificationId: m.notificationId,
      step: m.step,
      status: statusOf(m),
      ...(m.reason ? { reason: m.reason } : {}),
      ...(m.held ? { held: m.held } : {}),
      ...(m.replacedBy ? { replacedBy: m.replacedBy } : {}),
      ...(m.channel === 'push' ? { sentTo: m.sentTo ?? 0, failedTo: m.failedTo ?? 0 } : {}),
    }));
    this.processed = this.processed.map((p) =>
      p.eventId !== run.event.eventId || p.duplicate
        ? p
        : {
            ...p,
            ...(first
              ? {
                  notificationId: first.notificationId,
                  notificationStatus: statusOf(first),
                  sentTo: first.sentTo ?? 0,
                  failedTo: first.failedTo ?? 0,
                  ...((first.status === 'skipped' || first.status === 'capped') && first.reason ? { suppressionReason: first.reason.split(':')[0] as ProcessedEvent['suppressionReason'] } : {}),
                  ...(first.held ? { held: first.held } : {}),
                  ...(first.replacedBy ? { replacedBy: first.replacedBy } : {}),
                }
              : {}),
            ...(run.escalation ? { escalation: run.escalation } : {}),
            deliveries,
          },
    );
  }

  // ------------------------------------------------------------------------------- what operators see

  /** How long the run still waits for news before it finishes, and the summary of that timer. */
  private quietLimit(): { ms: number; summary: string } {
    const terminal = this.position.stage !== null && TERMINAL_STATUSES.has(this.position.stage);
    this.setState(
      terminal ? 'done' : 'idle',
      terminal ? `Order ${this.orderId} is ${this.position.status}; nothing more to send.` : `Waiting for order ${this.orderId}'s next status.`,
    );
    return terminal && this.completesAt
      ? { ms: Math.max(0, Date.parse(this.completesAt) - Date.now()), summary: `order ${this.orderId} completes (${this.position.status})` }
      : { ms: this.idleMs, summary: `idle timeout for order ${this.orderId}` };
  }

  /** A deadline's timer as the Web UI names it: what it is for, by ids (never an address or a message's words). */
  private deadlineSummary(name: string): string {
    const [what, key, reason] = name.split(':');
    if (what === 'receipt') {
      const run = this.runOf(name.slice('receipt:'.length));
      const awaited = run && this.primary(run.messages.filter((m) => m.step === run.step && m.status === 'sent'));
      return `receipt deadline for ${awaited?.notificationId ?? name.slice('receipt:'.length)}`;
    }
    if (what === 'hold' && reason === 'quiet_hours') return `quiet hours end for ${this.customerId} (${key})`;
    if (what === 'hold' && reason === 'digest') return `digest window for order ${this.orderId} (${key})`;
    return name;
  }

  private describeWait(): void {
    const quiet = this.holds.find((h) => h.reason === 'quiet_hours');
    const digest = this.holds.find((h) => h.reason === 'digest');
    const awaiting = this.runs.find((r) => r.awaitingUntil);
    const statuses = (h: Hold) => h.items.map((i) => i.event.status).join(', ');
    if (quiet) this.setState('waiting-quiet-hours', `Quiet hours: ${quiet.channel} ${statuses(quiet)} waits until ${quiet.until}.`);
    else if (digest) this.setState('waiting-digest', `Digest: ${digest.channel} ${statuses(digest)} go together at ${digest.until}.`);
    else if (awaiting) {
      const backup = awaiting.plan.then[awaiting.step];
      this.setState('awaiting-receipt', `Waiting until ${awaiting.awaitingUntil} for a receipt of ${awaiting.event.status}; then ${backup?.channels.join(' and ')}.`);
    }
  }

  private setState(state: NotificationState, details?: string): void {
    this.state = state;
    if (details !== undefined) setCurrentDetails(details);
    // Indexed only for states an order rests in; 'sending' lasts milliseconds and would cost a visibility write per event.
    if (state === 'sending' || state === this.indexedState) return;
    this.indexedState = state;
    this.index(searchAttributes.notificationState, state);
  }

  private index(key: typeof searchAttributes.orderStatus, value: string): void {
    if (!this.upsertOnWait) return upsertIndexed([{ key, value }]);
    this.toIndex.set(key.name, { key, value });
  }

  /** One upsert of what changed since the index last heard, if anything did. */
  private flushIndex(): void {
    const indexed = workflowInfo().typedSearchAttributes;
    const changed = [...this.toIndex.values()].filter(({ key, value }) => indexed.get(key) !== value);
    this.toIndex.clear();
    if (changed.length > 0) upsertIndexed(changed);
  }
}

/** An email without its HTML part: a digest's own HTML replaces it, or none does. */
function withoutHtml<M extends { html?: string }>(message: M): Omit<M, 'html'> {
  const { html: _replaced, ...rest } = message;
  return rest;
}

function statusOf(message: Message): NotificationStatus {
  return message.status === 'pending' ? 'queued' : message.status === 'skipped' || message.status === 'capped' ? 'suppressed' : message.status;
}

/** The words a held message would have had on its own, for the digest's list. */
function wordsOf(item: HeldMessage): { title: string; body: string } {
  const o = item.outbound;
  if (o.channel === 'push') return { title: o.message.title, body: o.message.body };
  if (o.channel === 'email') return { title: o.message.subject, body: o.message.text };
  return { title: o.message.body, body: o.message.body };
}

/**
 * Upserts a search attribute only when the run was started with it (intake sets all four): a
 * namespace without Herald's attributes registered, such as the time-skipping test server's, would
 * otherwise fail every workflow task.
 */
function upsertIndexed(pairs: Array<{ key: typeof searchAttributes.orderStatus; value: string }>): void {
  const known = pairs.filter(({ key }) => workflowInfo().typedSearchAttributes.get(key) !== undefined);
  if (known.length > 0) upsertSearchAttributes(known);
}
