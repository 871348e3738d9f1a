// The order workflow on the time-skipping test server, with its activities replaced at the boundary by
// in-memory doubles that record what the workflow asked for; the workflow itself is the real one.
import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { OrderSettings } from '../../activities/order-settings';
import { planStep, pushSuppression, type PushTarget, type OrderEvent, type PushOutcome, type LifecyclePosition, type PreferenceState } from '../../domain';
import type { PreparedDelivery } from '../../activities/order-steps';
import { orderStateQuery } from '../../workflows/definitions';
import { orderNotificationWorkflow } from '../../workflows/order-notification';
import { testServerPath } from '../../dev/tools';
import { testWorkflows } from './workflow-bundle';

export interface Recorded {
  pushes: Array<{ notificationId: string; deviceId: string; title: string; priority: string }>;
  batches: Array<{ notificationId: string; deviceIds: string[]; title: string }>;
  unsent: Array<{ eventId: string; outcome: unknown }>;
  failed: Array<{ notificationId: string; outcomes: PushOutcome[] }>;
  deadLetters: Array<{ deviceId: string; lastError: string; channel?: string }>;
  /** Email and SMS handed to the (fake) provider, as `<channel>:<notificationId>`. */
  messages: string[];
  messageFailures: Array<{ notificationId: string; reason: string }>;
  holds: Array<{ notificationId: string; reason: string; until: string }>;
  replaced: Array<{ notificationIds: string[]; replacedBy: string; reason: string }>;
  capped: string[];
  digests: Array<{ notificationId: string; statuses: string[] }>;
  /** Inbox messages written, by notification id. */
  inbox: string[];
  /** How many runs loaded the worker's settings. */
  settingsLoads: number;
}

