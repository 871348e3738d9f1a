// Message content for every channel against a real PostgreSQL: the default templates are seeded (as on an
// existing deployment that only had push), then rendered for every status, channel and locale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { createRenderer } from '../activities/render';
import type { RenderChannel } from '../store/templates';
import { ORDER_STATUSES, type OrderStatus } from '../domain';
import { createDb, type Db } from '../lib/db';
import { DEFAULT_TEMPLATES } from '../lib/default-templates';
import { createTemplateEngines, templateProblems } from '../lib/liquid';
import { DIGEST_TEMPLATE_KEY, EVENT_DATA_VARIABLES, exampleVariables, TEMPLATE_KEYS, templateVariables } from '../domain/template-variables';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';
import { ensureDefaultTemplates } from '../lib/seed';

let pg: EmbeddedPostgres;
let db: Db;
let seededOnPushOnly: number;

const ORDER_ID = 'ORD-2026-000123';
const NAME = 'Ada Lovelace';
const LOCALES = ['en', 'fr'] as const;
type Locale = (typeof LOCALES)[number];
const CHANNELS: RenderChannel[] = ['push', 'email', 'sms', 'inapp'];

/** A value as each locale writes it (dates, amounts, plurals). */
type Shown = string | Record<Locale, string>;
const shown = (value: Shown, locale: Locale) => (typeof value === 'string' ? value : value[locale]);

// What the examples of domain/template-variables.ts become, in the examples' time zone (Europe/London).
const EUR_49_90: Shown = { en: '€49.90', fr: '49,90 €' };
const TRACKING = '1Z999AA10123456784';
const TRACKING_URL = 'https://track.example/1Z999AA10123456784';
const PICKUP = 'Post Office, 12 Market Street, London';
const date = (en: string, fr: string): Shown => ({ en, fr });

/** What the email (both parts) must carry with the examples, beyond the order id. */
const EMAIL_SHOWS: Record<OrderStatus, Shown[]> = {
  confirmed: [{ en: '3 items', fr: '3 articles' }, 'Visa ending in 4242', 'Standard delivery', date('Nov 24, 2026', '24 nov. 2026'), { en: '€54.78', fr: '54,78 €' }],
  payment_failed: ['card declined', EUR_49_90, 'https://shop.example/orders/ORD-2026-000123/pay'],
  backordered: ['restocking issues', date('Dec 5, 2026', '5 déc. 2026'), '1 × Fountain pen', 'FP-M-BLK'],
  packed: [{ en: '3 items', fr: '3 articles' }, date('Nov 24, 2026', '24 nov. 2026'), '2 × Notebook', '1 × Fountain pen'],
  partially_shipped: [{ en: '2 items', fr: '2 articles' }, 'UPS', TRACKING, TRACKING_URL, date('Nov 24, 2026', '24 nov. 2026'), { en: '1 item', fr: '1 article' }, date('Nov 28, 2026', '28 nov. 2026'), '2 × Notebook'],
  shipped: ['UPS', TRACKING, TRACKING_URL, date('Nov 24, 2026', '24 nov. 2026')],
  out_for_delivery: [date('2:30 PM', '14:30'), 'UPS', TRACKING, TRACKING_URL],
  delivery_attempted: ['UPS', 'nobody home', date('Nov 25, 2026', '25 nov. 2026'), PICKUP, date('Dec 1, 2026', '1 déc. 2026'), 'https://track.example/1Z999AA10123456784/reschedule', TRACKING],
  delayed: ['severe weather at the hub', date('Nov 27, 2026', '27 nov. 2026'), date('Nov 25, 2026', '25 nov. 2026'), 'UPS', TRACKING],
  ready_for_pickup: [PICKUP, 'K7Q4', 'Mon-Sat 9:00-19:00', date('Dec 1, 2026', '1 déc. 2026')],
  delivered: [date('Nov 24, 2026, 1:42 PM', '24 nov. 2026, 13:42'), 'front door'],
  picked_up: [date('Nov 26, 2026, 5:05 PM', '26 nov. 2026, 17:05'), PICKUP],
  cancelled: ['item out of stock', EUR_49_90],
  returned: ['wrong size', date('Dec 15, 2026', '15 déc. 2026'), 'https://shop.example/returns/RMA-4821/label', '1 × Notebook'],
  return_received: [date('Nov 30, 2026, 9:15 AM', '30 nov. 2026, 09:15'), EUR_49_90, '1 × Notebook'],
  refunded: [EUR_49_90, 'returned item'],
};

