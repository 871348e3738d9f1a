// The embedded Temporal server persists in WAL mode with synchronous=normal (dev/embedded.ts): that loses nothing
// committed when the server process dies, only on a power cut. Here the server is killed with SIGKILL in the middle
// of a stream of events, events keep coming while it is down, and it restarts on the same port and file: every
// accepted event is notified exactly once, in the records and at the provider.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from '../dev/embedded';
import { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-temporal-kill-'));
fs.chmodSync(dir, 0o755);
const dbFile = path.join(dir, 'temporal.db');
const h = useHarness({ temporalDbFile: dbFile, env: { HERALD_DIGEST_WINDOW: '0' } });

let restarted: TemporalDevServer | undefined;
afterAll(async () => {
  await restarted?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 30_000);

const PATH = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'] as const;
const ORDERS = 12;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a SIGKILL of the Temporal server mid-stream loses no accepted event and sends none twice', async () => {
  for (let i = 0; i < ORDERS; i++) {
    expect((await h.api('PUT', `/v1/customers/kill-c${i}`, { locale: 'en' })).status).toBeLessThan(300);
    expect((await h.api('POST', `/v1/customers/kill-c${i}/devices`, { deviceId: `kill-c${i}-phone`, platform: 'ios', token: iosToken(`kill-c${i}`) })).status).toBe(201);
  }
  // Orders move along their path together: event k of every order, then event k+1.
  const stream = PATH.flatMap((status) => Array.from({ length: ORDERS }, (_, i) => orderEvent(`kill-o${i}`, `kill-c${i}`, status)));
  const accepted: string[] = [];
  const post = async (event: (typeof stream)[number]) => {
    const res = await h.api('POST', '/v1/order-events', event);
    expect(res.status).toBe(202);
    accepted.push(event.eventId);
  };
  const [beforeKill, whileDown, afterRestart] = [stream.slice(0, 24), stream.slice(24, 36), stream.slice(36)];
  // APNs holds its answers for a while, so sends are in flight at the provider when Temporal dies, however fast this
  // machine is: the kill comes at the first request, and none of them can have been answered yet.
  h.apns.setDefaultResponse({ status: 200, delayMs: 3_000 });
  for (const event of beforeKill) await post(event);
  await eventually(() => expect(h.apns.requests.length).toBeGreaterThan(0), 60_000, 50);

  const pid = h.stack.serverPids.temporal!;
  process.kill(pid, 'SIGKILL');
  await eventually(() => expect(alive(pid)).toBe(false), 10_000, 50);
  h.apns.setDefaultResponse({ status: 200 });
  const beforeKillIds = beforeKill.map((event) => `${event.eventId}/push`);
  const sentAtKill = await h.db.notification.count({ where: { id: { in: beforeKillIds }, status: 'sent' } });
  // The kill really came mid-stream: some of the events accepted before it were not yet notified.
  expect(sentAtKill).toBeLessThan(beforeKill.length);
  // The API takes events while Temporal is away: stored first, signalled by its relay once Temporal is back.
  for (const event of whileDown) await post(event);

  const port = Number(h.stack.temporalAddress.split(':')[1]);
  restarted = await startTemporalDevServer({
    dbFile,
    port,
    uiPort: null,
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
    logFile: path.join(dir, 'temporal-restarted.log'),
  });
  for (const event of afterRestart) await post(event);

  const notificationIds = accepted.map((eventId) => `${eventId}/push`);
  await eventually(
    async () => {
      const rows = await h.db.notification.findMany({ where: { id: { in: notificationIds } }, select: { id: true, status: true } });
      const sent = new Set(rows.filter((r) => r.status === 'sent').map((r) => r.id));
      expect({ notSentYet: notificationIds.filter((id) => !sent.has(id)) }).toEqual({ notSentYet: [] });
    },
    180_000,
    500,
  );
  const perNotification = new Map<string, number>();
  for (const r of h.apns.requests) {
    const id = (r.body as { notificationId?: string }).notificationId ?? '';
    perNotification.set(id, (perNotification.get(id) ?? 0) + 1);
  }
  expect({ accepted: accepted.length, sentTwice: [...perNotification].filter(([, n]) => n > 1), neverSent: notificationIds.filter((id) => !perNotification.has(id)) }).toEqual({
    accepted: stream.length,
    sentTwice: [],
    neverSent: [],
  });
}, 300_000);
