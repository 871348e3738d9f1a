// The gates every channel passes, in one place: preference and consent, reachability, quiet hours,
// digests and which frequency caps apply. Pure: given the recipient, the channels of one plan step
// and the order's open windows, it says per channel "send now", "hold until" or "suppress because".
// The order workflow only carries the decisions out (and counts the caps in PostgreSQL at send time).
import type { Channel, DeliveryChannel, PushTarget, SuppressionReason } from './delivery';
import { capRulesFor, type FrequencyCapRule } from './frequency-caps';
import type { NotificationKind } from './order-status';
import type { Recipient } from './recipient';
import { decideChannels, OVERRIDE_ORDER, type PreferenceState } from './preferences';
import { quietHoursEnd } from './quiet-hours';

export type HoldReason = 'quiet_hours' | 'digest';

/** Whether a customer can be written to on an address channel at all. */
export type ContactState = 'ok' | 'no_address' | 'invalid_address';

export interface PlanRecipient {
  customer: Recipient['customer'];
  devices: PushTarget[];
  contacts: { email: ContactState; sms: ContactState };
  preferences: PreferenceState;
}

/** What the order's workflow knows of its own recent messages, per channel. */
export interface ChannelWindows {
  /** When the last routine message went (epoch ms): a routine one within the digest window of it waits. */
  lastRoutineSentAt: Partial<Record<DeliveryChannel, number>>;
  /** The end of a digest window that already holds messages (ISO). */
  openDigests: Partial<Record<DeliveryChannel, string>>;
}

export interface PlanContext {
  now: number;
  /** 0 turns digests off. */
  digestWindowMs: number;
  windows: ChannelWindows;
  capRules: FrequencyCapRule[];
}

/** Digests merge routine pushes and emails; an SMS always stands alone. */
export const DIGEST_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['push', 'email']);

export type StepDecision =
  | {
      channel: Channel;
      action: 'send';
      /** Push: the devices it goes to now. */
      devices?: PushTarget[];
      /** The frequency caps to claim before it goes. */
      caps: FrequencyCapRule[];
      /** Sent although the customer opted out: a critical update with nothing else permitted. */
      override?: boolean;
    }
  | { channel: Channel; action: 'hold'; reason: HoldReason; until: string; devices?: PushTarget[]; caps: FrequencyCapRule[] }
  | { channel: Channel; action: 'suppress'; reason: SuppressionReason };

const reachability = (recipient: PlanRecipient, channel: Channel): SuppressionReason | null => {
  if (channel === 'push') return recipient.devices.length > 0 ? null : 'no_device';
  if (channel === 'email' || channel === 'sms') {
    const state = recipient.contacts[channel];
    return state === 'ok' ? null : state;
  }
  return null;
};

/**
 * The decisions for one step of a plan. `planChannels` (every delivery channel of the whole plan) is
 * what preferences weigh: a critical update that no channel of its plan may carry goes on the first
 * channel the customer can be reached on and permits (or, failing that, overrides an opt-out), as the
 * first step's extra channel.
 */
export function planStep(
  kind: NotificationKind,
  stepChannels: readonly Channel[],
  recipient: PlanRecipient,
  ctx: PlanContext,
  options: { planChannels?: readonly Channel[]; firstStep?: boolean } = {},
): StepDecision[] {
  const customer = recipient.customer;
  if (!customer) return stepChannels.map((channel) => ({ channel, action: 'suppress', reason: 'unknown_customer' }));

  const reachable = (c: Channel) => reachability(recipient, c) === null;
  const planned = [...new Set([...(options.planChannels ?? []), ...stepChannels])];
  const decision = decideChannels(recipient.preferences, kind, planned.filter(reachable));
  const channels = [...stepChannels];
  if (options.firstStep && kind.priority === 'critical' && kind.category === 'transactional') {
    // Overriding an opt-out is the last resort: a channel the customer permits comes first.
    const carries = planned.some((c) => c !== 'inapp' && c !== decision.override && decision.permitted.includes(c));
    if (!carries) {
      // Nothing the plan names may carry it: the first other channel the customer permits takes it.
      const others = OVERRIDE_ORDER.filter((c) => !planned.includes(c) && reachable(c));
      const elsewhere = decideChannels(recipient.preferences, kind, others);
      const reroute = elsewhere.permitted.find((c): c is DeliveryChannel => c !== 'inapp');
      if (reroute) return [...planStep(kind, stepChannels, recipient, ctx, { ...options, planChannels: [...planned, reroute], firstStep: false }), ...planStep(kind, [reroute], recipient, ctx, { planChannels: [...planned, reroute] })];
    }
  }

  return channels.flatMap((channel): StepDecision[] => {
    const unreachable = reachability(recipient, channel);
    if (unreachable) return [{ channel, action: 'suppress', reason: unreachable }];
    const refusal = decision.refused.find((r) => r.channel === channel);
    if (refusal) return [{ channel, action: 'suppress', reason: refusal.reason }];
    const override = decision.override === channel ? { override: true } : {};
    // The inbox interrupts no one: no quiet hours, digests or caps.
    if (channel === 'inapp') return [{ channel, action: 'send', caps: [] }];
    const caps = capRulesFor(ctx.capRules, channel, kind);
    if (kind.priority === 'critical') return [{ channel, action: 'send', caps, ...(channel === 'push' ? { devices: recipient.devices } : {}), ...override }];
    return routineDecisions(channel, caps, recipient.devices, customer, ctx, override);
  });
}

