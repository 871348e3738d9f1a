// The fallback policy's rules and its configuration (HERALD_ESCALATION_POLICY_FILE, HERALD_RECEIPT_DEADLINE), and the
// configuration schema that reads them with every other variable.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ESCALATION_POLICY, DEFAULT_FREQUENCY_CAPS, escalationRuleFor, notificationKindFor, type NotificationKind } from '../domain';
import { ConfigError, environment, loadConfig, loadEscalationPolicy, loadFrequencyCaps, loadLocalStackConfig, localStackEnvironment } from '../lib/config';

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

describe('the configuration schema', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('the configuration was accepted');
  };

  test("has the README's defaults, and a blank value counts as unset", () => {
    const config = loadConfig({ PORT: '  ', APNS_KEY_FILE: '' });
    expect(config).toMatchObject({
      port: 3000,
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      taskQueue: 'herald-orders',
      dataDir: 'data',
      log: { level: 'info', service: 'herald' },
      orderLinger: '7 days',
      orderIdleTimeout: '30 days',
      digestWindow: '2 minutes',
      templateCacheMs: 30_000,
      worker: { workflowCacheSize: 250, metricsPort: 9464, sdkMetricsPort: null },
      rateLimits: { push: 500, email: 50, sms: 10 },
      retry: {
        push: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8 },
        sms: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 6 },
      },
      escalation: DEFAULT_ESCALATION_POLICY,
      frequencyCaps: DEFAULT_FREQUENCY_CAPS,
      apns: null,
      publicUrl: 'http://localhost:3000',
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(loadConfig({ HERALD_DIGEST_WINDOW: '0', HERALD_PUBLIC_URL: 'https://herald.example/api/' })).toMatchObject({
      digestWindow: '0',
      publicUrl: 'https://herald.example/api',
    });
  });

  test('sandbox receipts: delivered when every channel is a sandbox, none beside a live channel, and as set when set', () => {
    const smtp = { SMTP_URL: 'smtp://relay.example:587', EMAIL_FROM: 'Shop <orders@shop.example>' };
    expect(loadConfig({}).sandboxReceipts).toBe('delivered');
    expect(loadConfig(smtp).sandboxReceipts).toBe('none');
    expect(loadConfig({ VAPID_PUBLIC_KEY: 'BPub', VAPID_PRIVATE_KEY: 'priv', VAPID_SUBJECT: 'mailto:ops@shop.example' }).sandboxReceipts).toBe('none');
    expect(loadConfig({ ...smtp, HERALD_SANDBOX_RECEIPTS: 'opened' }).sandboxReceipts).toBe('opened');
    expect(loadConfig({ HERALD_SANDBOX_RECEIPTS: 'none' }).sandboxReceipts).toBe('none');
  });

  test('refuses bad values, every one at once, naming the variable and the reason', () => {
    expect(
      problems({
        PORT: 'abc',
        HERALD_PUSH_RETRY_MAX_ATTEMPTS: '0',
        HERALD_FREQUENCY_CAPS: 'not-json',
        HERALD_ORDER_LINGER: 'soon',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://db/herald',
        APNS_PRODUCTION: 'maybe',
        HERALD_TEMPLATE_CACHE_MS: '-1',
      }),
    ).toEqual([
      "PORT: must be a port number (1-65535), got 'abc'",
      expect.stringMatching(/^DATABASE_URL: must be a postgresql:\/\/ URL/),
      "HERALD_ORDER_LINGER: must be a positive duration such as '30 seconds' or '5m', got 'soon'",
      "LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      "HERALD_PUSH_RETRY_MAX_ATTEMPTS: must be a whole number of attempts, 1 or more, got '0'",
      expect.stringMatching(/^HERALD_FREQUENCY_CAPS: is not JSON: /),
      "HERALD_TEMPLATE_CACHE_MS: must be a whole number of milliseconds (0 or more), got '-1'",
      "APNS_PRODUCTION: must be true or false, got 'maybe'",
    ]);
    expect(() => loadConfig({ HERALD_PUSH_RETRY_MAX_ATTEMPTS: '0' })).toThrow(/^invalid configuration:\n {2}HERALD_PUSH_RETRY_MAX_ATTEMPTS: /);
    // A URL may carry credentials: the message never repeats it.
    expect(problems({ SMTP_URL: 'http://user:secret@relay', EMAIL_FROM: 'a@b.example' })).toEqual(['SMTP_URL: must be a URL starting smtp:// or smtps://, such as smtp://user:pass@host:587']);
  });

  test('a provider switched on without its companions is refused, together with any bad value', () => {
    expect(problems({ APNS_KEY_FILE: '/keys/AuthKey.p8', APNS_TOPIC: 'com.example.shop', PORT: '0' })).toEqual([
      "PORT: must be a port number (1-65535), got '0'",
      'APNS_KEY_ID: must be set when APNS_KEY_FILE is set',
      'APNS_TEAM_ID: must be set when APNS_KEY_FILE is set',
    ]);
    expect(problems({ VAPID_PUBLIC_KEY: 'BPub' })).toEqual(['VAPID_PRIVATE_KEY: must be set when VAPID_PUBLIC_KEY is set', 'VAPID_SUBJECT: must be set when VAPID_PUBLIC_KEY is set']);
    expect(problems({ TWILIO_ACCOUNT_SID: 'SK1', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15550001111' })).toEqual(['TWILIO_ACCOUNT_SID: must be an account SID, starting with AC']);
  });

  test('problems inside the frequency caps and the policy file say where', () => {
    expect(() => loadFrequencyCaps('[{"channel":"fax","category":"marketing","limit":1,"window":"1 hour"}]')).toThrow('HERALD_FREQUENCY_CAPS[0].channel: must be push, email or sms');
    expect(() => loadFrequencyCaps('[{"channel":"push","category":"marketing","limit":1.5,"window":"1 hour"}]')).toThrow('HERALD_FREQUENCY_CAPS[0].limit: must be a whole number');
    expect(() => loadFrequencyCaps('{"channel":"push"}')).toThrow('HERALD_FREQUENCY_CAPS: must be a JSON list of rules');
    const file = policyFile({ critical: { fallback: ['email', 'fax'] } });
    expect(() => loadConfig({ HERALD_ESCALATION_POLICY_FILE: file })).toThrow(`HERALD_ESCALATION_POLICY_FILE (${file}): critical.fallback[1]: must be one of email, sms`);
    expect(() => loadEscalationPolicy({ HERALD_ESCALATION_POLICY_FILE: policyFile([]) })).toThrow(/\): must be a JSON object/);
  });

  test("lists exactly the README's configuration table (the npm start variables in their own schema)", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const documented = table
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect(documented.length).toBeGreaterThan(40);
    expect([...Object.keys(environment.shape), ...Object.keys(localStackEnvironment.shape)].sort()).toEqual([...documented].sort());
  });

  test('the npm start variables are checked the same way', () => {
    expect(loadLocalStackConfig({})).toMatchObject({ TEMPORAL_PORT: 7233, TEMPORAL_UI_PORT: 8233, EMBEDDED_PG_PORT: 5433 });
    expect(() => loadLocalStackConfig({ TEMPORAL_PORT: 'tcp://10.0.0.1:7233' })).toThrow("TEMPORAL_PORT: must be a port number (1-65535), got 'tcp://10.0.0.1:7233'");
    // ...and the worker and API do not read them at all.
    expect(loadConfig({ TEMPORAL_PORT: 'tcp://10.0.0.1:7233' }).port).toBe(3000);
  });
});
