// GET /v1/stats and the /dashboard page, on the real stack: notifications made by real events (sent through
// the fake APNs and FCM, suppressed, failed on an APNs 410), then the numbers checked exactly against them,
// and the dashboard checked in headless Chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { androidToken, eventually, iosToken, orderEvent, useHarness } from './support/harness';

const started = new Date();

// Push only: these figures are about push providers; fallback email and SMS have their own tests.
const h = useHarness(() => {
  const policy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'herald-stats-')), 'no-fallback.json');
  fs.writeFileSync(policy, JSON.stringify({ critical: { fallback: [] }, routine: { fallback: [] }, marketing: { fallback: [] } }));
  return { env: { HERALD_ESCALATION_POLICY_FILE: policy } };
});
const shipment = { trackingNumber: '1Z1', carrier: 'UPS' };

async function customerWithDevices(customerId: string, devices: Array<{ deviceId: string; platform: string; token: string }>) {
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'Europe/London' })).status).toBe(201);
  for (const device of devices) expect((await h.api('POST', `/v1/customers/${customerId}/devices`, device)).status).toBe(201);
}

async function post(event: ReturnType<typeof orderEvent>) {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
}

async function settled(orderId: string, count: number) {
  await eventually(async () => {
    const res = await h.api('GET', `/v1/orders/${orderId}/notifications`);
    expect(res.body.items).toHaveLength(count);
    for (const n of res.body.items) expect(n.status).not.toBe('queued');
  });
}

/** PostgreSQL's percentile_cont: linear interpolation between the closest ranks. */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function expectPercentiles(actual: any, values: number[]) {
  expect(actual.count).toBe(values.length);
  for (const [name, p] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) {
    expect(actual[name]).toBeGreaterThan(0);
    expect(actual[name]).toBeCloseTo(percentileCont(values, p), 0);
  }
}

const stats = async (query = '', key?: string) => h.api('GET', `/v1/stats${query}`, undefined, key);
const COUNTS = ['total', 'sent', 'delivered', 'failed', 'suppressed', 'pending'] as const;

