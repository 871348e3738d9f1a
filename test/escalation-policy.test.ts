// The fallback policy's rules and its configuration (HERALD_ESCALATION_POLICY_FILE, HERALD_RECEIPT_DEADLINE).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ESCALATION_POLICY, escalationRuleFor, notificationKindFor, type NotificationKind } from '../domain';
import { loadConfig, loadEscalationPolicy } from '../lib/config';

const marketing: NotificationKind = { type: 'promo.spring', priority: 'critical', category: 'marketing' };

function policyFile(content: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-policy-')), 'policy.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('by default critical updates escalate to email and SMS after five minutes without a receipt; routine ones to email on failure', () => {
  expect(escalationRuleFor(DEFAULT_ESCALATION_POLICY, notificationKindFor('out_for_delivery'))).toEqual({ fallback: ['email', 'sms'], receiptDeadline: '5 minutes' });
  expect(escalationRuleFor(DEFAULT_ESCALATION_POLICY, notificationKindFor('packed'))).toEqual({ fallback: ['email'], receiptDeadline: null });
});

test('marketing never escalates to SMS, even when its priority is critical or a policy object says so', () => {
  expect(escalationRuleFor(DEFAULT_ESCALATION_POLICY, marketing).fallback).toEqual(['email']);
  const tampered = { ...DEFAULT_ESCALATION_POLICY, marketing: { fallback: ['email', 'sms'] as Array<'email' | 'sms'>, receiptDeadline: null } };
  expect(escalationRuleFor(tampered, marketing).fallback).toEqual(['email']);
});

test('a policy file overrides classes one by one and the receipt deadline variable wins for critical', () => {
  const file = policyFile({ critical: { receiptDeadline: '10 minutes' }, routine: { fallback: [] } });
  const policy = loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: file });
  expect(policy.critical).toEqual({ fallback: ['email', 'sms'], receiptDeadline: '10 minutes' });
  expect(policy.routine).toEqual({ fallback: [], receiptDeadline: null });
  expect(policy.marketing).toEqual(DEFAULT_ESCALATION_POLICY.marketing);
  expect(loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: file, HERALD_RECEIPT_DEADLINE: '30s' }).critical.receiptDeadline).toBe('30s');
  // The defaults themselves are never changed by loading.
  expect(DEFAULT_ESCALATION_POLICY.routine.fallback).toEqual(['email']);
});

test('a policy that cannot be right is refused at start with the reason', () => {
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile({ marketing: { fallback: ['sms'] } }) })).toThrow(/marketing never escalates to sms/);
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile({ urgent: {} }) })).toThrow(/unknown class 'urgent'/);
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile({ critical: { fallback: ['fax'] } }) })).toThrow(/critical.fallback/);
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile({ critical: { receiptDeadline: 'soon' } }) })).toThrow(/receiptDeadline/);
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile('{not json') })).toThrow(/HERALD_ESCALATION_POLICY_FILE/);
  expect(() => loadEscalationPolicy({ HERALD_RECEIPT_DEADLINE: '-5 minutes' })).toThrow(/HERALD_RECEIPT_DEADLINE/);
  expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: '/no/such/file.json' })).toThrow(/no\/such\/file/);
});

test('per-channel retry policies, rate limits and provider settings come from the environment', () => {
  const config = loadConfig({
    HERALD_EMAIL_RETRY_MAX_ATTEMPTS: '4',
    HERALD_SMS_RETRY_INITIAL: '2 seconds',
    HERALD_SMS_RATE_LIMIT: '3',
    SMTP_URL: 'smtp://relay.example:587',
    EMAIL_FROM: 'Shop <orders@shop.example>',
    TWILIO_ACCOUNT_SID: 'AC123',
    TWILIO_AUTH_TOKEN: 'secret',
    TWILIO_FROM: '+15550001111',
    PORT: '4000',
  });
  expect(config.retry.email).toEqual({ initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 4 });
  expect(config.retry.sms.initialInterval).toBe('2 seconds');
  expect(config.rateLimits).toEqual({ push: 500, email: 50, sms: 3 });
  expect(config.smtp).toMatchObject({ url: 'smtp://relay.example:587', from: 'Shop <orders@shop.example>' });
  expect(config.twilio).toMatchObject({ accountSid: 'AC123', from: '+15550001111' });
  expect(config.publicUrl).toBe('http://localhost:4000');
  expect(() => loadConfig({ SMTP_URL: 'smtp://relay.example' })).toThrow(/EMAIL_FROM/);
  expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(/TWILIO_AUTH_TOKEN/);
  expect(() => loadConfig({ HERALD_SMS_RATE_LIMIT: 'fast' })).toThrow(/HERALD_SMS_RATE_LIMIT/);
});
