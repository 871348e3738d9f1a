// One run per cart (`cart:<cartId>`): each update starts the reminder sequence over on durable timers;
// a checkout, an emptied cart or an order ends it. Every reminder passes the same gates as an order
// update (activities/cart-reminders.ts), waits out quiet hours here, and goes through the channel sender.
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { allHandlersFinished, condition, continueAsNew, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CartSettings } from '../activities/cart-reminders';
import { CART_CONVERSION_WINDOW, CART_REMINDER_KIND, orderEndsCart, type CartEvent, type CartOrder, type CartReminderRule, type DeliveryChannel } from '../domain';
import { cartEventSignal, cartOrderSignal, cartStateQuery, type CartReminderRecord, type CartState } from './cart-definitions';
import { createChannelSender } from './channel-delivery';

const { loadCartSettings } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const { prepareCartReminder, withdrawCartReminder, recordCartClosed } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['CartEventMissing'] },
});

/** A cart nobody touches for this long, with no reminder left to send, lets its run end. */
const IDLE_TIMEOUT = '30 days';
const KEPT_REMINDERS = 20;
const KEPT_EVENT_IDS = 50;

/** What a run hands its continuation: the sequence where it stands. */
export interface CartCarried {
  lastUpdate: CartState['lastUpdate'];
  nextStep: number;
  reminders: CartReminderRecord[];
  seenEventIds: string[];
  sentAny: boolean;
}

export interface CartWorkflowInput {
  cartId: string;
  customerId: string;
  carried?: CartCarried;
}

export async function cartRemindersWorkflow(input: CartWorkflowInput): Promise<CartState> {
  const cart = new CartReminders(input);
  setHandler(cartEventSignal, (event) => cart.receive(event));
  setHandler(cartOrderSignal, (order) => cart.receiveOrder(order));
  setHandler(cartStateQuery, () => cart.view());
  return cart.run();
}

class CartReminders {
  private readonly cartId: string;
  private readonly customerId: string;
  private settings: CartSettings | null = null;
  private lastUpdate: CartState['lastUpdate'];
  /** 1-based: the reminder of the rules the sequence waits for. */
  private nextStep: number;
  private reminders: CartReminderRecord[];
  private seenEventIds: string[];
  private sentAny: boolean;
  private closed: CartState['closed'] = null;
  private waiting: CartState['waiting'] = null;
  /** Bumped by every signal that changes what the run should do: a wait on it ends early. */
  private version = 0;

  constructor(input: CartWorkflowInput) {
    this.cartId = input.cartId;
    this.customerId = input.customerId;
    this.lastUpdate = input.carried?.lastUpdate ?? null;
    this.nextStep = input.carried?.nextStep ?? 1;
    this.reminders = input.carried?.reminders ?? [];
    this.seenEventIds = input.carried?.seenEventIds ?? [];
    this.sentAny = input.carried?.sentAny ?? false;
  }

  receive(event: CartEvent): void {
    if (this.seenEventIds.includes(event.eventId)) return;
    this.seenEventIds = [...this.seenEventIds, event.eventId].slice(-KEPT_EVENT_IDS);
    // An event older than the update the sequence counts from changes nothing.
    if (this.lastUpdate && Date.parse(event.occurredAt) < Date.parse(this.lastUpdate.occurredAt)) return;
    if (event.type === 'updated') {
      this.lastUpdate = { eventId: event.eventId, occurredAt: event.occurredAt, heardAt: new Date().toISOString() };
      this.nextStep = 1;
      this.closed = null;
    } else {
      this.closed = { reason: event.type, at: new Date().toISOString(), converted: false };
    }
    this.version++;
  }

  receiveOrder(order: CartOrder): void {
    if (this.closed) return;
    if (!orderEndsCart({ cartId: this.cartId, customerId: this.customerId, lastUpdatedAt: this.lastUpdate?.occurredAt ?? null }, order)) return;
    this.closed = { reason: 'ordered', at: new Date().toISOString(), orderId: order.orderId, converted: this.sentAny };
    this.version++;
  }

  view(): CartState {
    const rule = this.closed || !this.lastUpdate ? undefined : this.rules()[this.nextStep - 1];
    return {
      cartId: this.cartId,
      customerId: this.customerId,
      lastUpdate: this.lastUpdate,
      next: rule && this.lastUpdate ? { step: this.nextStep, channel: rule.channel, dueAt: new Date(this.dueAt(rule)).toISOString() } : null,
      waiting: this.waiting,
      reminders: this.reminders,
      closed: this.closed,
    };
  }