/** What the SMS must carry with the examples, beyond the order id. */
const SMS_SHOWS: Record<OrderStatus, Shown[]> = {
  confirmed: [NAME],
  payment_failed: ['card declined'],
  backordered: ['restocking issues', date('12/5/26', '05/12/2026')],
  packed: [],
  partially_shipped: ['UPS', TRACKING, { en: '1 item to follow', fr: 'Reste à venir : 1 article' }],
  shipped: ['UPS', TRACKING, date('11/24/26', '24/11/2026')],
  out_for_delivery: [date('2:30 PM', '14:30')],
  delivery_attempted: ['UPS', 'nobody home', date('11/25/26', '25/11/2026')],
  delayed: ['severe weather at the hub', date('11/27/26', '27/11/2026')],
  ready_for_pickup: [PICKUP, 'K7Q4', date('12/1/26', '01/12/2026')],
  delivered: [],
  picked_up: [],
  cancelled: ['item out of stock'],
  returned: [date('12/15/26', '15/12/2026'), 'https://shop.example/returns/RMA-4821/label'],
  return_received: [EUR_49_90],
  refunded: [EUR_49_90],
};

/** What the in-app message must carry with the examples: more than the push does. */
const INAPP_SHOWS: Record<OrderStatus, Shown[]> = {
  confirmed: [{ en: '3 items, €54.78', fr: '3 articles, 54,78 €' }, date('Nov 24, 2026', '24 nov. 2026')],
  payment_failed: [EUR_49_90, 'card declined', 'https://shop.example/orders/ORD-2026-000123/pay'],
  backordered: ['restocking issues', '1 × Fountain pen', date('Dec 5, 2026', '5 déc. 2026')],
  packed: [{ en: '3 items', fr: '3 articles' }, date('Nov 24, 2026', '24 nov. 2026')],
  partially_shipped: ['UPS', TRACKING, TRACKING_URL, { en: '1 item will follow', fr: 'Reste à expédier : 1 article' }],
  shipped: ['UPS', TRACKING, date('Nov 24, 2026', '24 nov. 2026'), TRACKING_URL],
  out_for_delivery: [date('2:30 PM', '14:30'), 'UPS', TRACKING_URL],
  delivery_attempted: ['UPS', 'nobody home', date('Nov 25, 2026', '25 nov. 2026'), PICKUP, date('Dec 1, 2026', '1 déc. 2026'), 'https://track.example/1Z999AA10123456784/reschedule'],
  delayed: ['severe weather at the hub', date('Nov 27, 2026', '27 nov. 2026'), TRACKING],
  ready_for_pickup: [PICKUP, 'Mon-Sat 9:00-19:00', 'K7Q4', date('Dec 1, 2026', '1 déc. 2026')],
  delivered: [date('Nov 24, 2026, 1:42 PM', '24 nov. 2026, 13:42'), 'front door'],
  picked_up: [date('Nov 26, 2026, 5:05 PM', '26 nov. 2026, 17:05'), PICKUP],
  cancelled: ['item out of stock', EUR_49_90],
  returned: ['1 × Notebook', date('Dec 15, 2026', '15 déc. 2026'), 'https://shop.example/returns/RMA-4821/label'],
  return_received: [date('Nov 30, 2026', '30 nov. 2026'), EUR_49_90],
  refunded: [EUR_49_90, 'returned item'],
};

const GREETING = { en: `Hello ${NAME},`, fr: `Bonjour ${NAME},` };
const FOOTER = { en: 'You are receiving this email', fr: 'Vous recevez cet e-mail' };

// GSM 03.38: the basic alphabet costs one septet, the extension table two; anything else forces UCS-2.
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('^{}\\[~]|€\f');

/** Septets of a GSM-7 text, or null when a character needs UCS-2. */
function gsm7Length(text: string): number | null {
  let length = 0;
  for (const ch of text) {
    if (GSM7_BASIC.has(ch)) length += 1;
    else if (GSM7_EXTENSION.has(ch)) length += 2;
    else return null;
  }
  return length;
}

/** An event of this status carrying every example value of its key, for Ada. */
function variables(status: OrderStatus, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { customerLocale: _locale, ...examples } = exampleVariables(`order.${status}`);
  return { ...examples, orderId: ORDER_ID, status, customerName: NAME, ...extra };
}

async function publish(key: string, channel: RenderChannel, locale: string, version: number, subject: string, body: string) {
  await db.template.create({ data: { key, channel, locale, version, state: 'published', subject, body } });
}

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'herald-render-')), persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 2 });
  // A deployment from before email, SMS and in-app: the push defaults, one of them already edited (version 2).
  const push = DEFAULT_TEMPLATES.filter((t) => t.channel === 'push');
  await db.template.createMany({ data: push.map((t) => ({ ...t, version: 1, state: 'published' as const })) });
  await publish('order.packed', 'push', 'en', 2, 'Packed: {{ orderId }}', 'Edited copy for {{ orderId }}.');
  seededOnPushOnly = await ensureDefaultTemplates(db);
}, 180_000);

afterAll(async () => {
  await db?.$disconnect();
  await pg?.stop();
}, 60_000);

