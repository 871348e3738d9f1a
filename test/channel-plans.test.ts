// The channel plans and the gates every channel passes, as pure functions: no Temporal, no database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_CHANNEL_PLANS,
  notificationKindFor,
  planFor,
  planStep,
  plansFromEscalationPolicy,
  DEFAULT_ESCALATION_POLICY,
  stepVerdict,
  type PlanContext,
  type PlanRecipient,
  type NotificationKind,
} from '../domain';
import { loadChannelPlans } from '../lib/channel-plans-file';

const at = (iso: string) => Date.parse(iso);
const ctx = (now: string, extra: Partial<PlanContext> = {}): PlanContext => ({
  now: at(now),
  digestWindowMs: 120_000,
  windows: { lastRoutineSentAt: {}, openDigests: {} },
  capRules: [],
  ...extra,
});
const recipient = (extra: Partial<PlanRecipient> = {}): PlanRecipient => ({
  customer: { id: 'c1', name: 'Ada', locale: 'en', timeZone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } },
  devices: [{ deviceId: 'd1', platform: 'ios', token: 'a'.repeat(64), app: null }],
  contacts: { email: 'ok', sms: 'ok' },
  preferences: { preferences: [], consents: [] },
  ...extra,
});
const kind = (status: Parameters<typeof notificationKindFor>[0]) => notificationKindFor(status);
const actions = (decisions: ReturnType<typeof planStep>) => decisions.map((d) => [d.channel, d.action, 'reason' in d ? d.reason : undefined]);

test('the default plans: the receipt and a push for a confirmation; push and email for what went wrong, then SMS', () => {
  expect(planFor(DEFAULT_CHANNEL_PLANS, kind('confirmed'))).toEqual({ channels: ['email', 'push', 'inapp'], then: [] });
  expect(planFor(DEFAULT_CHANNEL_PLANS, kind('shipped'))).toEqual({ channels: ['push', 'email', 'inapp'], then: [] });
  expect(planFor(DEFAULT_CHANNEL_PLANS, kind('out_for_delivery'))).toEqual({ channels: ['push', 'inapp'], then: [{ channels: ['sms'], when: 'unconfirmed' }] });
  for (const status of ['delayed', 'cancelled', 'payment_failed'] as const) {
    expect(planFor(DEFAULT_CHANNEL_PLANS, kind(status))).toEqual({ channels: ['push', 'email', 'inapp'], then: [{ channels: ['sms'], when: 'unconfirmed' }] });
  }
  for (const status of ['delivered', 'refunded'] as const) {
    expect(planFor(DEFAULT_CHANNEL_PLANS, kind(status))).toEqual({ channels: ['push', 'inapp'], then: [{ channels: ['email'], when: 'failed' }] });
  }
});

test('marketing never goes by SMS, and a backup repeats no channel of an earlier step', () => {
  const marketing: NotificationKind = { type: 'promo.spring', priority: 'routine', category: 'marketing', topic: 'promotions' };
  const plans = { ...DEFAULT_CHANNEL_PLANS, default: { channels: ['push' as const, 'sms' as const], then: [{ channels: ['push' as const, 'email' as const, 'sms' as const], when: 'failed' as const }] } };
  expect(planFor(plans, marketing)).toEqual({ channels: ['push'], then: [{ channels: ['email'], when: 'failed' }] });
});

test('a routine email and SMS wait for the end of quiet hours in the customer zone; critical ones go', () => {
  const night = ctx('2027-04-02T21:30:00Z'); // 23:30 in Paris
  expect(actions(planStep(kind('packed'), ['push', 'email', 'sms', 'inapp'], recipient(), night))).toEqual([
    ['push', 'hold', 'quiet_hours'],
    ['email', 'hold', 'quiet_hours'],
    ['sms', 'hold', 'quiet_hours'],
    ['inapp', 'send', undefined],
  ]);
  const held = planStep(kind('packed'), ['email'], recipient(), night)[0]!;
  expect(held).toMatchObject({ until: '2027-04-03T05:00:00.000Z' });
  expect(actions(planStep(kind('delayed'), ['push', 'email', 'sms'], recipient(), night))).toEqual([
    ['push', 'send', undefined],
    ['email', 'send', undefined],
    ['sms', 'send', undefined],
  ]);
});

