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
import { DIGEST_TEMPLATE_KEY, exampleVariables, TEMPLATE_KEYS, templateVariables } from '../domain/template-variables';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../lib/embedded';
import { ensureDefaultTemplates } from '../lib/seed';

let pg: EmbeddedPostgres;
let db: Db;
let seededOnPushOnly: number;

const ORDER_ID = 'ORD-2026-000123';
const NAME = 'Ada Lovelace';
const LOCALES = ['en', 'fr'] as const;
const CHANNELS: RenderChannel[] = ['push', 'email', 'sms', 'inapp'];

/** Typical event data per status (what an OMS sends). */
const DATA: Record<OrderStatus, Record<string, unknown>> = {
  confirmed: { eta: '25 Nov' },
  payment_failed: { reason: 'card declined' },
  packed: {},
  shipped: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784', eta: '24 Nov' },
  out_for_delivery: { eta: '14:00-16:00', carrier: 'DHL', trackingNumber: 'JD014600006281230' },
  delayed: { delayReason: 'severe weather at the hub', newEta: '27 Nov' },
  delivered: {},
  cancelled: { reason: 'item out of stock' },
  refunded: { amount: '49.90', currency: 'EUR' },
};

/** The refund as each locale writes it (the `money` filter). */
const REFUND: Record<(typeof LOCALES)[number], string> = { en: '€49.90', fr: '49,90 €' };

/** What each message must carry, beyond the order id. Email shows every data field. */
const SMS_SHOWS: Record<OrderStatus, Array<string | typeof REFUND>> = {
  confirmed: [NAME],
  payment_failed: ['card declined'],
  packed: [],
  shipped: ['UPS', '1Z999AA10123456784', '24 Nov'],
  out_for_delivery: ['14:00-16:00'],
  delayed: ['severe weather at the hub', '27 Nov'],
  delivered: [],
  cancelled: ['item out of stock'],
  refunded: [REFUND],
};

const EMAIL_SHOWS: Record<OrderStatus, Array<string | typeof REFUND>> = {
  confirmed: ['25 Nov'],
  payment_failed: ['card declined'],
  packed: [],
  shipped: ['UPS', '1Z999AA10123456784', '24 Nov'],
  out_for_delivery: ['14:00-16:00', 'DHL', 'JD014600006281230'],
  delayed: ['severe weather at the hub', '27 Nov'],
  delivered: [],
  cancelled: ['item out of stock'],
  refunded: [REFUND],
};

const shown = (value: string | typeof REFUND, locale: (typeof LOCALES)[number]) => (typeof value === 'string' ? value : value[locale]);

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

const variables = (status: OrderStatus, extra: Record<string, unknown> = {}) => ({
  ...DATA[status],
  orderId: ORDER_ID,
  status,
  customerName: NAME,
  ...extra,
});

async function publish(key: string, channel: RenderChannel, locale: string, version: number, subject: string, body: string) {
  await db.template.create({ data: { key, channel, locale, version, state: 'published', subject, body } });
}

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'herald-render-')), persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 2 });
  // A deployment from before email and SMS: the push defaults, one of them already edited (version 2).
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
  test('adds the email and SMS templates next to existing push ones, and nothing the second time', async () => {
    // Every status, and the digest.
    const perChannel = (ORDER_STATUSES.length + 1) * LOCALES.length;
    expect(seededOnPushOnly).toBe(2 * perChannel);
    expect(await ensureDefaultTemplates(db)).toBe(0);

    const rows = await db.template.groupBy({ by: ['channel'], where: { key: { startsWith: 'order.' } }, _count: { _all: true } });
    const counts = Object.fromEntries(rows.map((r) => [r.channel, r._count._all]));
    expect(counts).toEqual({ push: perChannel + 1, email: perChannel, sms: perChannel });

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
    expect(await db.template.count({ where: { channel: { in: ['push', 'sms'] }, bodyHtml: { not: null } } })).toBe(0);
  });

  test('seeds every channel on an empty database in one go', async () => {
    const total = DEFAULT_TEMPLATES.length;
    expect(total).toBe((ORDER_STATUSES.length + 1) * LOCALES.length * 3);
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
});

class Rollback extends Error {}

describe('rendering every status, channel and locale', () => {
  let render: ReturnType<typeof createRenderer>;
  beforeAll(() => {
    render = createRenderer(db, 'en', 0);
  });
  const cases = ORDER_STATUSES.flatMap((status) => LOCALES.flatMap((locale) => CHANNELS.map((channel) => [status, channel, locale] as const)));

  test.each(cases)('%s by %s in %s', async (status, channel, locale) => {
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
  });

  test('the inbox shows the push copy when there is no in-app template', async () => {
    for (const locale of LOCALES) {
      const request = { key: 'order.shipped', locale, variables: variables('shipped') };
      const inapp = await render({ ...request, channel: 'inapp' });
      const push = await render({ ...request, channel: 'push' });
      expect(inapp).toEqual(push);
    }
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

  test.each(LOCALES.flatMap((locale) => (['push', 'email', 'sms'] as const).map((channel) => [channel, locale] as const)))('lists the updates by %s in %s', async (channel, locale) => {
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
    if (channel === 'email') {
      for (const update of updates) expect(message.html).toContain(`<strong>${update.title}</strong>`);
      expect(message.body).toContain(locale === 'en' ? '(11/21/26, 11:00 AM)' : '(21/11/2026 11:00)');
    }
  });
});