describe('seeding', () => {
  test('adds the email, SMS and in-app templates next to existing push ones, and nothing the second time', async () => {
    // Every status, the digest and the product alerts.
    const perChannel = TEMPLATE_KEYS.length * LOCALES.length;
    expect(seededOnPushOnly).toBe(3 * perChannel);
    expect(await ensureDefaultTemplates(db)).toBe(0);

    const rows = await db.template.groupBy({ by: ['channel'], where: { key: { startsWith: 'order.' } }, _count: { _all: true } });
    const counts = Object.fromEntries(rows.map((r) => [r.channel, r._count._all]));
    const orderKeys = TEMPLATE_KEYS.filter((k) => k.startsWith('order.')).length * LOCALES.length;
    expect(counts).toEqual({ push: orderKeys + 1, email: orderKeys, sms: orderKeys, inapp: orderKeys });

    const duplicates = await db.template.groupBy({
      by: ['key', 'channel', 'locale', 'version'],
      _count: { _all: true },
      having: { key: { _count: { gt: 1 } } },
    });
    expect(duplicates).toEqual([]);

    // The operator's edit is untouched, and the HTML part is stored for email only.
    const packed = await db.template.findMany({ where: { key: 'order.packed', channel: 'push', locale: 'en' }, orderBy: { version: 'asc' } });
    expect(packed.map((t) => [t.version, t.subject])).toEqual([
      [1, 'Order {{ orderId }} is packed'],
      [2, 'Packed: {{ orderId }}'],
    ]);
    const email = await db.template.findMany({ where: { channel: 'email' } });
    expect(email.every((t) => t.bodyHtml?.startsWith('<!DOCTYPE html>'))).toBe(true);
    expect(await db.template.count({ where: { channel: { in: ['push', 'sms', 'inapp'] }, bodyHtml: { not: null } } })).toBe(0);
  });

  test('seeds every channel on an empty database in one go', async () => {
    const total = DEFAULT_TEMPLATES.length;
    expect(total).toBe(TEMPLATE_KEYS.length * LOCALES.length * 4);
    await db.$transaction(async (tx) => {
      await tx.template.deleteMany({});
      expect(await ensureDefaultTemplates(tx as unknown as Db)).toBe(total);
      expect(await ensureDefaultTemplates(tx as unknown as Db)).toBe(0);
      expect(await tx.template.count()).toBe(total);
      throw new Rollback();
    }).catch((err: unknown) => {
      if (!(err instanceof Rollback)) throw err;
    });
    expect(await db.template.count({ where: { key: 'order.packed', channel: 'push', locale: 'en' } })).toBe(2);
  });

  test('every key has a template on every channel in every locale, an in-app one included', () => {
    const have = new Set(DEFAULT_TEMPLATES.map((t) => `${t.key} ${t.channel} ${t.locale}`));
    const want = TEMPLATE_KEYS.flatMap((key) => CHANNELS.flatMap((channel) => LOCALES.map((locale) => `${key} ${channel} ${locale}`)));
    expect(want.filter((k) => !have.has(k))).toEqual([]);
    expect(have.size).toBe(DEFAULT_TEMPLATES.length);
    // An in-app message is titled like its push.
    const pushTitle = (key: string, locale: string) => DEFAULT_TEMPLATES.find((t) => t.channel === 'push' && t.key === key && t.locale === locale)!.subject;
    for (const t of DEFAULT_TEMPLATES.filter((t) => t.channel === 'inapp')) expect([t.key, t.locale, t.subject]).toEqual([t.key, t.locale, pushTitle(t.key, t.locale)]);
  });
});

class Rollback extends Error {}

