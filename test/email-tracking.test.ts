// Email open and click tracking end to end: the real stack sends a confirmed order's email to the SMTP fake, and the
// pixel and the link taken from the captured HTML record an open and a click through the API's tracking routes; an
// altered token or target is a 404 that records nothing; a template version with `tracking: false` goes untracked;
// the stats API and the dashboard report the rates from those receipts.
import { chromium } from 'playwright-core';
import { emailHtml } from '../activities/render';
import { ConfigError, loadConfig } from '../lib/config';
import { clickUrl, decodeAttribute, openUrl, parseTrackingKeys, trackHtml, verifyToken } from '../lib/tracking';
import { eventually, orderEvent, useHarness } from './support/harness';

const SECRET = 'k2:second-tracking-secret-2026,k1:first-tracking-secret-2026';
const h = useHarness({ env: { HERALD_TRACKING_SECRET: SECRET, HERALD_TEMPLATE_CACHE_MS: '0' } });

const TARGET = 'https://shop.example/orders/{{ orderId }}?from=email&utm=1';
const HTML = `<!DOCTYPE html><html><body><p>Order {{ orderId }} is confirmed.</p>
<p><a href="${TARGET.replace('&', '&amp;')}" style="color:#2563eb">See your order</a> or <a href='mailto:help@shop.example'>write to us</a>.</p></body></html>`;

async function publishEmailTemplate(locale: string, tracking: boolean | undefined) {
  const created = await h.api('POST', '/v1/templates/order.confirmed/versions', {
    channel: 'email',
    locale,
    subject: 'Order {{ orderId }} confirmed',
    body: `Order {{ orderId }} is confirmed: ${TARGET}`,
    bodyHtml: HTML,
    ...(tracking === undefined ? {} : { tracking }),
  });
  expect(created.status).toBe(201);
  expect(created.body.tracking).toBe(tracking ?? null);
  const published = await h.api('POST', `/v1/templates/order.confirmed/email/${locale}/versions/${created.body.version}/publish`);
  expect(published.status).toBe(200);
  return created.body;
}

/** A confirmed order for a customer with an email address and no device: the email goes first. */
async function confirmedEmail(customerId: string, orderId: string, locale: string) {
  const email = `${customerId}@example.com`;
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', email, locale })).status).toBe(201);
  const event = orderEvent(orderId, customerId, 'confirmed');
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const mail = await eventually(() => {
    const [m] = h.smtp.messagesTo(email);
    expect(m?.html).toBeDefined();
    return m!;
  }, 60_000);
  const notificationId = `${event.eventId}/email`;
  await eventually(async () => expect((await h.db.notification.findUniqueOrThrow({ where: { id: notificationId } })).status).toBe('sent'));
  return { mail, notificationId };
}