test('digests merge routine pushes and emails within the window; SMS stands alone', () => {
  const sentAt = at('2027-04-05T12:00:00Z');
  const c = ctx('2027-04-05T12:01:00Z', { windows: { lastRoutineSentAt: { push: sentAt, email: sentAt, sms: sentAt }, openDigests: {} } });
  const r = recipient({ customer: { ...recipient().customer!, quietHours: null } });
  const decisions = planStep(kind('packed'), ['push', 'email', 'sms'], r, c);
  expect(actions(decisions)).toEqual([
    ['push', 'hold', 'digest'],
    ['email', 'hold', 'digest'],
    ['sms', 'send', undefined],
  ]);
  expect(decisions[1]).toMatchObject({ until: '2027-04-05T12:02:00.000Z' });
});

test('a digest window that closes inside quiet hours waits for them to end', () => {
  const sentAt = at('2027-04-05T19:59:00Z'); // 21:59 in Paris; quiet hours start at 22:00
  const c = ctx('2027-04-05T19:59:40Z', { windows: { lastRoutineSentAt: { email: sentAt }, openDigests: {} } });
  const [held] = planStep(kind('packed'), ['email'], recipient(), c);
  expect(held).toMatchObject({ action: 'hold', reason: 'digest', until: '2027-04-06T05:00:00.000Z' });
});

test('caps apply per channel and category, never to critical events', () => {
  const capRules = [{ channel: 'email' as const, category: 'transactional', limit: 1, window: '1 hour' }];
  const r = recipient({ customer: { ...recipient().customer!, quietHours: null } });
  const [routine] = planStep(kind('confirmed'), ['email'], r, ctx('2027-04-05T12:00:00Z', { capRules }));
  expect(routine).toMatchObject({ action: 'send', caps: capRules });
  const [critical] = planStep(kind('shipped'), ['email'], r, ctx('2027-04-05T12:00:00Z', { capRules }));
  expect(critical).toMatchObject({ action: 'send', caps: [] });
});

test('preferences, consent and reach decide each channel; the inbox honours its own preference', () => {
  const r = recipient({
    devices: [],
    contacts: { email: 'invalid_address', sms: 'no_address' },
    preferences: { preferences: [{ channel: 'inapp', category: 'transactional', optedIn: false }], consents: [] },
  });
  expect(actions(planStep(kind('packed'), ['push', 'email', 'sms', 'inapp'], r, ctx('2027-04-05T12:00:00Z')))).toEqual([
    ['push', 'suppress', 'no_device'],
    ['email', 'suppress', 'invalid_address'],
    ['sms', 'suppress', 'no_address'],
    ['inapp', 'suppress', 'preference'],
  ]);
  expect(actions(planStep(kind('packed'), ['push'], recipient({ customer: null }), ctx('2027-04-05T12:00:00Z')))).toEqual([['push', 'suppress', 'unknown_customer']]);
});

test('a critical update that nothing in its plan may carry goes on another channel the customer permits', () => {
  const r = recipient({
    preferences: {
      preferences: [
        { channel: 'push', category: 'transactional', optedIn: false },
        { channel: 'email', category: 'transactional', optedIn: false },
      ],
      consents: [],
    },
  });
  const decisions = planStep(kind('shipped'), ['push', 'email', 'inapp'], r, ctx('2027-04-05T12:00:00Z'), { planChannels: ['push', 'email', 'inapp'], firstStep: true });
  expect(actions(decisions)).toEqual([
    ['push', 'suppress', 'preference'],
    ['email', 'suppress', 'preference'],
    ['inapp', 'send', undefined],
    ['sms', 'send', undefined],
  ]);
  // With nothing else permitted, the first plan channel the customer only opted out of overrides.
  const alone = planStep(kind('shipped'), ['push', 'email', 'inapp'], { ...r, contacts: { email: 'ok', sms: 'no_address' } }, ctx('2027-04-05T12:00:00Z'), { planChannels: ['push', 'email', 'inapp'], firstStep: true });
  expect(alone.find((d) => d.channel === 'push')).toMatchObject({ action: 'send', override: true });
});

