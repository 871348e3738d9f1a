// Sandbox providers (no provider configured, as on a first `npm start`) on the real stack: by default a sandbox push
// reports a delivery receipt a moment later, through the same recorder as the API's receipt endpoint, so a critical
// update's plan is confirmed and does not escalate to SMS; HERALD_SANDBOX_RECEIPTS=none reports nothing and shows
// the escalation path. A sandbox push reports as the app would: with the receipt token the push carried.
import { withReceiptTokens } from '../activities/providers/receipt-tokens';
import { createSandboxPushProvider, createSandboxReceipts } from '../activities/providers/sandbox';
import { parseSigningKeys } from '../lib/signing-keys';
import type { ReceiptReport } from '../store/receipts';
import { eventually, iosToken, orderEvent, untilWorkerReady, useHarness } from './support/harness';
import { logger } from './support/logger';

// Long enough for a receipt a second after the push on a busy machine, short enough to see an escalation.
const RECEIPT_DEADLINE = '8 seconds';

// Every provider unset: the worker runs sandbox providers only (an empty value counts as unset).
const SANDBOX_ONLY = { APNS_KEY_FILE: '', FCM_CREDENTIALS_FILE: '', VAPID_PUBLIC_KEY: '', SMTP_URL: '', TWILIO_ACCOUNT_SID: '' };

const h = useHarness({ env: { ...SANDBOX_ONLY, HERALD_RECEIPT_DEADLINE: RECEIPT_DEADLINE } });

let customers = 0;

async function customer(id: string) {
  const phone = `+1555${String(2_000_000 + ++customers * 7919).slice(-7)}`;
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', email: `${id}@example.com`, phone, locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-iphone`, platform: 'ios', token: iosToken(id) })).status).toBe(201);
}

async function outForDelivery(orderId: string, customerId: string) {
  // Out for delivery: push and the inbox, then SMS if no receipt confirms them within the deadline.
  const event = orderEvent(orderId, customerId, 'out_for_delivery');
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  return event;
}

const channels = async (orderId: string) =>
  ((await h.api('GET', `/v1/orders/${orderId}/notifications`)).body.items as Array<{ channel: string; status: string }>)
    .map((n) => `${n.channel}:${n.status}`)
    .sort();

test('by default a sandbox push gets a delivered receipt from the sandbox, and the critical plan does not escalate to SMS', async () => {
  await customer('sbx-default');
  const event = await outForDelivery('ord-sbx-default', 'sbx-default');

  const push = await eventually(async () => {
    const res = await h.api('GET', `/v1/notifications/${encodeURIComponent(`${event.eventId}/push`)}`);
    expect(res.body).toMatchObject({ status: 'delivered', receipts: [{ type: 'delivered', source: 'sandbox' }] });
    return res.body;
  });
  expect(push.attempts).toEqual([expect.objectContaining({ provider: 'sandbox-apns', status: 'sent' })]);
  expect(push.receipts[0].detail).toMatchObject({ provider: 'sandbox-apns' });

  // The workflow took the receipt: the plan is confirmed, no backup step is pending.
  await eventually(async () => {
    const state = await h.api('GET', '/v1/orders/ord-sbx-default/state');
    expect(state.body).toMatchObject({ waitingFor: null, processed: [{ escalation: { status: 'confirmed', channels: ['sms'] } }] });
  });
  expect(await channels('ord-sbx-default')).toEqual(['push:delivered']);
});

test('HERALD_SANDBOX_RECEIPTS=none: no receipt, and the critical plan escalates to SMS when the deadline passes', async () => {
  await h.stack.worker.stop();
  h.stack.env.HERALD_SANDBOX_RECEIPTS = 'none';
  await h.stack.startWorker();
  await untilWorkerReady(h.stack);

  await customer('sbx-none');
  const event = await outForDelivery('ord-sbx-none', 'sbx-none');
  await eventually(async () => {
    const state = await h.api('GET', '/v1/orders/ord-sbx-none/state');
    expect(state.body).toMatchObject({ waitingFor: null, processed: [{ escalation: { status: 'escalated', reason: 'no_receipt', channels: ['sms'] } }] });
  }, 60_000);
  expect(await channels('ord-sbx-none')).toEqual(['push:sent', 'sms:sent']);
  const push = await h.api('GET', `/v1/notifications/${encodeURIComponent(`${event.eventId}/push`)}`);
  expect(push.body).toMatchObject({ status: 'sent', receipts: [] });
});

describe('sandbox receipts without the stack', () => {
  const target = { deviceId: 'd-1', platform: 'ios', token: 'ab'.repeat(32) } as never;
  const message = { notificationId: 'ev-9/push', orderId: 'o-9', title: 't', body: 'b', priority: 'high' as const, collapseKey: 'o-9', data: {} };
  const receiptKeys = parseSigningKeys('k1:sandbox-receipts-test-secret');
  /** The sandbox push provider as the worker makes it: its pushes stamped with their receipt token. */
  const sandboxPush = (receipts: ReturnType<typeof createSandboxReceipts>) => {
    const sandbox = createSandboxPushProvider('apns', logger, receipts);
    return withReceiptTokens({ ios: sandbox, android: sandbox, web: sandbox }, receiptKeys).ios;
  };
  const recording = (reports: ReceiptReport[]) => ({
    record: async (r: ReceiptReport) => (reports.push(r), { receipt: {} as never, duplicate: false, notificationStatus: 'delivered' as const, signalled: true }),
  });

  test('opened reports a delivery, then an open, once per delivery key; a stopping worker reports what is due at once', async () => {
    const reports: ReceiptReport[] = [];
    const receipts = createSandboxReceipts({ mode: 'opened', recorder: recording(reports), logger, receiptKeys, delayMs: 60_000 });
    const provider = sandboxPush(receipts);
    await provider.send(target, message as never, 'ev-9/push:d-1');
    expect(reports).toEqual([]);
    await receipts.close();
    expect(reports.map((r) => [r.type, r.source, r.notificationId, r.dedupeKey])).toEqual([
      ['delivered', 'sandbox', 'ev-9/push', 'sandbox:ev-9/push:d-1:delivered'],
      ['opened', 'sandbox', 'ev-9/push', 'sandbox:ev-9/push:d-1:opened'],
    ]);
  });

  test('a push without its receipt token, or with another key\'s, reports nothing: the app could not either', async () => {
    const reports: ReceiptReport[] = [];
    const receipts = createSandboxReceipts({ mode: 'delivered', recorder: recording(reports), logger, receiptKeys, delayMs: 1 });
    // Not stamped: no token at all.
    await createSandboxPushProvider('apns', logger, receipts).send(target, message as never, 'ev-9/push:d-1');
    // Stamped under a secret the receipts are not checked with.
    const sandbox = createSandboxPushProvider('apns', logger, receipts);
    await withReceiptTokens({ ios: sandbox, android: sandbox, web: sandbox }, parseSigningKeys('k1:another-secret-altogether')).ios.send(target, message as never, 'ev-9/push:d-2');
    await receipts.close();
    expect(reports).toEqual([]);
  });

  test('a receipt the recorder refuses is logged, never thrown into the send', async () => {
    const recorder = { record: async () => Promise.reject(new Error('database away')) };
    const receipts = createSandboxReceipts({ mode: 'delivered', recorder, logger, receiptKeys, delayMs: 1 });
    const provider = sandboxPush(receipts);
    await expect(provider.send(target, message as never, 'ev-9/push:d-1')).resolves.toMatchObject({ provider: 'sandbox-apns' });
    await receipts.close();
  });
});