test('stats count, rate and time every notification of the window, per group and per bucket', async () => {
  const dead = iosToken('stats-dead');
  await customerWithDevices('stats-ios', [{ deviceId: 'stats-iphone', platform: 'ios', token: iosToken('stats-ios') }]);
  await customerWithDevices('stats-android', [{ deviceId: 'stats-pixel', platform: 'android', token: androidToken('stats') }]);
  await customerWithDevices('stats-none', []);
  await customerWithDevices('stats-dead', [{ deviceId: 'stats-dead-iphone', platform: 'ios', token: dead }]);
  h.apns.respondWith(dead, [{ status: 410, reason: 'Unregistered' }]);

  await post(orderEvent('st-a', 'stats-ios', 'confirmed', { minute: 1, data: shipment })); // sent by APNs
  await post(orderEvent('st-a', 'stats-ios', 'shipped', { minute: 2, data: shipment })); // sent by APNs
  await post(orderEvent('st-a', 'stats-ios', 'packed', { minute: 3, data: shipment })); // late: suppressed, out_of_order
  await post(orderEvent('st-b', 'stats-android', 'shipped', { minute: 1, data: shipment })); // sent by FCM
  await post(orderEvent('st-c', 'stats-none', 'confirmed', { minute: 1, data: shipment })); // suppressed, no_device
  await post(orderEvent('st-d', 'stats-dead', 'shipped', { minute: 1, data: shipment })); // failed: APNs 410
  await Promise.all([settled('st-a', 3), settled('st-b', 1), settled('st-c', 1), settled('st-d', 1)]);

  // No receipts come back from push yet: mark the FCM one delivered, as a receipt would.
  const fcmOne = await h.db.notification.findFirstOrThrow({ where: { orderId: 'st-b' } });
  await h.db.notification.update({ where: { id: fcmOne.id }, data: { status: 'delivered', deliveredAt: new Date(fcmOne.sentAt!.getTime() + 250) } });

  const rows = await h.db.notification.findMany({ include: { event: true, attempts: true } });
  expect(rows).toHaveLength(6);
  // From when each was free to go (none of these was held or a backup: the event's receivedAt).
  const startOf = (n: (typeof rows)[number]) => (n.heldUntil ?? (n.planStep > 0 ? n.createdAt : n.event!.receivedAt)).getTime();
  expect(rows.every((n) => !n.heldUntil && n.planStep === 0)).toBe(true);
  const acceptedMs = (n: (typeof rows)[number]) => n.sentAt!.getTime() - startOf(n);
  const sentRows = rows.filter((n) => n.sentAt);
  const apnsSent = sentRows.filter((n) => n.attempts.some((a) => a.provider === 'apns' && a.status === 'sent'));
  const delivered = rows.filter((n) => n.deliveredAt).map((n) => n.deliveredAt!.getTime() - startOf(n));
  expect(delivered).toHaveLength(1);

  // Default: the last 24 hours by channel.
  const byChannel = await stats();
  expect(byChannel.status).toBe(200);
  expect(byChannel.body).toMatchObject({ groupBy: ['channel'], bucket: null });
  // Accepted by provider 3 of 4 tried; a receipt confirmed 1 of the 3 accepted. deliveryRate is the old name of acceptedRate.
  const totals = { total: 6, sent: 3, delivered: 1, failed: 1, suppressed: 2, pending: 0, acceptedRate: 0.75, receiptRate: 0.3333, deliveryRate: 0.75, failureRate: 0.25 };
  expect(byChannel.body.totals).toMatchObject({
    ...totals,
    suppressedByReason: { no_device: 1, out_of_order: 1 },
    suppressionReasons: [
      { reason: 'no_device', label: 'Not sent: the customer has no registered device for push', count: 1 },
      { reason: 'out_of_order', label: 'Not sent: a later status of this order had already been notified', count: 1 },
    ],
    failuresByReason: [{ reason: 'apns: Unregistered', label: 'apns: Unregistered', count: 1 }],
  });
  // Nothing here was held or a backup: no deliberate waits.
  expect(byChannel.body.deliberateWaits).toEqual([]);
  expect(byChannel.body.groups).toHaveLength(1);
  expect(byChannel.body.groups[0]).toMatchObject({ key: { channel: 'push' }, ...totals, suppressedByReason: { no_device: 1, out_of_order: 1 } });
  expect(byChannel.body.attemptErrors).toEqual([{ reason: 'apns: Unregistered', label: 'apns: Unregistered', count: 1 }]);
  expectPercentiles(byChannel.body.totals.latencyMs.accepted, sentRows.map(acceptedMs));
  expectPercentiles(byChannel.body.totals.latencyMs.delivered, delivered);
  expect(byChannel.body.totals.latencyMs.delivered.p50).toBeCloseTo(acceptedMs(rows.find((n) => n.orderId === 'st-b')!) + 250, 0);

  // By provider: of the successful attempt, else of the last; none for suppressed ones, which are a row of their own.
  const byProvider = await stats('?groupBy=provider');
  const provider = Object.fromEntries(byProvider.body.groups.map((g: any) => [String(g.key.provider), g]));
  expect(Object.keys(provider).sort()).toEqual(['apns', 'fcm', 'null']);
  expect(provider.apns).toMatchObject({ total: 3, sent: 2, delivered: 0, failed: 1, suppressed: 0, deliveryRate: 0.6667, failureRate: 0.3333, failuresByReason: [{ reason: 'apns: Unregistered', count: 1 }] });
  expect(provider.fcm).toMatchObject({ total: 1, sent: 1, delivered: 1, failed: 0, deliveryRate: 1, failureRate: 0, failuresByReason: [] });
  expect(provider.null).toMatchObject({
    key: { provider: null, noAttempt: 'suppressed', providerLabel: 'Not sent (suppressed): no provider was asked' },
    total: 2, sent: 0, suppressed: 2, deliveryRate: null, failureRate: null, suppressedByReason: { no_device: 1, out_of_order: 1 },
  });
  expect(provider.apns.key).toEqual({ provider: 'apns', noAttempt: null, providerLabel: 'apns' });
  expect(provider.null.latencyMs.accepted).toEqual({ count: 0, p50: null, p95: null, p99: null });
  expectPercentiles(provider.apns.latencyMs.accepted, apnsSent.map(acceptedMs));
  expect(byProvider.body.groups[0].key.provider).toBe('apns'); // largest first

  // By template (joined for key, locale and version) and by type and priority together.
  const byTemplate = await stats('?groupBy=template');
  const templates = byTemplate.body.groups.map((g: any) => [g.key.template?.key ?? null, g.key.template?.locale ?? null, g.key.template?.version ?? null, g.total]);
  // What was never rendered has no template: the push suppressed for want of a device, and the late event.
  expect(templates).toEqual([
    ['order.shipped', 'en', 1, 3],
    [null, null, null, 2],
    ['order.confirmed', 'en', 1, 1],
  ]);
  const byType = await stats('?groupBy=type,priority');
  const types = Object.fromEntries(byType.body.groups.map((g: any) => [`${g.key.type}/${g.key.priority}`, [g.total, g.sent, g.failed, g.suppressed]]));
  expect(types).toEqual({ 'order.shipped/critical': [3, 2, 1, 0], 'order.confirmed/routine': [2, 1, 0, 1], 'order.packed/routine': [1, 0, 0, 1] });

  // Time series: every bucket of the window, adding up to the totals.
  const from = new Date(started.getTime() - 5 * 60_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const series = await stats(`?from=${from}&to=${to}&bucket=minute&groupBy=provider`);
  expect(series.status).toBe(200);
  expect(series.body.totals).toMatchObject(totals);
  const points = series.body.totals.series as any[];
  expect(points.length).toBeGreaterThanOrEqual(6);
  expect(points.every((p, i) => i === 0 || Date.parse(p.bucketStart) - Date.parse(points[i - 1].bucketStart) === 60_000)).toBe(true);
  for (const count of COUNTS) expect(points.reduce((sum, p) => sum + p[count], 0)).toBe(series.body.totals[count]);
  for (const group of series.body.groups) {
    expect(group.series).toHaveLength(points.length);
    for (const count of COUNTS) expect(group.series.reduce((sum: number, p: any) => sum + p[count], 0)).toBe(group[count]);
  }
  expect(points.some((p) => p.latencyMs.accepted.p95 > 0)).toBe(true);

  // bucket=auto over the last 24 hours: all of it is in the last minutes, so minute buckets from the first one,
  // or from 15 minutes before `to` when that is earlier (a minute of data is not one lone bar).
  const auto = await stats(`?to=${to}&bucket=auto`);
  expect(auto.status).toBe(200);
  expect(auto.body).toMatchObject({ bucket: 'minute', bucketAuto: true, totals });
  const firstMinute = Math.floor(Math.min(...rows.map((n) => n.createdAt.getTime())) / 60_000) * 60_000;
  const lastMinute = Math.floor((Date.parse(to) - 1) / 60_000) * 60_000;
  const seriesFrom = new Date(Math.min(firstMinute, lastMinute - 14 * 60_000)).toISOString().replace('.000Z', 'Z');
  expect(auto.body.seriesFrom).toBe(seriesFrom);
  expect(auto.body.totals.series[0].bucketStart).toBe(seriesFrom);
  expect(auto.body.totals.series.at(-1).bucketStart).toBe(new Date(lastMinute).toISOString().replace('.000Z', 'Z'));
  for (const count of COUNTS) expect(auto.body.totals.series.reduce((sum: number, p: any) => sum + p[count], 0)).toBe(totals[count]);

  // A window with nothing in it.
  const empty = await stats('?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z&bucket=day');
  expect(empty.body.totals).toMatchObject({ total: 0, sent: 0, deliveryRate: null, failureRate: null, series: [expect.objectContaining({ bucketStart: '2025-01-01T00:00:00Z', total: 0 })] });
  expect(empty.body.groups).toEqual([]);
});

test('bad ranges, groupings and buckets are 400s naming the field; the read scope is required', async () => {
  const cases: Array<[string, string, string]> = [
    ['?from=yesterday', 'from', 'ISO-8601'],
    ['?from=0000-01-01T00:00:00Z', 'from', 'years 1900 to 9999'],
    ['?from=9999-12-31T00:00:00Z&to=9999-12-31T23:00:00-23:00', 'to', 'years 1900 to 9999'],
    ['?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to', 'later than from'],
    ['?from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z', 'to', 'later than from'],
    ['?from=2026-01-01T00:00:00Z&to=2026-11-01T00:00:00Z', 'from', 'at most 90 days'],
    ['?groupBy=channel,colour', 'groupBy', "'colour'"],
    ['?groupBy=', 'groupBy', 'channel, provider, template, type, priority'],
    ['?bucket=week', 'bucket', 'minute, hour, day'],
    ['?from=2026-10-01T00:00:00Z&to=2026-10-30T00:00:00Z&bucket=minute', 'bucket', 'at most 2200'],
  ];
  for (const [query, field, reason] of cases) {
    const res = await stats(query);
    expect({ query, status: res.status }).toEqual({ query, status: 400 });
    expect(res.body.error).toMatchObject({ code: 'validation_failed', fields: [{ field, reason: expect.stringContaining(reason) }] });
  }
  const ingestOnly = await h.api('POST', '/v1/api-keys', { name: 'oms', scopes: ['ingest'] });
  const denied = await stats('', ingestOnly.body.key);
  expect(denied.status).toBe(403);
  expect(denied.body.error).toMatchObject({ code: 'forbidden' });
  expect((await fetch(`${h.stack.apiUrl}/v1/stats`)).status).toBe(401);
  const reader = await h.api('POST', '/v1/api-keys', { name: 'analytics', scopes: ['read'] });
  expect((await stats('', reader.body.key)).status).toBe(200);
});

test('the dashboard asks for a key, keeps it out of URLs and draws the charts', async () => {
  const page0 = await fetch(`${h.stack.apiUrl}/dashboard`);
  expect(page0.status).toBe(200);
  expect(page0.headers.get('content-security-policy')).toContain("connect-src 'self'");
  expect(await page0.text()).toContain('<canvas id="chart-volume"');
  const chartJs = await fetch(`${h.stack.apiUrl}/dashboard/assets/chart.umd.js`);
  expect([chartJs.status, chartJs.headers.get('content-type')]).toEqual([200, expect.stringContaining('javascript')]);
  const deadLettersRoute = (await h.api('GET', '/v1/dead-letters?limit=10')).status;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    // CSP violations and script errors show up here; a 404 from an absent dead-letter route is expected.
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource.*404/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${h.stack.apiUrl}/dashboard`);
    await page.getByLabel('API key (read scope)').fill(h.adminKey);
    await page.getByRole('button', { name: 'Show statistics' }).click();
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });

    const summary = await page.locator('#totals-summary').innerText();
    expect(summary).toContain('6 notifications in the last 24 hours: 3 accepted by provider, 1 failed, 2 suppressed, 0 pending');
    expect(summary).toContain('Accepted by provider 75.0% of those tried; delivered (receipt) 1, 33.3% of those accepted.');
    // The figures say what they are: acceptance is not delivery, and no rate is painted green.
    const tiles = Object.fromEntries(
      await page.locator('#totals > div').evaluateAll((divs) => divs.map((d) => [d.querySelector('dt')!.textContent, [...d.querySelectorAll('dd')].map((dd) => dd.textContent).join(' | ')])),
    );
    expect(tiles).toMatchObject({
      'Accepted by provider': '3 | 75.0% of 4 tried',
      'Delivered (receipt)': '1 | 33.3% of 3 accepted',
      'Accepted by provider rate': '75.0%',
      'Delivered (receipt) rate': '33.3%',
    });
    expect(Object.keys(tiles).some((label) => /^(Sent|Delivery rate|Latency p\d\d)$/.test(String(label)))).toBe(false);
    expect(await page.locator('#totals .good').count()).toBe(0);
    // Reasons read as words, their codes only as secondary text.
    const suppressions = await page.locator('#suppressions-list li').allInnerTexts();
    expect(suppressions).toEqual([
      expect.stringMatching(/^1\s+Not sent: the customer has no registered device for push no_device$/),
      expect.stringMatching(/^1\s+Not sent: a later status of this order had already been notified out_of_order$/),
    ]);
    expect(await page.locator('#chart-suppressions').getAttribute('aria-label')).toContain('Not sent: the customer has no registered device for push (no_device) 1');
    // The charts say which bucket they show: the data is minutes old, so minutes, not one hourly bar.
    expect(await page.locator('#series-note').innerText()).toMatch(/^Charts: 1-minute buckets from .*, fitted to where the last 24 hours has data\.$/);
    // Suppressed notifications are a row of their own after the providers, not a provider called "(none)".
    const groupRows = await page.locator('#groups table tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.className, tr.cells[1]!.textContent]));
    expect(groupRows).toEqual([
      ['', 'apns'],
      ['', 'fcm'],
      ['no-attempt', 'not sent (suppressed) suppressed'],
    ]);
    const groupHeaders = await page.locator('#groups table thead th').allInnerTexts();
    expect(groupHeaders).toEqual(expect.arrayContaining(['Accepted by provider', 'Delivered (receipt)', 'Accepted rate', 'Receipt rate']));
    expect(await page.locator('#groups').innerText()).not.toContain('(none)');
    expect(await page.locator('#waits').innerText()).toBe('No notification was held or sent as a backup in this range.');
    // Each chart drew something: count the canvas pixels that are not transparent.
    for (const id of ['chart-volume', 'chart-rate', 'chart-latency', 'chart-failures', 'chart-suppressions']) {
      const painted = await page.evaluate((canvasId) => {
        const canvas = (globalThis as any).document.getElementById(canvasId);
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return { n, width: canvas.width, label: canvas.getAttribute('aria-label') };
      }, id);
      expect({ id, drawn: painted.n > 1000, wide: painted.width > 200 }).toEqual({ id, drawn: true, wide: true });
      expect(painted.label).not.toBe('');
    }
    expect(await page.locator('#chart-failures').getAttribute('aria-label')).toContain('apns: Unregistered 1');
    expect(await page.locator('#groups table tbody tr').count()).toBe(3);
    const deadLetters = await page.locator('#dead-letters').innerText();
    if (deadLettersRoute === 404) expect(deadLetters).toContain('not available');
    else expect(deadLetters).toMatch(/st-d|No dead letters/);

    await page.getByLabel('Last 7 days').check();
    await page.waitForFunction(() => (globalThis as any).document.getElementById('totals-summary')?.textContent?.includes('the last 7 days'));
    await page.getByLabel('Last 24 hours').check();
    await page.waitForFunction(() => (globalThis as any).document.getElementById('totals-summary')?.textContent?.includes('the last 24 hours'));
    await page.screenshot({ path: '/tmp/herald-dashboard.png', fullPage: true });

    // The key stays in this tab's sessionStorage and headers: never in a URL, never sent elsewhere.
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('herald.dashboard.apiKey'))).toBe(h.adminKey);
    expect(requests.every((url) => url.startsWith(h.stack.apiUrl))).toBe(true);
    expect(requests.some((url) => url.includes(h.adminKey))).toBe(false);
    expect(problems).toEqual([]);

    // A reload keeps the key; "Forget key" drops it.
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    await page.getByRole('button', { name: 'Forget key' }).click();
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('herald.dashboard.apiKey'))).toBeNull();
    await expect(page.getByLabel('API key (read scope)').isVisible()).resolves.toBe(true);

    // A key that is not accepted is not kept.
    await page.getByLabel('API key (read scope)').fill('hk_not_a_key');
    await page.getByRole('button', { name: 'Show statistics' }).click();
    await page.waitForFunction(() => (globalThis as any).document.getElementById('status')?.textContent?.includes('not accepted'));
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('herald.dashboard.apiKey'))).toBeNull();
    fs.statSync('/tmp/herald-dashboard.png');
  } finally {
    await browser.close();
  }
});

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The dashboard's formatMs. */
const formatMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);

test('a notification held for quiet hours: its latency starts when the hold ends, and the hold is reported as time held', async () => {
  // Quiet hours from now to the next minute's end (UTC); start a fresh minute if this one is nearly over.
  if (new Date().getUTCSeconds() > 45) await sleep((61 - new Date().getUTCSeconds()) * 1000);
  const now = new Date();
  const windowEnd = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  const token = iosToken('stats-quiet');
  expect((await h.api('PUT', '/v1/customers/stats-quiet', { name: 'Ada', locale: 'en', timeZone: 'UTC', quietHours: { start: hhmm(now), end: hhmm(windowEnd) } })).status).toBe(201);
  expect((await h.api('POST', '/v1/customers/stats-quiet/devices', { deviceId: 'stats-quiet-phone', platform: 'ios', token })).status).toBe(201);
  const event = orderEvent('st-quiet', 'stats-quiet', 'confirmed', { data: shipment }); // routine: waits for quiet hours
  await post(event);

  // Held while quiet hours last, then sent when they end.
  const held = await eventually(() => h.db.notification.findFirstOrThrow({ where: { orderId: 'st-quiet', holdReason: 'quiet_hours' } }));
  expect(held.heldUntil!.toISOString()).toBe(windowEnd.toISOString());
  await eventually(() => expect(h.apns.requestsFor(token)).toHaveLength(1), 120_000);
  await settled('st-quiet', 1);
  const row = await h.db.notification.findUniqueOrThrow({ where: { id: held.id }, include: { event: true } });
  expect(row.status).toBe('sent');
  const holdMs = row.heldUntil!.getTime() - row.createdAt.getTime();
  const pipelineMs = row.sentAt!.getTime() - row.heldUntil!.getTime();
  const sinceReceivedMs = row.sentAt!.getTime() - row.event!.receivedAt.getTime();
  // What the tiles used to show: the hold counted as slowness.
  expect(sinceReceivedMs).toBeGreaterThanOrEqual(holdMs + pipelineMs);

  // A window holding only this notification: its latency is the time after the hold, not the hold.
  const from = row.createdAt.toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const only = await stats(`?from=${from}&to=${to}`);
  expect(only.status).toBe(200);
  expect(only.body.totals).toMatchObject({ total: 1, sent: 1, delivered: 0, acceptedRate: 1, receiptRate: 0 });
  expect(only.body.totals.latencyMs.accepted.count).toBe(1);
  expect(only.body.totals.latencyMs.accepted.p50).toBeCloseTo(pipelineMs, 0);
  expect(only.body.totals.latencyMs.accepted.p99).toBeLessThanOrEqual(sinceReceivedMs - holdMs + 1);
  // The hold on its own, under time held: quiet hours.
  expect(only.body.deliberateWaits).toEqual([
    { kind: 'held', reason: 'quiet_hours', label: "Held until the customer's quiet hours end", count: 1, p50: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) },
  ]);
  const wait = only.body.deliberateWaits[0];
  for (const v of [wait.p50, wait.p95, wait.max]) expect(v).toBeCloseTo(holdMs, 0);

  // Over the whole day: every sent notification timed from when it was free to go.
  const rows = await h.db.notification.findMany({ where: { sentAt: { not: null } }, include: { event: true } });
  const latencies = rows.map((n) => n.sentAt!.getTime() - (n.heldUntil ?? (n.planStep > 0 ? n.createdAt : n.event!.receivedAt)).getTime());
  const day = await stats();
  expectPercentiles(day.body.totals.latencyMs.accepted, latencies);

  // The dashboard: the latency tiles show those figures, the hold is a tile and a row of its own.
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${h.stack.apiUrl}/dashboard`);
    await page.getByLabel('API key (read scope)').fill(h.adminKey);
    await page.getByRole('button', { name: 'Show statistics' }).click();
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    const tiles = Object.fromEntries(
      await page.locator('#totals > div').evaluateAll((divs) => divs.map((d) => [d.querySelector('dt')!.textContent, [...d.querySelectorAll('dd')].map((dd) => dd.textContent).join(' | ')])),
    );
    const dayLatency = day.body.totals.latencyMs.accepted;
    expect(tiles).toMatchObject({
      'Pipeline latency p50': formatMs(dayLatency.p50),
      'Pipeline latency p99': formatMs(dayLatency.p99),
      'Time held: quiet hours (p95)': `${formatMs(wait.p95)} | 1 held, max ${formatMs(wait.max)}`,
    });
    const waits = await page.locator('#waits table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    expect(waits).toEqual([['Time held: quiet hours quiet_hours', '1', formatMs(wait.p50), formatMs(wait.p95), formatMs(wait.max)]]);
    expect(await page.locator('#waits .labelled').first().getAttribute('title')).toBe('quiet_hours');
  } finally {
    await browser.close();
  }
}, 240_000);