const receiptsOf = (notificationId: string) => h.db.notificationReceipt.findMany({ where: { notificationId }, orderBy: { receivedAt: 'asc' } });
const get = (url: string, method = 'GET') => fetch(url, { method, redirect: 'manual' });
const hrefs = (html: string) => [...html.matchAll(/<a\b[^>]*\shref=(?:"([^"]*)"|'([^']*)')/g)].map((m) => decodeAttribute(m[1] ?? m[2]!));

let tracked: { mail: { html?: string; text?: string; messageId?: string }; notificationId: string };
let untracked: typeof tracked;

describe('signing and rewriting (lib/tracking.ts)', () => {
  const keys = parseTrackingKeys(SECRET);
  const settings = { keys, publicUrl: 'https://herald.example' };

  test('a link verifies only for its kind, notification and URL; an older key still verifies after a rotation', () => {
    const click = new URL(clickUrl(settings, 'evt-1/email', 'https://shop.example/a'));
    const token = click.pathname.split('/').pop()!;
    expect(token.startsWith('k2.')).toBe(true);
    expect(verifyToken(keys, 'click', token, 'https://shop.example/a')).toEqual({ notificationId: 'evt-1/email', keyId: 'k2' });
    expect(verifyToken(keys, 'click', token, 'https://shop.example/b')).toBeNull();
    expect(verifyToken(keys, 'open', token, null)).toBeNull();
    // Signed under k1 before the rotation: k1 is still listed, so it verifies; once it is dropped it does not.
    const old = new URL(openUrl({ keys: [keys[1]!], publicUrl: settings.publicUrl }, 'evt-1/email')).pathname.split('/').pop()!;
    expect(verifyToken(keys, 'open', old, null)).toEqual({ notificationId: 'evt-1/email', keyId: 'k1' });
    expect(verifyToken([keys[0]!], 'open', old, null)).toBeNull();
    // Another notification's id under the same signature.
    const [kid, , sig] = old.replace('.gif', '').split('.');
    expect(verifyToken(keys, 'open', `${kid}.${Buffer.from('evt-2/email').toString('base64url')}.${sig}`, null)).toBeNull();
    expect(() => parseTrackingKeys('short')).toThrow(/at least 16/);
    expect(() => parseTrackingKeys('a:0123456789abcdef,a:0123456789abcdef')).toThrow(/twice/);
  });

  test('http(s) links are rewritten, entities decoded; mailto and own links stay; the pixel goes before </body>', () => {
    const html = trackHtml(settings, 'n-1', '<body><a href="https://x.example/?a=1&amp;b=2">x</a><a href="mailto:a@b.c">m</a></body>');
    const [first, second] = hrefs(html);
    expect(second).toBe('mailto:a@b.c');
    expect(new URL(first!).searchParams.get('url')).toBe('https://x.example/?a=1&b=2');
    expect(html).toMatch(/<img src="https:\/\/herald\.example\/t\/o\/k2\.[^"]+\.gif"[^>]*><\/body>$/);
    expect(trackHtml(settings, 'n-1', html).match(/\/t\/c\//g)).toHaveLength(1);
  });
});

test('HERALD_EMAIL_TRACKING=off, or no secret, sends the HTML as rendered; a bad secret stops start-up without echoing it', () => {
  const html = '<body><a href="https://x.example/">x</a></body>';
  const rendered = { html, tracking: true };
  const on = loadConfig({ HERALD_TRACKING_SECRET: 'k1:0123456789abcdef' }).tracking;
  expect(on).toMatchObject({ enabled: true, keys: [{ id: 'k1' }] });
  expect(emailHtml(on, 'n-1', rendered)).toContain('/t/c/k1.');
  expect(emailHtml(on, 'n-1', { html, tracking: false })).toBe(html);
  const off = loadConfig({ HERALD_TRACKING_SECRET: 'k1:0123456789abcdef', HERALD_EMAIL_TRACKING: 'off' }).tracking;
  expect(off).toMatchObject({ enabled: false, keys: [{ id: 'k1' }] }); // links already sent still verify
  expect(emailHtml(off, 'n-1', rendered)).toBe(html);
  expect(loadConfig({}).tracking).toMatchObject({ enabled: false, keys: [] });
  expect(() => loadConfig({ HERALD_EMAIL_TRACKING: 'maybe' })).toThrow(ConfigError);
  let problem = '';
  try {
    loadConfig({ HERALD_TRACKING_SECRET: 'k1:tooshortsecret' });
  } catch (err) {
    problem = (err as Error).message;
  }
  expect(problem).toContain('HERALD_TRACKING_SECRET: ');
  expect(problem).toContain('at least 16 characters');
  expect(problem).not.toContain('tooshortsecret');
});

describe('the real stack', () => {
  beforeAll(async () => {
    await publishEmailTemplate('en', undefined);
    await publishEmailTemplate('de', false);
    tracked = await confirmedEmail('trk-ada', 'trk-1001', 'en');
    untracked = await confirmedEmail('trk-bo', 'trk-1002', 'de');
  }, 120_000);

  test("a tracked email's links go through the signed redirect and it carries the pixel; the text part keeps direct links", () => {
    const html = tracked.mail.html!;
    const [link, mailto] = hrefs(html);
    expect(link!.startsWith(`${h.stack.apiUrl}/t/c/k2.`)).toBe(true);
    expect(new URL(link!).searchParams.get('url')).toBe('https://shop.example/orders/trk-1001?from=email&utm=1');
    expect(mailto).toBe('mailto:help@shop.example');
    expect(html).toMatch(new RegExp(`<img src="${h.stack.apiUrl}/t/o/k2\\.[^"]+\\.gif"`));
    expect(tracked.mail.text).toContain('https://shop.example/orders/trk-1001?from=email&utm=1');
    expect(tracked.mail.text).not.toContain('/t/c/');
  });

  test('a template version with tracking: false sends untracked links and no pixel', () => {
    const html = untracked.mail.html!;
    expect(hrefs(html)).toEqual(['https://shop.example/orders/trk-1002?from=email&utm=1', 'mailto:help@shop.example']);
    expect(html).not.toContain('/t/o/');
    expect(html).not.toContain('/t/c/');
  });

  test('the pixel records one open however often it loads, and the order workflow is signalled', async () => {
    const pixel = /<img src="([^"]+)"/.exec(tracked.mail.html!)![1]!;
    const res = await get(pixel);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/gif']);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 6).toString()).toBe('GIF89a');
    expect((await get(pixel)).status).toBe(200);
    expect((await get(pixel, 'HEAD')).status).toBe(200);
    const receipts = await receiptsOf(tracked.notificationId);
    expect(receipts.map((r) => [r.type, r.source])).toEqual([['opened', 'email-tracking']]);
    // Signalled to the running order workflow: nothing is left owed to it.
    await eventually(async () => expect((await receiptsOf(tracked.notificationId))[0]!.signalDue).toBe(false));
    expect((await h.db.notification.findUniqueOrThrow({ where: { id: tracked.notificationId } })).status).toBe('opened');
  });

  test('an altered token or target is a 404 that records nothing; the real link redirects to the signed URL only', async () => {
    const link = new URL(hrefs(tracked.mail.html!)[0]!);
    const target = link.searchParams.get('url')!;
    const token = link.pathname.split('/').pop()!;
    const [kid, id, sig] = token.split('.');
    const altered = (path: string, url: string) => get(`${h.stack.apiUrl}/t/c/${path}?url=${encodeURIComponent(url)}`);

    const refusals = [
      await altered(token, 'https://evil.example/'),
      await altered(token, `${target}&x=1`),
      await altered(`${kid}.${id}.${sig!.slice(0, -1)}${sig!.endsWith('A') ? 'B' : 'A'}`, target),
      await altered(`${kid}.${Buffer.from(untracked.notificationId).toString('base64url')}.${sig}`, target),
      await altered(`k9.${id}.${sig}`, target),
    ];
    expect(refusals.map((r) => [r.status, r.headers.get('location')])).toEqual(refusals.map(() => [404, null]));
    // Not even the shape of a token: the path is invalid.
    expect((await altered('not-a-token', target)).status).toBe(400);
    expect((await get(`${h.stack.apiUrl}/t/o/${kid}.${id}.${sig}.gif`)).status).toBe(404); // a click's signature is no open's
    expect((await receiptsOf(tracked.notificationId)).map((r) => r.type)).toEqual(['opened']);
    expect(await receiptsOf(untracked.notificationId)).toEqual([]);

    const res = await get(link.href);
    expect([res.status, res.headers.get('location')]).toEqual([302, 'https://shop.example/orders/trk-1001?from=email&utm=1']);
    expect((await get(link.href)).status).toBe(302); // the same link again: recorded once
    const receipts = await receiptsOf(tracked.notificationId);
    expect(receipts.map((r) => [r.type, r.source, (r.detail as { url?: string }).url ?? null])).toEqual([
      ['opened', 'email-tracking', null],
      ['clicked', 'email-tracking', 'https://shop.example/orders/trk-1001?from=email&utm=1'],
    ]);
    expect((await h.db.notification.findUniqueOrThrow({ where: { id: tracked.notificationId } })).status).toBe('clicked');
  });

  test('the stats API reports the open, click and bounce rates from those receipts, per channel and template', async () => {
    // The untracked email hard-bounces: it fails, and counts in the bounce rate's denominator.
    const bounce = await h.emailWebhook({ type: 'bounced', bounceType: 'hard', messageId: untracked.mail.messageId, id: 'trk-bounce-1' });
    expect(bounce.status).toBe(202);
    const byChannel = await h.api('GET', '/v1/stats?groupBy=channel');
    expect(byChannel.status).toBe(200);
    const email = byChannel.body.groups.find((g: any) => g.key.channel === 'email');
    expect(email).toMatchObject({ sent: 1, failed: 1, opened: 1, clicked: 1, bounced: 1, complained: 0, openRate: 1, clickRate: 1, bounceRate: 0.5, complaintRate: 0 });
    expect(byChannel.body.totals).toMatchObject({ opened: 1, clicked: 1, bounced: 1 });

    const byTemplate = await h.api('GET', '/v1/stats?groupBy=channel,template,type');
    const en = byTemplate.body.groups.find((g: any) => g.key.template?.locale === 'en' && g.key.channel === 'email');
    expect(en).toMatchObject({ key: { type: 'order.confirmed', template: { key: 'order.confirmed' } }, sent: 1, openRate: 1, clickRate: 1 });
    expect(byChannel.body.topTemplatesByClickRate[0]).toMatchObject({ template: { key: 'order.confirmed', channel: 'email', locale: 'en' }, sent: 1, clicked: 1, clickRate: 1 });
  });

  test('the dashboard shows the open, click and bounce rates and the top templates', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && !/Failed to load resource.*404/.test(m.text()) && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${h.stack.apiUrl}/dashboard`);
      await page.getByLabel('API key (read scope)').fill(h.adminKey);
      await page.getByRole('button', { name: 'Show statistics' }).click();
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
      // The page's figures are the API's, in its words (the inbox counts as accepted too, so the totals are not the email's).
      const pct = (r: number | null) => (r == null ? 'n/a' : `${(r * 100).toFixed(1)}%`);
      const { totals } = (await h.api('GET', '/v1/stats')).body;
      const types = (await h.api('GET', '/v1/stats?groupBy=type')).body.groups;
      const confirmed = types.find((g: any) => g.key.type === 'order.confirmed');
      const tiles = Object.fromEntries(
        await page.locator('#totals > div').evaluateAll((divs) => divs.map((d) => [d.querySelector('dt')!.textContent, [...d.querySelectorAll('dd')].map((dd) => dd.textContent).join(' | ')])),
      );
      expect(tiles).toMatchObject({
        'Open rate': `${pct(totals.openRate)} | 1 of ${totals.sent} accepted`,
        'Click rate': `${pct(totals.clickRate)} | 1 of ${totals.sent} accepted`,
        'Bounce rate': `${pct(totals.bounceRate)} | 1 hard bounces`,
        'Complaint rate': `${pct(0)} | 0 spam complaints`,
      });
      const rows = async (id: string) => page.locator(`#${id} table tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
      expect(await rows('engagement-channels')).toContainEqual(['email', '1', '100.0%', '100.0%', '50.0%', '0.0%']);
      expect(await rows('engagement-types')).toContainEqual([
        'order.confirmed', String(confirmed.sent), pct(confirmed.openRate), pct(confirmed.clickRate), pct(confirmed.bounceRate), pct(confirmed.complaintRate),
      ]);
      expect((await rows('top-templates'))[0]).toEqual(['order.confirmed', 'email', 'en', expect.any(String), '1', '100.0%', '100.0%']);
      expect(await page.locator('#groups table thead th').allInnerTexts()).toEqual(expect.arrayContaining(['Open rate', 'Click rate']));
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