  async run(): Promise<CartState> {
    this.settings = await loadCartSettings();
    for (;;) {
      if (this.closed) {
        await this.recordClosed();
        await condition(allHandlersFinished);
        // An update that came meanwhile reopened the cart: its sequence runs in this same run.
        if (this.closed) return this.view();
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof cartRemindersWorkflow>({ cartId: this.cartId, customerId: this.customerId, carried: this.carried() });
      }
      if (!this.lastUpdate) {
        // Started by an order or a checkout alone: nothing to remind of until an update comes.
        if (!(await this.changedWithin(msToNumber(IDLE_TIMEOUT)))) return this.view();
        continue;
      }
      const rule = this.rules()[this.nextStep - 1];
      if (!rule) {
        // Every reminder went: an order within the conversion window still counts as won back by them.
        if (!(await this.changedWithin(msToNumber(CART_CONVERSION_WINDOW)))) this.closed = { reason: 'abandoned', at: new Date().toISOString(), converted: false };
        continue;
      }
      if (!(await this.until(this.dueAt(rule)))) continue;
      await this.remind(this.nextStep, rule);
    }
  }

  private rules(): CartReminderRule[] {
    return this.settings?.reminders ?? [];
  }

  private dueAt(rule: CartReminderRule): number {
    return Date.parse(this.lastUpdate!.heardAt) + msToNumber(rule.after as Duration);
  }

  /** Waits until the instant; false when a signal changed the cart first. */
  private async until(at: number): Promise<boolean> {
    const wait = at - Date.now();
    if (wait <= 0) return true;
    return !(await this.changedWithin(wait));
  }

  private async changedWithin(ms: number): Promise<boolean> {
    const seen = this.version;
    return condition(() => this.version !== seen, ms);
  }

  /** One reminder: prepared through the gates, held through quiet hours, then sent; withdrawn if the cart changes meanwhile. */
  private async remind(step: number, rule: CartReminderRule): Promise<void> {
    const seen = this.version;
    const update = this.lastUpdate!;
    const changed = () => this.version !== seen;
    for (;;) {
      const prepared = await prepareCartReminder({
        cartId: this.cartId,
        cartEventId: update.eventId,
        customerId: this.customerId,
        step,
        channel: rule.channel,
        now: new Date().toISOString(),
        capRules: this.settings?.frequencyCaps ?? [],
      });
      const { notificationId } = prepared;
      if (changed() && (prepared.action === 'hold' || prepared.action === 'send')) return this.withdraw(step, rule.channel, notificationId, update.eventId);
      if (prepared.action === 'hold') {
        this.waiting = { step, channel: rule.channel, notificationId, until: prepared.until };
        const ended = await this.until(Date.parse(prepared.until));
        this.waiting = null;
        if (!ended) return this.withdraw(step, rule.channel, notificationId, update.eventId);
        continue;
      }
      if (prepared.action === 'send') {
        const sender = createChannelSender(this.settings?.delivery ?? {});
        const result = await sender.send({
          notificationId,
          event: { eventId: update.eventId, orderId: null, customerId: this.customerId },
          kind: CART_REMINDER_KIND,
          outbound: prepared.outbound,
          caps: prepared.caps,
        });
        if (result.state === 'sent') this.sentAny = true;
        this.record({ step, channel: rule.channel, notificationId, cartEventId: update.eventId, outcome: result.state, ...(result.detail ? { reason: result.detail } : {}) });
      } else if (prepared.action === 'already_sent') {
        this.sentAny = true;
        this.record({ step, channel: rule.channel, notificationId, cartEventId: update.eventId, outcome: 'sent' });
      } else {
        this.record({ step, channel: rule.channel, notificationId, cartEventId: update.eventId, outcome: prepared.action, reason: prepared.reason });
      }
      if (!changed()) this.nextStep = step + 1;
      return;
    }
  }

  private async withdraw(step: number, channel: DeliveryChannel, notificationId: string, cartEventId: string): Promise<void> {
    const reason = this.closed ? 'cart_closed' : 'cart_updated';
    await withdrawCartReminder({ notificationId, reason });
    this.record({ step, channel, notificationId, cartEventId, outcome: 'withdrawn', reason });
  }

  private record(reminder: Omit<CartReminderRecord, 'at'>): void {
    this.reminders = [...this.reminders, { ...reminder, at: new Date().toISOString() }].slice(-KEPT_REMINDERS);
  }

  private async recordClosed(): Promise<void> {
    const closed = this.closed!;
    await recordCartClosed({
      cartId: this.cartId,
      reason: closed.reason,
      orderId: closed.orderId ?? null,
      converted: closed.converted,
      lastUpdatedAt: this.lastUpdate?.occurredAt ?? null,
    });
  }

  private carried(): CartCarried {
    return { lastUpdate: this.lastUpdate, nextStep: this.nextStep, reminders: this.reminders, seenEventIds: this.seenEventIds, sentAny: this.sentAny };
  }
}