export function fakeActivities(options: {
  devices?: PushTarget[];
  failDevice?: (deviceId: string) => Error | null;
  failMessage?: (channel: 'email' | 'sms') => Error | null;
  position?: LifecyclePosition;
  processedEvents?: Set<string>;
  /** Fallback notifications an earlier run already sent. */
  sentFallbacks?: Set<string>;
  customer?: { timeZone?: string; quietHours?: { start: string; end: string } | null };
  /** Frequency counters shared by every workflow of the test, as the database would keep them. */
  counters?: Map<string, number>;
  /** The customer's email address and phone number on file: present unless null. */
  email?: string | null;
  phone?: string | null;
  preferences?: PreferenceState;
  /** Channels whose template is missing. */
  missingTemplates?: string[];
  /** The worker's order settings (withWorker routes every channel to the test's task queue). */
  settings?: OrderSettings;
}) {
  const recorded: Recorded = {
    pushes: [],
    batches: [],
    unsent: [],
    failed: [],
    deadLetters: [],
    messages: [],
    messageFailures: [],
    holds: [],
    replaced: [],
    capped: [],
    digests: [],
    inbox: [],
    settingsLoads: 0,
  };
  const sendMessage = (channel: 'email' | 'sms', notificationId: string) => {
    const failure = options.failMessage?.(channel);
    if (failure) throw failure;
    recorded.messages.push(`${channel}:${notificationId}`);
    return { status: 'sent' as const, provider: `fake-${channel}`, providerMessageId: 'm' };
  };
  const activities: Partial<Activities> = {
    async loadOrderSettings() {
      recorded.settingsLoads++;
      return options.settings ?? {};
    },
    async loadOrderPosition() {
      return options.position ?? { stage: null, status: null, occurredAt: null };
    },
    async prepareNotification(input) {
      if (options.processedEvents?.has(input.event.eventId)) return { outcome: 'already_processed' };
      const recipient = {
        customer: { id: input.event.customerId, name: 'Ada', locale: 'en', timeZone: options.customer?.timeZone ?? 'UTC', quietHours: options.customer?.quietHours ?? null },
        devices: options.devices ?? [{ deviceId: 'd1', platform: 'ios' as const, token: 'a'.repeat(64), app: null }],
        pushAllowed: true,
      };
      const reason = pushSuppression(recipient);
      if (reason) {
        recorded.unsent.push({ eventId: input.event.eventId, outcome: { status: 'suppressed', reason } });
        return { outcome: 'suppressed', reason };
      }
      const rendered = { title: `status ${input.event.status}`, body: 'b', templateId: 't', templateKey: input.kind.type, templateVersion: 1, locale: 'en' };
      // Devices reporting French get French words, as the renderer would give them.
      const localized: Record<string, { title: string; body: string }> = recipient.devices.some((d) => d.locale === 'fr') ? { fr: { title: `statut ${input.event.status}`, body: 'c' } } : {};
      return { outcome: 'ready', recipient, devices: recipient.devices, rendered, localized };
    },
    async prepareStep(input) {
      if (input.step === 0 && options.processedEvents?.has(input.event.eventId)) return { outcome: 'already_processed' };
      const customer = { id: input.event.customerId, name: 'Ada', locale: 'en', timeZone: options.customer?.timeZone ?? 'UTC', quietHours: options.customer?.quietHours ?? null };
      const devices = options.devices ?? [{ deviceId: 'd1', platform: 'ios' as const, token: 'a'.repeat(64), app: null }];
      const email = options.email === undefined ? 'ada@example.com' : options.email;
      const phone = options.phone === undefined ? '+15551234567' : options.phone;
      const recipient = {
        customer,
        devices,
        contacts: { email: email ? ('ok' as const) : ('no_address' as const), sms: phone ? ('ok' as const) : ('no_address' as const) },
        preferences: options.preferences ?? { preferences: [], consents: [] },
      };
      const decisions = planStep(
        input.kind,
        input.channels,
        recipient,
        { now: Date.parse(input.now), digestWindowMs: input.digestWindowMs, windows: input.windows, capRules: input.capRules },
        { planChannels: input.planChannels, firstStep: input.step === 0 },
      );
      const deliveries: PreparedDelivery[] = [];
      for (const decision of decisions) {
        const notificationId = `${input.event.eventId}/${decision.channel}`;
        if (input.step > 0 && options.sentFallbacks?.has(notificationId)) {
          deliveries.push({ notificationId, channel: decision.channel, decision: { channel: decision.channel, action: 'already_sent' } });
        } else if (decision.action === 'suppress') {
          recorded.unsent.push({ eventId: input.event.eventId, outcome: { status: 'suppressed', reason: decision.reason, channel: decision.channel } });
          deliveries.push({ notificationId, channel: decision.channel, decision });
        } else if (options.missingTemplates?.includes(decision.channel)) {
          deliveries.push({ notificationId, channel: decision.channel, decision: { channel: decision.channel, action: 'failed', reason: 'TemplateMissing: none', failure: 'TemplateMissing' } });
        } else if (decision.channel === 'inapp') {
          recorded.inbox.push(notificationId);
          deliveries.push({ notificationId, channel: 'inapp', decision: { channel: 'inapp', action: 'written' } });
        } else if (decision.channel === 'push') {
          const targets = decision.devices ?? devices;
          const localized: Record<string, { title: string; body: string }> = targets.some((d) => d.locale === 'fr') ? { fr: { title: `statut ${input.event.status}`, body: 'c' } } : {};
          const message = {
            notificationId,
            orderId: input.event.orderId,
            title: `status ${input.event.status}`,
            body: 'b',
            priority: input.kind.priority,
            collapseKey: `order-${input.event.orderId}`,
            data: { notificationId, orderId: input.event.orderId, status: input.event.status, type: input.kind.type },
          };
          deliveries.push({ notificationId, channel: 'push', decision, outbound: { channel: 'push', message, devices: targets, localized } });
        } else if (decision.channel === 'email') {
          const message = { to: email!, subject: `status ${input.event.status}`, text: 't', metadata: { notificationId } };
          deliveries.push({ notificationId, channel: 'email', decision, outbound: { channel: 'email', address: email!, message } });
        } else {
          const message = { to: phone!, body: `status ${input.event.status}`, metadata: { notificationId } };
          deliveries.push({ notificationId, channel: 'sms', decision, outbound: { channel: 'sms', address: phone!, message } });
        }
        if (decision.action === 'hold') recorded.holds.push({ notificationId, reason: decision.reason, until: decision.until });
      }
      return { outcome: 'planned', customer, deliveries };
    },
    async recordUnsent(input) {
      recorded.unsent.push({ eventId: input.event.eventId, outcome: input.outcome });
    },
    async sendPush(input) {
      const failure = options.failDevice?.(input.target.deviceId);
      if (failure) throw failure;
      recorded.pushes.push({ notificationId: input.notificationId, deviceId: input.target.deviceId, title: input.message.title, priority: input.message.priority });
      return { deviceId: input.target.deviceId, status: 'sent', provider: 'fake', providerMessageId: 'm' };
    },
    async sendPushBatch(input) {
      recorded.batches.push({ notificationId: input.notificationId, deviceIds: input.targets.map((t) => t.deviceId), title: input.message.title });
      return input.targets.map((t) => {
        const failure = options.failDevice?.(t.deviceId);
        return failure
          ? { deviceId: t.deviceId, status: 'failed' as const, provider: 'fake-fcm', error: `InvalidDeviceToken: ${failure.message}` }
          : { deviceId: t.deviceId, status: 'sent' as const, provider: 'fake-fcm', providerMessageId: 'm' };
      });
    },
    async prepareFallback(input) {
      if (options.sentFallbacks?.has(input.notificationId)) return { outcome: 'already_sent' };
      const metadata = { notificationId: input.notificationId };
      return input.channel === 'email'
        ? { outcome: 'ready', channel: 'email', address: 'ada@example.com', message: { to: 'ada@example.com', subject: `status ${input.event.status}`, text: 't', metadata } }
        : { outcome: 'ready', channel: 'sms', address: '+15551234567', message: { to: '+15551234567', body: `status ${input.event.status}`, metadata } };
    },
    async sendEmail(input) {
      return sendMessage('email', input.notificationId);
    },
    async sendSms(input) {
      return sendMessage('sms', input.notificationId);
    },
    async recordHold(input) {
      recorded.holds.push({ notificationId: input.notificationId, reason: input.reason, until: input.until });
    },
    async recordReplaced(input) {
      recorded.replaced.push({ notificationIds: input.notificationIds, replacedBy: input.replacedBy, reason: input.reason });
    },
    async recordCapped(input) {
      recorded.capped.push(input.notificationId);
    },
    async prepareDigest(input) {
      recorded.digests.push({ notificationId: input.notificationId, statuses: input.items.map((i) => i.status) });
      return { title: `digest ${input.items.map((i) => i.status).join('+')}`, body: 'b' };
    },
    async claimFrequencySlot(input) {
      const counters = options.counters ?? new Map<string, number>();
      for (const rule of input.rules) {
        const key = `${input.customerId}|${input.channel}|${rule.category}`;
        if ((counters.get(key) ?? 0) >= rule.limit) return { allowed: false, rule: rule.description };
      }
      for (const rule of input.rules) {
        const key = `${input.customerId}|${input.channel}|${rule.category}`;
        counters.set(key, (counters.get(key) ?? 0) + 1);
      }
      return { allowed: true };
    },
    async recordMessageFailed(input) {
      recorded.messageFailures.push({ notificationId: input.notificationId, reason: input.reason });
    },
    async recordNotificationFailed(input) {
      recorded.failed.push({ notificationId: input.notificationId, outcomes: input.outcomes });
    },
    async recordDeadLetter(input) {
      if ('deviceId' in input.target) recorded.deadLetters.push({ deviceId: input.target.deviceId, lastError: input.lastError });
      else recorded.deadLetters.push({ deviceId: input.target.address, lastError: input.lastError, channel: input.channel });
      return 'dl-1';
    },
  };
  return { activities, recorded };
}