test('a step settles when nothing is pending; the backup goes when nothing reached the customer or nothing was confirmed', () => {
  expect(stepVerdict([{ channel: 'push', state: 'pending' }], 'failed')).toEqual({ next: 'wait' });
  expect(stepVerdict([{ channel: 'push', state: 'sent' }, { channel: 'inapp', state: 'sent' }], null)).toEqual({ next: 'done', reached: true });
  expect(stepVerdict([{ channel: 'push', state: 'failed' }, { channel: 'inapp', state: 'sent' }], 'failed')).toEqual({ next: 'backup', reason: 'all_failed' });
  expect(stepVerdict([{ channel: 'push', state: 'skipped' }], 'failed')).toEqual({ next: 'backup', reason: 'nothing_sent' });
  expect(stepVerdict([{ channel: 'push', state: 'sent' }], 'failed')).toEqual({ next: 'done', reached: true });
  expect(stepVerdict([{ channel: 'push', state: 'capped' }], 'failed')).toEqual({ next: 'done', reached: false });
  expect(stepVerdict([{ channel: 'push', state: 'sent' }, { channel: 'email', state: 'failed' }], 'unconfirmed')).toEqual({ next: 'await_receipt' });
  expect(stepVerdict([{ channel: 'push', state: 'sent', receipt: 'confirmed' }], 'unconfirmed')).toEqual({ next: 'done', reached: true, confirmed: true });
  expect(stepVerdict([{ channel: 'push', state: 'sent', receipt: 'negative' }], 'unconfirmed')).toEqual({ next: 'backup', reason: 'undelivered' });
});

test('HERALD_ESCALATION_POLICY_FILE still means what it meant: push first, then the class fallback', () => {
  const plans = plansFromEscalationPolicy(DEFAULT_ESCALATION_POLICY);
  expect(planFor(plans, kind('shipped'))).toEqual({ channels: ['push', 'inapp'], then: [{ channels: ['email', 'sms'], when: 'unconfirmed', within: '5 minutes' }] });
  expect(planFor(plans, kind('packed'))).toEqual({ channels: ['push', 'inapp'], then: [{ channels: ['email'], when: 'failed' }] });
});

describe('HERALD_CHANNEL_PLANS_FILE', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plans-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('YAML or JSON plans replace the defaults of the types they name', () => {
    const file = write(
      'plans.yaml',
      ['order.shipped:', '  channels: [push, inapp]', '  then:', '    - { channels: [email], when: failed }', '    - { channels: [sms], when: unconfirmed, within: 10 minutes }'].join('\n'),
    );
    const plans = loadChannelPlans(file, '2 minutes');
    expect(plans.plans['order.shipped']).toEqual({ channels: ['push', 'inapp'], then: [{ channels: ['email'], when: 'failed' }, { channels: ['sms'], when: 'unconfirmed', within: '10 minutes' }] });
    expect(plans.plans['order.confirmed']).toEqual(DEFAULT_CHANNEL_PLANS.plans['order.confirmed']);
    expect(plans.receiptDeadline).toBe('2 minutes');
    const json = loadChannelPlans(write('plans.json', JSON.stringify({ default: { channels: ['email'] } })), undefined);
    expect(json.default).toEqual({ channels: ['email'], then: [] });
  });

  test('a bad plan stops start-up naming the file, the field and the reason', () => {
    expect(() => loadChannelPlans(write('a.yaml', 'order.shipped:\n  channels: [fax]\n'), undefined)).toThrow(/HERALD_CHANNEL_PLANS_FILE .*order\.shipped\.channels\.0 must be one of push, email, sms, inapp/);
    expect(() => loadChannelPlans(write('b.yaml', 'order.shipped:\n  channels: [push]\n  then: [{ channels: [sms], when: later }]\n'), undefined)).toThrow(/then\.0\.when must be failed or unconfirmed/);
    expect(() => loadChannelPlans(write('c.yaml', 'order.shipped:\n  channels: [push]\n  then: [{ channels: [sms], when: unconfirmed, within: soon }]\n'), undefined)).toThrow(/within must be a positive duration/);
    expect(() => loadChannelPlans(write('d.yaml', 'Shipped:\n  channels: [push]\n'), undefined)).toThrow(/must be a notification type/);
    expect(() => loadChannelPlans(path.join(dir, 'missing.yaml'), undefined)).toThrow(/HERALD_CHANNEL_PLANS_FILE .*ENOENT/);
  });
});
