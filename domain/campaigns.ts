// Campaigns: a message to a segment, sent once to each permitted customer, on a schedule that may be a local
// time in each recipient's own zone. Pure: ids and the due time of a recipient, from the workflow's clock.
import { zonedInstant } from './quiet-hours';
import type { VariantSendTime } from './experiments';

export type CampaignSchedule =
  /** As soon as the campaign starts. */
  | { type: 'now' }
  /** At one instant for everyone. */
  | { type: 'at'; at: string }
  /** At this local wall-clock time in each recipient's zone: on `date` (YYYY-MM-DD) there, or the first such time after the start. */
  | { type: 'local'; localTime: string; date?: string };

export const campaignWorkflowId = (campaignId: string): string => `campaign:${campaignId}`;
/** One notification per campaign and customer: its id is what makes a resumed campaign send nobody twice. */
export const campaignNotificationId = (campaignId: string, customerId: string): string => `campaign:${campaignId}:${customerId}`;

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The local date (year, month, day) at an instant in a zone. */
function localDate(instant: number, timeZone: string): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}

/** The first instant at or after `from` when it is `localTime` in the zone. */
export function nextLocalTime(from: number, localTime: string, timeZone: string): number {
  const today = localDate(from, timeZone);
  const at = zonedInstant(today.year, today.month, today.day, minutesOf(localTime), timeZone);
  if (at >= from) return at;
  const tomorrow = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
  return zonedInstant(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), minutesOf(localTime), timeZone);
}

/**
 * When a recipient in `timeZone` is due, for a campaign started at `startedAt` (ms): the schedule in their zone, then
 * their variant's send time on top of it. Never before the start.
 */
export function recipientDueAt(schedule: CampaignSchedule, startedAt: number, timeZone: string, sendAt?: VariantSendTime): number {
  let due: number;
  if (schedule.type === 'now') due = startedAt;
  else if (schedule.type === 'at') due = Math.max(startedAt, Date.parse(schedule.at));
  else if (schedule.date) {
    const [year, month, day] = schedule.date.split('-').map(Number) as [number, number, number];
    due = Math.max(startedAt, zonedInstant(year, month, day, minutesOf(schedule.localTime), timeZone));
  } else due = nextLocalTime(startedAt, schedule.localTime, timeZone);
  if (!sendAt || sendAt.type === 'schedule') return due;
  if (sendAt.type === 'delay') return due + sendAt.minutes * 60_000;
  return nextLocalTime(due, sendAt.localTime, timeZone);
}

/** The notification type of every campaign message (the campaign itself is Notification.campaignId). */
export const CAMPAIGN_NOTIFICATION_TYPE = 'campaign';

/** Recipients one batch activity decides, records and sends. */
export const CAMPAIGN_BATCH_SIZE = 500;
/** Batch activities of one campaign in flight at once. */
export const CAMPAIGN_BATCHES_IN_FLIGHT = 4;
/** Customers one enrolment activity pages out of the segment. */
export const CAMPAIGN_ENROL_PAGE = 5000;

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Where a campaign's recipients stand: what GET /v1/campaigns/:id shows and the workflow's `progress` query answers. */
export interface CampaignCounts {
  /** Customers enrolled from the segment (holdout included); null before enrolment finished. */
  targeted: number | null;
  /** Waiting for their due time (their schedule, their quiet hours) or in a batch now. */
  pending: number;
  sent: number;
  /** Not sent, by reason (domain/reasons.ts): preference, no_consent, no_device, frequency_cap... */
  suppressed: Record<string, number>;
  failed: number;
  /** In the experiment's holdout group: enrolled, never sent. */
  holdout: number;
  /** Still pending when the campaign was cancelled. */
  cancelled: number;
  /** The earliest due time of a pending recipient (ISO), null when none. */
  nextDueAt: string | null;
}

export interface CampaignProgress extends CampaignCounts {
  campaignId: string;
  status: CampaignStatus;
  /** Pending recipients, the ones the campaign may still send to. */
  remaining: number;
  /** Batches being sent now. */
  inFlight: number;
}