/** Sends every channel's activities to the test's one task queue, served by the fake activities. */
export const routing = (taskQueue: string) => ({ delivery: { taskQueues: { push: taskQueue, email: taskQueue, sms: taskQueue } } });

/** A run's history as the Web UI reads it: the run's input, and the summaries of its timers and activities. */
export async function webUiView(handle: WorkflowHandle) {
  const { events } = await handle.fetchHistory();
  const summary = (e: temporal.api.history.v1.IHistoryEvent) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary as never) : undefined);
  const Type = temporal.api.enums.v1.EventType;
  const started = events!.find((e) => e.eventType === Type.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!;
  return {
    input: (started.workflowExecutionStartedEventAttributes!.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<Record<string, unknown>>(p as never)),
    timers: events!.filter((e) => e.eventType === Type.EVENT_TYPE_TIMER_STARTED).map(summary),
    activities: events!.filter((e) => e.eventType === Type.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map(summary),
  };
}

export function orderEvent(orderId: string, status: OrderEvent['status'], minute: number, extra: Partial<OrderEvent> = {}): OrderEvent {
  return {
    eventId: `e-${orderId}-${status}-${minute}`,
    orderId,
    customerId: 'c1',
    status,
    occurredAt: new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString(),
    source: 'test',
    data: {},
    receivedAt: new Date().toISOString(),
    ...extra,
  };
}

/** One time-skipping test server for a test file, and the helpers its tests use. */
export function useTimeSkipping() {
  let env: TestWorkflowEnvironment;
  let seq = 0;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const helpers = {
    get env() {
      return env;
    },
    /** Waits (in skipped time) until the workflow has handled `count` events, and returns its state. */
    async processedAtLeast(handle: WorkflowHandle, count: number, realTimeoutMs = 60_000) {
      const giveUpAt = Date.now() + realTimeoutMs;
      for (;;) {
        const state = await handle.query(orderStateQuery);
        if (state.processed.length >= count) return state;
        // Fail with what the workflow says rather than hang until jest's timeout leaves a worker polling.
        if (Date.now() > giveUpAt) throw new Error(`${handle.workflowId} processed ${state.processed.length} of ${count} events: ${JSON.stringify(state)}`);
        await env.sleep(500);
      }
    },
    /** Retries an assertion while time skips ahead half a second at a time. */
    async eventuallyInTime(check: () => Promise<void>, tries = 40): Promise<void> {
      for (let i = 0; ; i++) {
        try {
          return await check();
        } catch (err) {
          if (i >= tries) throw err;
          await env.sleep(500);
        }
      }
    },
    /** Moves the server's clock forward to an instant (never back). */
    async jumpTo(iso: string): Promise<void> {
      const delta = Date.parse(iso) - (await env.currentTimeMs());
      if (delta < 0) throw new Error(`the test clock is already past ${iso}`);
      await env.sleep(delta);
    },
    /** With RECORD_HISTORIES=1, keeps a finished run's history as a replay fixture (test/histories). */
    async keepHistory(handle: WorkflowHandle, name: string): Promise<void> {
      if (!process.env.RECORD_HISTORIES) return;
      const history = await handle.fetchHistory();
      fs.mkdirSync(path.join(__dirname, '..', 'histories'), { recursive: true });
      fs.writeFileSync(path.join(__dirname, '..', 'histories', `${name}.bin`), temporal.api.history.v1.History.encode(history).finish());
    },
    async withWorker<T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
      const taskQueue = `wf-test-${++seq}`;
      const loadSettings = activities.loadOrderSettings;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        ...testWorkflows(),
        activities: {
          ...activities,
          // The worker's settings, with every channel's activities on the test's task queue.
          ...(loadSettings && {
            async loadOrderSettings() {
              const settings = await loadSettings();
              return { ...settings, delivery: { ...routing(taskQueue).delivery, ...settings.delivery } };
            },
          }),
        },
      });
      return worker.runUntil(fn(taskQueue));
    },
    /** Starts an order's run as the API does: its input is the order's identity, its settings the worker's. */
    async startOrder(taskQueue: string, orderId: string) {
      return env.client.workflow.start(orderNotificationWorkflow, { workflowId: `order:${orderId}`, taskQueue, args: [{ orderId, customerId: 'c1' }] });
    },
  };
  return helpers;
}
