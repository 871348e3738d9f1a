// A second start on the same data directory (what `npm start` does) keeps everything: the database,
// the Temporal history and the order's running workflow. Providers run in sandbox mode here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../api/auth';
import { freePort } from '../dev/embedded';
import { startStack, type Stack } from '../dev/stack';
import { eventually, iosToken, testWorkerEnv, untilWorkerReady } from './support/harness';

const adminKey = generateKey();
let dataDir: string;
let stack: Stack | undefined;

async function start(): Promise<Stack> {
  const started = await startStack({
    dataDir,
    persistent: true,
    temporalPort: await freePort(),
    temporalUiPort: null,
    postgresPort: await freePort(),
    apiPort: await freePort(),
    workerMetricsPort: await freePort(),
    adminKey,
    // No sandbox receipts: the test reads each notification's status as the send left it.
    env: { LOG_LEVEL: 'warn', HERALD_SANDBOX_RECEIPTS: 'none', ...(await testWorkerEnv()) },
  });
  try {
    await untilWorkerReady(started);
  } catch (err) {
    await started.stop();
    throw err;
  }
  return started;
}

async function call(method: string, urlPath: string, body?: unknown) {
  const res = await fetch(`${stack!.apiUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-restart-'));
  fs.chmodSync(dataDir, 0o755);
});

afterAll(async () => {
  await stack?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a restarted stack keeps its history and the running order workflow, which goes on notifying', async () => {
  stack = await start();
  expect((await call('PUT', '/v1/customers/cust-r', { locale: 'fr-CA' })).status).toBe(201);
  expect((await call('POST', '/v1/customers/cust-r/devices', { deviceId: 'r-phone', platform: 'ios', token: iosToken('restart') })).status).toBe(201);
  const first = { eventId: 'r-1', orderId: 'ord-r', customerId: 'cust-r', status: 'confirmed', occurredAt: '2026-11-21T08:00:00Z', source: 'oms' };
  expect((await call('POST', '/v1/order-events', first)).status).toBe(202);
  const [sent] = await eventually(async () => {
    const { body } = await call('GET', '/v1/orders/ord-r/notifications');
    expect(body.items[0]?.status).toBe('sent');
    return body.items;
  });
  // No credentials configured: the sandbox provider takes it, labelled as such; fr-CA falls back to fr.
  expect(sent).toMatchObject({ title: 'Commande ord-r confirmée', attempts: [{ provider: 'sandbox-apns', status: 'sent' }] });
  const before = (await call('GET', '/v1/orders/ord-r/state')).body;

  await stack.stop();
  stack = await start();

  // The confirmation's plan: the push went; the email had no address to go to.
  expect((await call('GET', '/v1/orders/ord-r/notifications')).body.items.map((n: any) => [n.channel, n.status]).sort()).toEqual([
    ['email', 'suppressed'],
    ['push', 'sent'],
  ]);
  // The new worker answers by replaying the run from the kept history; it starts polling just after it reports ready.
  await eventually(async () => {
    const after = await call('GET', '/v1/orders/ord-r/state');
    expect(after).toMatchObject({ status: 200, body: { runId: before.runId, runStatus: 'RUNNING', lastStatus: 'confirmed' } });
  }, 60_000);

  const second = { ...first, eventId: 'r-2', status: 'shipped', occurredAt: '2026-11-21T09:00:00Z' };
  expect((await call('POST', '/v1/order-events', second)).body).toMatchObject({ duplicate: false });
  expect((await call('POST', '/v1/order-events', first)).body).toMatchObject({ duplicate: true });
  await eventually(async () => {
    const { body } = await call('GET', '/v1/orders/ord-r/notifications');
    expect(body.items.filter((n: any) => n.channel === 'push').map((n: any) => [n.type, n.status])).toEqual([
      ['order.shipped', 'sent'],
      ['order.confirmed', 'sent'],
    ]);
  });
  expect((await call('GET', '/v1/orders/ord-r/state')).body).toMatchObject({ runId: before.runId, lastStatus: 'shipped' });
}, 180_000);
