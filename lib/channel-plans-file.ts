// HERALD_CHANNEL_PLANS_FILE: channel plans per notification type in JSON or YAML, over the defaults.
//
//   order.shipped:
//     channels: [push, email, inapp]
//   order.out_for_delivery:
//     channels: [push, inapp]
//     then:
//       - { channels: [sms], when: unconfirmed, within: 10 minutes }
//   default:
//     channels: [push, inapp]
//     then: [{ channels: [email], when: failed }]
//
// A type named in the file replaces its default plan whole; types it leaves out keep theirs.
import fs from 'node:fs';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import YAML from 'yaml';
import { z } from 'zod';
import { CHANNELS, DEFAULT_CHANNEL_PLANS, STEP_CONDITIONS, type ChannelPlan, type ChannelPlans } from '../domain';

const duration = z.string().refine(
  (value) => {
    try {
      return msToNumber(value as Duration) > 0;
    } catch {
      return false;
    }
  },
  { message: "must be a positive duration such as '5 minutes'" },
);

const deliveryChannel = z.enum(['push', 'email', 'sms'], { error: 'must be push, email or sms' });

const planSchema = z.strictObject({
  channels: z.array(z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` })).min(1, 'must name at least one channel'),
  then: z
    .array(
      z.strictObject({
        channels: z.array(deliveryChannel).min(1, 'must name at least one channel'),
        when: z.enum(STEP_CONDITIONS, { error: `must be ${STEP_CONDITIONS.join(' or ')}` }),
        within: duration.optional(),
      }),
    )
    .default([]),
});

const NOTIFICATION_TYPE = /^(default|[a-z]+\.[a-z_]+)$/;
const fileSchema = z.record(z.string(), planSchema);

/** The plans a file names, by notification type (or `default`); throws the reason, naming the field. */
export function readChannelPlansFile(file: string): Record<string, ChannelPlan> {
  const text = fs.readFileSync(file, 'utf8');
  const raw: unknown = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('must map notification types to plans');
  const badType = Object.keys(raw).find((type) => !NOTIFICATION_TYPE.test(type));
  if (badType !== undefined) throw new Error(`'${badType}' must be a notification type such as order.shipped, or default`);
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || '(file)'} ${issue.message}`);
  }
  return Object.fromEntries(Object.entries(parsed.data).map(([type, plan]) => [type, { channels: [...new Set(plan.channels)], then: plan.then }]));
}

/** The plans in force: `base`, with the file's plans over it, and the receipt deadline for steps that name none. */
export function channelPlansWith(base: ChannelPlans, overrides: Record<string, ChannelPlan> = {}, receiptDeadline?: string): ChannelPlans {
  const plans: ChannelPlans = { ...base, plans: { ...base.plans }, ...(receiptDeadline ? { receiptDeadline } : {}) };
  for (const [type, plan] of Object.entries(overrides)) {
    if (type === 'default') plans.default = plan;
    else plans.plans[type] = plan;
  }
  return plans;
}

/** The file read and applied over `base`, its problems named after HERALD_CHANNEL_PLANS_FILE. */
export function loadChannelPlans(file: string | undefined, receiptDeadline: string | undefined, base: ChannelPlans = DEFAULT_CHANNEL_PLANS): ChannelPlans {
  if (!file) return channelPlansWith(base, {}, receiptDeadline);
  try {
    return channelPlansWith(base, readChannelPlansFile(file), receiptDeadline);
  } catch (err) {
    throw new Error(`HERALD_CHANNEL_PLANS_FILE (${file}): ${(err as Error).message}`);
  }
}