describe('rendering every status, channel and locale', () => {
  let render: ReturnType<typeof createRenderer>;
  beforeAll(() => {
    render = createRenderer(db, 'en', 0);
  });
  const cases = ORDER_STATUSES.flatMap((status) => LOCALES.flatMap((locale) => CHANNELS.map((channel) => [status, channel, locale] as const)));

  test.each(cases)('%s by %s in %s, with the examples', async (status, channel, locale) => {
    const message = await render({ key: `order.${status}`, channel, locale, variables: variables(status) });
    expect(message.locale).toBe(locale);
    expect(message.subject).toContain(ORDER_ID);
    expect(message.body).toContain(ORDER_ID);
    expect(message.subject).not.toMatch(/\{\{|\{%/);
    expect(message.body).not.toMatch(/\{\{|\{%/);

    if (channel === 'email') {
      const html = message.html!;
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).toContain(`lang="${locale}"`);
      expect(html).not.toMatch(/\{\{|\{%/);
      for (const part of [message.body, html]) {
        expect(part).toContain(ORDER_ID);
        expect(part).toContain(GREETING[locale]);
        expect(part).toContain(FOOTER[locale]);
        for (const value of EMAIL_SHOWS[status]) expect(part).toContain(shown(value, locale));
      }
    } else {
      expect(message.html).toBeUndefined();
    }
    expect(message.body).not.toMatch(/<[a-z!/]/i);

    if (channel === 'sms') {
      for (const value of SMS_SHOWS[status]) expect(message.body).toContain(shown(value, locale));
      const septets = gsm7Length(message.body);
      expect({ body: message.body, gsm7: septets !== null }).toEqual({ body: message.body, gsm7: true });
      expect(septets).toBeLessThanOrEqual(160);
    }
    if (channel === 'inapp') {
      for (const value of INAPP_SHOWS[status]) expect(message.body).toContain(shown(value, locale));
      // The inbox has its own template, and says more than the push.
      const push = await render({ key: `order.${status}`, channel: 'push', locale, variables: variables(status) });
      expect(message.templateId).not.toBe(push.templateId);
      expect(message.body.length).toBeGreaterThan(push.body.length);
    }
  });

  test.each(LOCALES)('with no event data at all, every status reads cleanly on every channel (%s)', async (locale) => {
    for (const status of ORDER_STATUSES) {
      for (const channel of CHANNELS) {
        const message = await render({ key: `order.${status}`, channel, locale, variables: { orderId: ORDER_ID, status } });
        for (const part of [message.subject, message.body]) {
          expect({ status, channel, part }).toEqual({ status, channel, part: expect.not.stringMatching(/\(\)|\s[.,]|\.\.|:\s*(\.|$)|\bundefined\b|NaN| {2}/m) });
        }
        expect(message.body).toContain(ORDER_ID);
      }
    }
  });

  test.each(LOCALES)('every SMS stays one GSM-7 segment with any one field missing (%s)', async (locale) => {
    const cached = createRenderer(db, 'en', 60_000);
    for (const status of ORDER_STATUSES) {
      for (const missing of [null, ...EVENT_DATA_VARIABLES[status].map((v) => v.name)]) {
        const data = variables(status);
        if (missing) delete data[missing];
        const { body } = await cached({ key: `order.${status}`, channel: 'sms', locale, variables: data });
        expect({ status, missing, body, septets: gsm7Length(body) }).toEqual({ status, missing, body, septets: expect.any(Number) });
        expect({ status, missing, body, fits: gsm7Length(body)! <= 160 }).toEqual({ status, missing, body, fits: true });
      }
    }
  });

  test('the inbox shows the push copy in a locale that has no in-app template', async () => {
    const request = { key: 'order.shipped', variables: variables('shipped') };
    await db.template.updateMany({ where: { key: 'order.shipped', channel: 'inapp', locale: 'fr' }, data: { state: 'archived' } });
    try {
      expect(await render({ ...request, locale: 'fr', channel: 'inapp' })).toEqual(await render({ ...request, locale: 'fr', channel: 'push' }));
      const en = await render({ ...request, locale: 'en', channel: 'inapp' });
      expect(en.body).toContain(TRACKING_URL);
    } finally {
      await db.template.updateMany({ where: { key: 'order.shipped', channel: 'inapp', locale: 'fr' }, data: { state: 'published' } });
    }
  });
});

describe('the confirmed email is a receipt', () => {
  const textOf = (html: string) =>
    html
      .match(/<table[^]*?<\/table>/)![0]
      .replace(/<br>/g, ' ')
      .replace(/<\/td><td[^>]*>/g, ' | ')
      .replace(/<\/tr>/g, '\n')
      .replace(/<[^>]+>/g, '')
      .trim();

  test('with every line and total, in English', async () => {
    const email = await createRenderer(db, 'en', 0)({ key: 'order.confirmed', channel: 'email', locale: 'en', variables: variables('confirmed') });
    expect(email.body).toBe(
      [
        'Hello Ada Lovelace,',
        '',
        'Thank you for your order. We have received order ORD-2026-000123 and will let you know when it ships.',
        '',
        'Order number: ORD-2026-000123',
        'Items: 3 items',
        'Payment: Visa ending in 4242',
        'Delivery: Standard delivery',
        'Estimated delivery: Nov 24, 2026',
        '',
        '- 2 × Notebook (SKU NB-A5-DOT): €25.00 (€12.50 each)',
        '- 1 × Fountain pen (SKU FP-M-BLK): €24.90',
        '',
        'Subtotal: €49.90',
        'Shipping: €4.90',
        'Discount: -€5.00',
        'Tax: €4.98',
        'Total: €54.78',
        '',
        '--',
        'You are receiving this email because you placed order ORD-2026-000123.',
      ].join('\n'),
    );
    expect(textOf(email.html!)).toBe(
      [
        '2 × Notebook SKU NB-A5-DOT | €25.00 €12.50 each',
        '1 × Fountain pen SKU FP-M-BLK | €24.90',
        'Subtotal | €49.90',
        'Shipping | €4.90',
        'Discount | -€5.00',
        'Tax | €4.98',
        'Total | €54.78',
      ].join('\n'),
    );
  });

  test('in French, with the reader’s currency', async () => {
    const email = await createRenderer(db, 'en', 0)({ key: 'order.confirmed', channel: 'email', locale: 'fr-CA', variables: variables('confirmed', { currency: 'CAD' }) });
    expect(email.locale).toBe('fr');
    const receipt = email.body.slice(email.body.indexOf('\n- '), email.body.indexOf('\n\n--'));
    expect(receipt).toBe(
      [
        '',
        '- 2 × Notebook (réf. NB-A5-DOT) : 25,00 $ (12,50 $ l’unité)',
        '- 1 × Fountain pen (réf. FP-M-BLK) : 24,90 $',
        '',
        'Sous-total : 49,90 $',
        'Frais de livraison : 4,90 $',
        'Remise : -5,00 $',
        'Taxes : 4,98 $',
        'Total : 54,78 $',
      ].join('\n'),
    );
    expect(textOf(email.html!)).toBe(
      [
        '2 × Notebook réf. NB-A5-DOT | 25,00 $ 12,50 $ l’unité',
        '1 × Fountain pen réf. FP-M-BLK | 24,90 $',
        'Sous-total | 49,90 $',
        'Frais de livraison | 4,90 $',
        'Remise | -5,00 $',
        'Taxes | 4,98 $',
        'Total | 54,78 $',
      ].join('\n'),
    );
  });

  test('shows only the lines the event has, and escapes item names in the HTML part', async () => {
    const render = createRenderer(db, 'en', 0);
    const data = {
      orderId: 'o-9',
      customerName: NAME,
      items: [{ name: '<b>Pens & Inks</b>', quantity: 3, unitPrice: 2 }, { name: 'Gift wrap' }],
      shipping: 0,
      discount: '0.00',
      total: '6.00',
      currency: 'EUR',
    };
    const email = await render({ key: 'order.confirmed', channel: 'email', locale: 'en', variables: data });
    expect(email.body).toContain(
      ['Order number: o-9', '', '- 3 × <b>Pens & Inks</b>: €6.00 (€2.00 each)', '- 1 × Gift wrap', '', 'Shipping: €0.00', 'Total: €6.00', '', '--'].join('\n'),
    );
    expect(textOf(email.html!)).toBe(['3 × &lt;b&gt;Pens &amp; Inks&lt;/b&gt; | €6.00 €2.00 each', '1 × Gift wrap | ', 'Shipping | €0.00', 'Total | €6.00'].join('\n'));
    expect(email.html).not.toContain('<b>');

    // A discount given as a negative amount is shown the same way; no lines at all, no table.
    const bare = await render({ key: 'order.confirmed', channel: 'email', locale: 'en', variables: { orderId: 'o-10', discount: -5 } });
    expect(bare.body).toContain('Order number: o-10\n\nDiscount: -€5.00\n\n--');
    const none = await render({ key: 'order.confirmed', channel: 'email', locale: 'en', variables: { orderId: 'o-11', items: [] } });
    expect(none.body).toContain('Order number: o-11\n\n--');
    expect(none.html).not.toContain('<table');
  });
});

describe('links in the HTML part', () => {
  test.each(LOCALES)('the shipped email shows the carrier, the tracking number and a tracking link (%s)', async (locale) => {
    const email = await createRenderer(db, 'en', 0)({ key: 'order.shipped', channel: 'email', locale, variables: variables('shipped') });
    const label = { en: 'Track your parcel', fr: 'Suivre votre colis' }[locale];
    const colon = { en: ': ', fr: ' : ' }[locale];
    expect(email.body).toContain(`${{ en: 'Carrier', fr: 'Transporteur' }[locale]}${colon}UPS`);
    expect(email.body).toContain(`${{ en: 'Tracking number', fr: 'Numéro de suivi' }[locale]}${colon}${TRACKING}`);
    expect(email.body).toContain(`${label}${colon}${TRACKING_URL}`);
    expect(email.html).toContain(`<strong>${TRACKING}</strong>`);
    expect(email.html).toMatch(new RegExp(`<a href="${TRACKING_URL}" style="[^"]+">${label}</a>`));
  });

  test('only http(s) URLs become links, and their attribute is escaped', async () => {
    const render = createRenderer(db, 'en', 0);
    const hostile = await render({ key: 'order.returned', channel: 'email', locale: 'en', variables: variables('returned', { returnLabelUrl: 'javascript:alert(1)' }) });
    expect(hostile.html).not.toContain('href="javascript');
    expect(hostile.html).toContain('Download your return label: <strong>javascript:alert(1)</strong>');
    const quoted = await render({ key: 'order.payment_failed', channel: 'email', locale: 'en', variables: variables('payment_failed', { paymentUrl: 'https://pay.example/?a=1&b="x"' }) });
    expect(quoted.html).toContain('<a href="https://pay.example/?a=1&amp;b=&#34;x&#34;"');
  });
});

describe('locale fallback', () => {
  test('fr-CA falls back to fr, and an unknown locale (or none) to en, on every channel', async () => {
    const render = createRenderer(db, 'en', 0);
    for (const channel of CHANNELS) {
      const request = { key: 'order.delayed', channel, variables: variables('delayed') };
      const canadian = await render({ ...request, locale: 'fr-CA' });
      expect(canadian.locale).toBe('fr');
      expect(canadian.body).toContain('retardée');
      expect(canadian.body).toContain('severe weather at the hub');
      for (const locale of ['de-DE', 'pt_BR', null]) {
        const fallback = await render({ ...request, locale });
        expect(fallback.locale).toBe('en');
        expect(fallback.body).toContain('delayed');
      }
    }
  });
});

describe('escaping', () => {
  const hostile = '<script>alert("pwned")</script> & Co';

  test.each(LOCALES)('the HTML part escapes customer data and the text parts keep it as is (%s)', async (locale) => {
    const render = createRenderer(db, 'en', 0);
    const email = await render({
      key: 'order.cancelled',
      channel: 'email',
      locale,
      variables: variables('cancelled', { customerName: hostile, reason: '<img src=x onerror=alert(1)>' }),
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; Co');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.body).toContain(hostile);
    expect(email.body).toContain('<img src=x onerror=alert(1)>');

    const sms = await render({ key: 'order.confirmed', channel: 'sms', locale, variables: variables('confirmed', { customerName: hostile }) });
    expect(sms.body).toContain(hostile);
  });

  test('the template’s own markup is kept', async () => {
    const render = createRenderer(db, 'en', 0);
    const email = await render({ key: 'order.shipped', channel: 'email', locale: 'en', variables: variables('shipped') });
    expect(email.html).toContain('<strong>1Z999AA10123456784</strong>');
    expect(email.html).toMatch(/<p style="[^"]+">Hello Ada Lovelace,<\/p>/);
  });
});

describe('template choice', () => {
  test('a missing template is a non-retryable TemplateMissing failure', async () => {
    const render = createRenderer(db, 'en', 0);
    for (const channel of CHANNELS) {
      const failure = await render({ key: 'order.unknown', channel, locale: 'fr-CA', variables: {} }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'TemplateMissing', nonRetryable: true });
      expect((failure as Error).message).toContain('fr-CA, fr, en');
    }
  });

  test('an in-app template wins over push in its own locale; the reader’s language comes first', async () => {
    const render = createRenderer(db, 'en', 0);
    await publish('test.inapp', 'push', 'en', 1, 'Push {{ orderId }}', 'Push body');
    await publish('test.inapp', 'push', 'fr', 1, 'Push fr {{ orderId }}', 'Corps push');
    await publish('test.inapp', 'inapp', 'en', 1, 'Inbox {{ orderId }}', 'Inbox body');
    const en = await render({ key: 'test.inapp', channel: 'inapp', locale: 'en', variables: { orderId: 'o-1' } });
    expect([en.subject, en.body]).toEqual(['Inbox o-1', 'Inbox body']);
    const fr = await render({ key: 'test.inapp', channel: 'inapp', locale: 'fr', variables: { orderId: 'o-1' } });
    expect([fr.subject, fr.body, fr.locale]).toEqual(['Push fr o-1', 'Corps push', 'fr']);
    // Push itself never takes in-app copy.
    const push = await render({ key: 'test.inapp', channel: 'push', locale: 'en', variables: { orderId: 'o-1' } });
    expect(push.subject).toBe('Push o-1');
  });

  test('the choice is cached for cacheMs; a new version shows once it expires', async () => {
    await publish('test.cache', 'email', 'en', 1, 'v1', 'one');
    const cached = createRenderer(db, 'en', 60_000);
    const fresh = createRenderer(db, 'en', 0);
    expect((await cached({ key: 'test.cache', channel: 'email', locale: 'en', variables: {} })).body).toBe('one');
    await publish('test.cache', 'email', 'en', 2, 'v2', 'two');
    expect((await cached({ key: 'test.cache', channel: 'email', locale: 'en', variables: {} })).body).toBe('one');
    expect((await fresh({ key: 'test.cache', channel: 'email', locale: 'en', variables: {} })).body).toBe('two');
    // A template without bodyHtml gives no HTML part, even by email.
    expect((await fresh({ key: 'test.cache', channel: 'email', locale: 'en', variables: {} })).html).toBeUndefined();
  });
});

describe('strict variables', () => {
  test('every default template uses only the variables of its key', () => {
    const engines = createTemplateEngines();
    expect(new Set(DEFAULT_TEMPLATES.map((t) => t.key))).toEqual(new Set(TEMPLATE_KEYS));
    const problems = DEFAULT_TEMPLATES.flatMap((t) =>
      templateProblems(engines, t.key, templateVariables(t.key)!.map((v) => v.name), t).map((p) => `${t.key} ${t.channel} ${t.locale} ${p.field}: ${p.reason}`),
    );
    expect(problems).toEqual([]);
  });

  test('an unknown variable, an unknown filter and broken Liquid are named with their field', () => {
    const engines = createTemplateEngines();
    const known = templateVariables('order.shipped')!.map((v) => v.name);
    const problems = templateProblems(engines, 'order.shipped', known, {
      subject: '{% assign n = 2 %}{% for item in items %}{{ item.name }}{% endfor %}{{ n }} {{ trackingNo }}',
      body: '{{ carrier | shout }}',
      bodyHtml: '{% if carrier %}',
    });
    expect(problems).toEqual([
      { field: 'subject', reason: expect.stringMatching(/^unknown variable 'items' for order\.shipped; known: orderId, .*trackingNumber/) },
      { field: 'subject', reason: expect.stringMatching(/^unknown variable 'trackingNo' for order\.shipped/) },
      { field: 'body', reason: expect.stringContaining('undefined filter: shout') },
      { field: 'bodyHtml', reason: expect.stringContaining('not closed') },
    ]);
    // Files are out of reach: include and render are unknown tags.
    expect(templateProblems(engines, 'order.shipped', known, { subject: "{% include 'x' %}", body: "{% render 'y' %}" }).map((p) => p.field)).toEqual(['subject', 'body']);
  });
});

describe('filters', () => {
  const eta = '2026-11-24T19:30:00Z';

  async function renderWith(key: string, subject: string, body: string, request: { locale: string; timeZone?: string; variables: Record<string, unknown> }) {
    await db.template.deleteMany({ where: { key } });
    await publish(key, 'push', 'en', 1, subject, body);
    await publish(key, 'push', 'fr', 1, subject, body);
    return createRenderer(db, 'en', 0)({ key, channel: 'push', ...request });
  }

  test('money, dates in the reader’s time zone and locale, and plurals', async () => {
    const subject = "{{ amount | money: currency }}|{{ amount | money }}|{{ amount | money: 'USD' }}|{{ 'n/a' | money }}";
    const body = "{{ eta | local_date }}|{{ eta | local_date: 'short' }}|{{ eta | local_time }}|{{ eta | datetime }}|{{ day | local_date: 'long' }}|{{ 'Tuesday' | local_date }}|{{ one | pluralize: 'item', 'items' }}|{{ three | pluralize: 'item', 'items' }}|{{ eta | date: '%H:%M' }}";
    const variables = { amount: '1234.5', currency: 'GBP', eta, day: '2026-11-24', one: 1, three: 3 };
    const uk = await renderWith('test.filters', subject, body, { locale: 'en-GB', timeZone: 'Europe/London', variables });
    expect(uk.subject).toBe('£1,234.50|£1,234.50|US$1,234.50|n/a');
    expect(uk.body).toBe('24 Nov 2026|24/11/2026|19:30|24 Nov 2026, 19:30|24 November 2026|Tuesday|1 item|3 items|19:30');

    // A French Canadian in Montreal: the fr template, Canadian formats, Eastern time (the evening of the 24th is 14:30 there).
    const quebec = await renderWith('test.filters', subject, body, { locale: 'fr-CA', timeZone: 'America/Toronto', variables: { ...variables, currency: 'CAD' } });
    expect(quebec.locale).toBe('fr');
    expect(quebec.subject).toBe('1 234,50 $|1 234,50 $|1 234,50 $ US|n/a');
    expect(quebec.body).toBe('24 nov. 2026|2026-11-24|14 h 30|24 nov. 2026, 14 h 30|24 novembre 2026|Tuesday|1 item|3 items|14:30');

    // Late at night in Tokyo it is already the next day; a bare date stays the date it names.
    const tokyo = await renderWith('test.filters', '{{ eta | local_date }}', '{{ day | local_date }}', { locale: 'en', timeZone: 'Asia/Tokyo', variables });
    expect([tokyo.subject, tokyo.body]).toEqual(['Nov 25, 2026', 'Nov 24, 2026']);

    // French plural rules: 0 and 1 are singular; no time zone means UTC; the currency defaults to EUR.
    const paris = await renderWith('test.filters', "{{ zero | pluralize: 'article', 'articles' }} {{ two | pluralize: 'article', 'articles' }}", '{{ amount | money }} {{ eta | local_time }}', {
      locale: 'fr',
      variables: { zero: 0, two: 2, amount: 5, eta },
    });
    expect([paris.subject, paris.body]).toEqual(['0 article 2 articles', '5,00 € 19:30']);
  });

  test('the seeded copy formats ISO dates and amounts, and shows free text as given', async () => {
    const render = createRenderer(db, 'en', 0);
    const iso = { ...variables('shipped'), eta: '2026-11-24' };
    const en = await render({ key: 'order.shipped', channel: 'sms', locale: 'en', timeZone: 'Europe/London', variables: iso });
    expect(en.body).toContain('ETA: 11/24/26.');
    const fr = await render({ key: 'order.shipped', channel: 'sms', locale: 'fr', timeZone: 'Europe/Paris', variables: iso });
    expect(fr.body).toContain('Livraison prévue : 24/11/2026.');
    expect(gsm7Length(fr.body)).not.toBeNull();
    const arriving = await render({ key: 'order.out_for_delivery', channel: 'push', locale: 'fr-CA', timeZone: 'America/Toronto', variables: { ...variables('out_for_delivery'), eta: '2026-11-24T19:30:00Z' } });
    expect(arriving.body).toContain('vers 14 h 30');
    const window = await render({ key: 'order.out_for_delivery', channel: 'sms', locale: 'en', variables: { ...variables('out_for_delivery'), eta: '14:00-16:00' } });
    expect(window.body).toContain('around 14:00-16:00.');
    const confirmed = await render({ key: 'order.confirmed', channel: 'email', locale: 'fr', variables: { ...variables('confirmed'), total: '120', currency: 'EUR', itemCount: 3 } });
    expect(confirmed.body).toContain('Articles : 3 articles');
    expect(confirmed.body).toContain('Total : 120,00 €');
    // The reader's time zone is a variable too, unless the event gives its own.
    const { customerLocale, customerTimeZone } = exampleVariables('order.packed');
    expect([customerLocale, customerTimeZone]).toEqual(['en', 'Europe/London']);
  });
});

describe('digest', () => {
  const updates = [
    { status: 'confirmed', title: 'Order o-1 confirmed', body: 'We have received your order o-1.', occurredAt: '2026-11-21T10:00:00Z' },
    { status: 'packed', title: 'Order o-1 is packed', body: 'Your order o-1 is packed.', occurredAt: '2026-11-21T10:01:00Z' },
  ];

  test.each(LOCALES.flatMap((locale) => (['push', 'inapp', 'email', 'sms'] as const).map((channel) => [channel, locale] as const)))('lists the updates by %s in %s', async (channel, locale) => {
    const render = createRenderer(db, 'en', 0);
    const message = await render({ key: DIGEST_TEMPLATE_KEY, channel, locale, timeZone: 'Europe/Paris', variables: { orderId: 'o-1', status: 'packed', customerName: NAME, updates } });
    expect(message.locale).toBe(locale);
    expect(message.subject).toContain(locale === 'en' ? '2 updates' : '2 mises à jour');
    if (channel === 'sms') {
      expect(message.body).toBe(locale === 'en' ? 'Order o-1: confirmed, packed.' : 'Commande o-1 : confirmée, préparée.');
      expect(gsm7Length(message.body)).not.toBeNull();
    } else {
      for (const update of updates) expect(message.body).toContain(update.body);
    }
    if (channel === 'inapp') {
      // One line per update, with its time in the reader's zone.
      expect(message.body.split('\n')).toEqual(
        locale === 'en'
          ? ['11/21/26, 11:00 AM: We have received your order o-1.', '11/21/26, 11:01 AM: Your order o-1 is packed.']
          : ['21/11/2026 11:00 : We have received your order o-1.', '21/11/2026 11:01 : Your order o-1 is packed.'],
      );
    }
    if (channel === 'email') {
      for (const update of updates) expect(message.html).toContain(`<strong>${update.title}</strong>`);
      expect(message.body).toContain(locale === 'en' ? '(11/21/26, 11:00 AM)' : '(21/11/2026 11:00)');
    }
  });

  test.each(LOCALES)('names every status in GSM-7 by SMS, and a typical digest fits one segment (%s)', async (locale) => {
    const render = createRenderer(db, 'en', 0);
    const every = ORDER_STATUSES.map((status, i) => ({ status, title: status, body: status, occurredAt: `2026-11-21T10:${String(i).padStart(2, '0')}:00Z` }));
    const all = await render({ key: DIGEST_TEMPLATE_KEY, channel: 'sms', locale, variables: { orderId: ORDER_ID, updates: every } });
    expect(all.body).not.toMatch(/_/);
    expect({ body: all.body, gsm7: gsm7Length(all.body) !== null }).toEqual({ body: all.body, gsm7: true });
    const routine = (['confirmed', 'packed', 'ready_for_pickup'] as const).map((status) => every.find((u) => u.status === status)!);
    const typical = await render({ key: DIGEST_TEMPLATE_KEY, channel: 'sms', locale, variables: { orderId: ORDER_ID, updates: routine } });
    expect(typical.body).toBe(locale === 'en' ? `Order ${ORDER_ID}: confirmed, packed, ready for pickup.` : `Commande ${ORDER_ID} : confirmée, préparée, disponible au retrait.`);
  });
});