test('a campaign and its experiment variants are groups of their own, each with its counts and rates', async () => {
  const now = Date.now();
  const row = (id: string, variant: string | null, status: string, extra: { openedAt?: Date; suppressionReason?: string } = {}) => h.db.$executeRaw`
    INSERT INTO "Notification" (id, "customerId", type, priority, category, channel, status, "campaignId", "experimentId", variant,
      "createdAt", "updatedAt", "sentAt", "openedAt", "suppressionReason")
    VALUES (${id}, 'stats-camp-c', 'campaign', 'routine', 'marketing', 'push', ${status}::"NotificationStatus", 'stats-winter',
      ${variant ? 'stats-exp' : null}, ${variant}, ${new Date(now - 60_000)}, now(),
      ${status === 'suppressed' ? null : new Date(now - 59_000)}, ${extra.openedAt ?? null}, ${extra.suppressionReason ?? null})`;
  await row('stats-camp-1', 'control', 'sent');
  await row('stats-camp-2', 'control', 'suppressed', { suppressionReason: 'preference' });
  await row('stats-camp-3', 'b', 'opened', { openedAt: new Date(now - 30_000) });
  await row('stats-camp-4', 'b', 'sent');
  const res = await stats(`?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}&groupBy=campaign,variant`);
  expect(res.status).toBe(200);
  const group = (variant: string) => res.body.groups.find((g: any) => g.key.campaignId === 'stats-winter' && g.key.variant === variant);
  expect(group('control')).toMatchObject({ key: { campaignId: 'stats-winter', experimentId: 'stats-exp', variant: 'control' }, total: 2, sent: 1, suppressed: 1, openRate: 0 });
  expect(group('b')).toMatchObject({ key: { campaignId: 'stats-winter', experimentId: 'stats-exp', variant: 'b' }, total: 2, sent: 2, opened: 1, openRate: 0.5 });
  // A campaign message is free to go when its batch recorded it: its latency is sentAt - createdAt (1 s here).
  expect(group('b').latencyMs.accepted).toMatchObject({ count: 2, p50: 1000 });
  // Order notifications of the window are keyed null for both.
  expect(res.body.groups.every((g: any) => g.key.campaignId === 'stats-winter' || (g.key.campaignId === null && g.key.variant === null))).toBe(true);
});