/**
 * A routine message waits for the end of quiet hours (a push per device, in the device's zone), then
 * for an open digest window; otherwise it goes now.
 */
function routineDecisions(
  channel: DeliveryChannel,
  caps: FrequencyCapRule[],
  devices: PushTarget[],
  customer: NonNullable<PlanRecipient['customer']>,
  ctx: PlanContext,
  override: { override?: boolean },
): StepDecision[] {
  const now = (extra: { devices?: PushTarget[] }): StepDecision => {
    const digestUntil = digestWindowEnd(channel, ctx);
    if (!digestUntil) return { channel, action: 'send', caps, ...extra, ...override };
    // A digest window that closes inside quiet hours waits for them to end too (in each device's zone, for push).
    const zones = extra.devices ? extra.devices.map((d) => d.timeZone ?? customer.timeZone) : [customer.timeZone];
    const quietEnds = customer.quietHours ? zones.map((zone) => quietHoursEnd(Date.parse(digestUntil), customer.quietHours!, zone)?.getTime() ?? 0) : [];
    const until = new Date(Math.max(Date.parse(digestUntil), ...quietEnds)).toISOString();
    return { channel, action: 'hold', reason: 'digest', until, caps, ...extra };
  };
  if (channel === 'push') {
    const { awake, asleep, until } = splitByQuietHours(devices, customer, ctx.now);
    return [
      ...(awake.length > 0 ? [now({ devices: awake })] : []),
      ...(asleep.length > 0 ? [{ channel, action: 'hold', reason: 'quiet_hours', until: until!, devices: asleep, caps } as StepDecision] : []),
    ];
  }
  const end = customer.quietHours ? quietHoursEnd(ctx.now, customer.quietHours, customer.timeZone) : null;
  if (end) return [{ channel, action: 'hold', reason: 'quiet_hours', until: end.toISOString(), caps }];
  return [now({})];
}

/** The end of the digest window a routine message on this channel falls into now, or null. */
export function digestWindowEnd(channel: Channel, ctx: PlanContext): string | null {
  if (ctx.digestWindowMs <= 0 || !DIGEST_CHANNELS.has(channel)) return null;
  const open = ctx.windows.openDigests[channel as DeliveryChannel];
  if (open) return open;
  const last = ctx.windows.lastRoutineSentAt[channel as DeliveryChannel];
  if (last !== undefined && ctx.now - last < ctx.digestWindowMs) return new Date(last + ctx.digestWindowMs).toISOString();
  return null;
}

/** The devices whose quiet hours (in their own zone, else the customer's) are on now, and when the earliest ends. */
export function splitByQuietHours(devices: PushTarget[], customer: NonNullable<PlanRecipient['customer']>, now: number) {
  const awake: PushTarget[] = [];
  const asleep: PushTarget[] = [];
  let until: number | null = null;
  for (const device of devices) {
    const end = customer.quietHours ? quietHoursEnd(now, customer.quietHours, device.timeZone ?? customer.timeZone) : null;
    if (!end) awake.push(device);
    else {
      asleep.push(device);
      until = until === null ? end.getTime() : Math.min(until, end.getTime());
    }
  }
  return { awake, asleep, until: until === null ? null : new Date(until).toISOString() };
}
