// Template management against the real stack: versions and drafts, publishing and rollback reaching real
// notifications (the worker's template cache is 500 ms here, HERALD_TEMPLATE_CACHE_MS), strict variables,
// Herald's Liquid filters, preview with the locale fallback chain, and the admin scope.
import { eventually, iosToken, startHarness, type Harness } from './support/harness';

let h: Harness;
const CACHE_MS = 500;

beforeAll(async () => {
  h = await startHarness({ env: { HERALD_TEMPLATE_CACHE_MS: String(CACHE_MS) } });
}, 180_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the worker's template cache, so a publish shows in the next render. */
const pastCache = () => sleep(CACHE_MS * 3);

let seq = 0;

async function customerWithIphone(customerId: string, profile: Record<string, unknown>): Promise<string> {
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', ...profile })).status).toBe(201);
  const token = iosToken(customerId);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `${customerId}-iphone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

/** Posts an event and waits for its push: the APNs payload and the notification's history entry. */
async function pushFor(customerId: string, token: string, orderId: string, status: string, data: Record<string, unknown> = {}) {
  const event = { eventId: `tpl-${++seq}`, orderId, customerId, status, occurredAt: new Date(Date.UTC(2026, 10, 21, 10, seq)).toISOString(), source: 'oms', data };
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const request = await eventually(() => {
    const found = h.apns.requestsFor(token).find((r) => (r.body as any).orderId === orderId);
    expect(found).toBeDefined();
    return found!;
  });
  const notification = await eventually(async () => {
    const res = await h.api('GET', `/v1/orders/${orderId}/notifications?channel=push`);
    expect(res.body.items[0]?.status).toBe('sent');
    return res.body.items[0];
  });
  return { alert: (request.body as any).aps.alert as { title: string; body: string }, notification };
}

test('lists templates per key, channel and locale, and every version of a key with its variables', async () => {
  const list = await h.api('GET', '/v1/templates');
  expect(list.status).toBe(200);
  expect(list.body.items).toContainEqual({ key: 'order.shipped', channel: 'push', locale: 'en', publishedVersion: 1, latestVersion: 1, versionCount: 1 });
  expect(list.body.items).toContainEqual({ key: 'order.digest', channel: 'email', locale: 'fr', publishedVersion: 1, latestVersion: 1, versionCount: 1 });

  const filtered = await h.api('GET', '/v1/templates?key=order.shipped&channel=push');
  expect(filtered.body.items.map((i: any) => i.locale)).toEqual(['en', 'fr']);
  expect((await h.api('GET', '/v1/templates?channel=fax')).body.error.fields).toEqual([{ field: 'channel', reason: expect.stringContaining('push') }]);

  const key = await h.api('GET', '/v1/templates/order.shipped?channel=email&locale=fr');
  expect(key.status).toBe(200);
  expect(key.body.variables.map((v: any) => v.name)).toEqual(
    expect.arrayContaining(['orderId', 'customerName', 'customerTimeZone', 'occurredAt', 'carrier', 'trackingNumber', 'trackingUrl', 'eta']),
  );
  expect(key.body.templates).toEqual([
    {
      channel: 'email',
      locale: 'fr',
      publishedVersion: 1,
      latestVersion: 1,
      versions: [expect.objectContaining({ version: 1, state: 'published', subject: 'Commande {{ orderId }} expédiée', bodyHtml: expect.stringContaining('<!DOCTYPE html>') })],
    },
  ]);
  const unknown = await h.api('GET', '/v1/templates/order.exchanged');
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.fields).toEqual([{ field: 'key', reason: expect.stringContaining('order.shipped') }]);
});

test('a draft is edited, previewed, published into real notifications, and rolled back', async () => {
  const token = await customerWithIphone('tpl-ada', { locale: 'en-GB', timeZone: 'Europe/London' });
  const first = await pushFor('tpl-ada', token, 'tpl-o1', 'shipped', { carrier: 'UPS' });
  expect(first.alert.title).toBe('Order tpl-o1 has shipped');
  expect(first.notification.template).toMatchObject({ version: 1, locale: 'en' });

  const draft = await h.api('POST', '/v1/templates/order.shipped/versions', { channel: 'push', locale: 'en', subject: 'Shipped: {{ orderId }}', body: 'Via {{ carrier }}.' });
  expect(draft.status).toBe(201);
  expect(draft.body).toMatchObject({ key: 'order.shipped', channel: 'push', locale: 'en', version: 2, state: 'draft', bodyHtml: null });

  const edited = await h.api('PUT', '/v1/templates/order.shipped/push/en/versions/2', {
    subject: 'On its way: {{ orderId }}',
    body: 'Your parcel is with {{ carrier }}{% if eta %}, arriving {{ eta | local_date }}{% endif %}.',
  });
  expect(edited.status).toBe(200);
  expect(edited.body).toMatchObject({ templateId: draft.body.templateId, version: 2, state: 'draft', subject: 'On its way: {{ orderId }}' });
  expect((await h.api('GET', '/v1/templates/order.shipped/push/en/versions/2')).body).toEqual(edited.body);
  expect((await h.api('PUT', '/v1/templates/order.shipped/push/en/versions/7', { subject: 'x', body: 'y' })).status).toBe(404);
  expect((await h.api('PUT', '/v1/templates/order.shipped/push/en/versions/2', { subject: 'x', body: 'y', bodyHtml: '<p>y</p>' })).body.error.fields).toEqual([
    { field: 'bodyHtml', reason: 'only email templates have an HTML part' },
  ]);
  expect((await h.api('GET', '/v1/templates/order.shipped/fax/en_GB/versions/0')).body.error.fields.map((f: any) => f.field)).toEqual(['channel', 'locale']);

  // The draft can be previewed; customers still get version 1.
  const preview = await h.api('POST', '/v1/templates/order.shipped/preview', { channel: 'push', locale: 'en', version: 2, event: { orderId: 'tpl-preview', data: { carrier: 'DHL', eta: '2026-11-24' } } });
  expect(preview.status).toBe(200);
  expect(preview.body).toMatchObject({ templateId: draft.body.templateId, version: 2, state: 'draft', locale: 'en', subject: 'On its way: tpl-preview', body: 'Your parcel is with DHL, arriving Nov 24, 2026.', html: null });
  const published = await h.api('POST', '/v1/templates/order.shipped/preview', { channel: 'push', locale: 'en' });
  expect(published.body).toMatchObject({ version: 1, state: 'published', subject: 'Order ORD-2026-000123 has shipped' });
  expect(await h.db.notification.count({ where: { orderId: { in: ['tpl-preview', 'ORD-2026-000123'] } } })).toBe(0);

  const publish = await h.api('POST', '/v1/templates/order.shipped/push/en/versions/2/publish');
  expect(publish.status).toBe(200);
  expect(publish.body).toMatchObject({ published: { version: 2, state: 'published' }, archived: { version: 1, state: 'archived' } });
  // Published versions never change.
  const locked = await h.api('PUT', '/v1/templates/order.shipped/push/en/versions/2', { subject: 'x', body: 'y' });
  expect(locked).toMatchObject({ status: 409, body: { error: { code: 'template_not_draft' } } });

  await pastCache();
  const second = await pushFor('tpl-ada', token, 'tpl-o2', 'shipped', { carrier: 'UPS' });
  expect(second.alert).toEqual({ title: 'On its way: tpl-o2', body: 'Your parcel is with UPS.' });
  expect(second.notification.template).toMatchObject({ id: draft.body.templateId, version: 2, locale: 'en' });

  // Rollback republishes version 1; once more, there is nothing older.
  const rollback = await h.api('POST', '/v1/templates/order.shipped/push/en/rollback');
  expect(rollback.body).toMatchObject({ published: { version: 1, state: 'published' }, archived: { version: 2, state: 'archived' } });
  expect(await h.api('POST', '/v1/templates/order.shipped/push/en/rollback')).toMatchObject({ status: 409, body: { error: { code: 'no_previous_version' } } });

  await pastCache();
  const third = await pushFor('tpl-ada', token, 'tpl-o3', 'shipped', { carrier: 'UPS' });
  expect(third.alert.title).toBe('Order tpl-o3 has shipped');
  expect(third.notification.template).toMatchObject({ version: 1 });
  // Earlier notifications keep the version they were rendered with.
  const earlier = await h.api('GET', '/v1/orders/tpl-o2/notifications?channel=push');
  expect(earlier.body.items[0].template).toMatchObject({ version: 2 });

  // Publishing an archived version is a rollback by number; publishing the published one changes nothing.
  expect((await h.api('POST', '/v1/templates/order.shipped/push/en/versions/2/publish')).body).toMatchObject({ published: { version: 2 }, archived: { version: 1 } });
  expect((await h.api('POST', '/v1/templates/order.shipped/push/en/versions/2/publish')).body).toMatchObject({ published: { version: 2 }, archived: null });
  expect((await h.api('POST', '/v1/templates/order.shipped/push/en/rollback')).body).toMatchObject({ published: { version: 1 } });
  expect((await h.api('POST', '/v1/templates/order.shipped/push/en/versions/9/publish')).status).toBe(404);

  const history = await h.api('GET', '/v1/templates/order.shipped?channel=push&locale=en');
  expect(history.body.templates).toEqual([
    expect.objectContaining({ publishedVersion: 1, latestVersion: 2, versions: [expect.objectContaining({ version: 2, state: 'archived' }), expect.objectContaining({ version: 1, state: 'published' })] }),
  ]);
  // One published version per key, channel and locale, whatever happened.
  expect(await h.db.template.count({ where: { key: 'order.shipped', channel: 'push', locale: 'en', state: 'published' } })).toBe(1);
}, 120_000);

test('strict variables: a template using a variable its event does not provide is refused, naming it', async () => {
  const before = await h.db.template.count();
  const unknownVariable = await h.api('POST', '/v1/templates/order.shipped/versions', {
    channel: 'push',
    locale: 'en',
    subject: 'Shipped {{ orderId }}',
    body: '{% assign label = "Tracking" %}{{ label }}: {{ trackingNo }}',
  });
  expect(unknownVariable.status).toBe(400);
  expect(unknownVariable.body.error.code).toBe('validation_failed');
  expect(unknownVariable.body.error.fields).toEqual([{ field: 'body', reason: expect.stringMatching(/^unknown variable 'trackingNo' for order\.shipped; known: orderId, .*trackingNumber/) }]);

  // A field of another status is unknown here too; filters and Liquid itself are checked per field.
  const problems = await h.api('POST', '/v1/templates/order.delivered/versions', {
    channel: 'email',
    locale: 'fr',
    subject: 'Livrée {{ orderId | shout }}',
    body: 'Motif : {{ delayReason }}',
    bodyHtml: '<p>{% if deliveredAt %}{{ deliveredAt | datetime }}</p>',
  });
  expect(problems.status).toBe(400);
  expect(problems.body.error.fields).toEqual([
    { field: 'subject', reason: expect.stringContaining('undefined filter: shout') },
    { field: 'body', reason: expect.stringContaining("unknown variable 'delayReason' for order.delivered") },
    { field: 'bodyHtml', reason: expect.stringContaining('not closed') },
  ]);
  const html = await h.api('POST', '/v1/templates/order.packed/versions', { channel: 'sms', locale: 'en', subject: 'x', body: 'y', bodyHtml: '<p>y</p>' });
  expect(html.body.error.fields).toEqual([{ field: 'bodyHtml', reason: 'only email templates have an HTML part' }]);
  const missing = await h.api('POST', '/v1/templates/order.packed/versions', { channel: 'push', locale: 'en', subject: '' });
  expect(missing.body.error.fields.map((f: any) => f.field).sort()).toEqual(['body', 'subject']);
  expect(await h.db.template.count()).toBe(before);

  // Variables the template makes itself (loops, assign, capture) are fine, and so is the digest's list.
  const digest = await h.api('POST', '/v1/templates/order.digest/versions', {
    channel: 'push',
    locale: 'en',
    subject: '{% capture n %}{{ updates | size }}{% endcapture %}{{ n }} news on {{ orderId }}',
    body: '{% for update in updates %}{{ forloop.index }}. {{ update.title }} ({{ update.occurredAt | local_time }}){% endfor %}',
  });
  expect(digest.status).toBe(201);
  // An edit is checked the same way.
  const edit = await h.api('PUT', `/v1/templates/order.digest/push/en/versions/${digest.body.version}`, { subject: '{{ carrier }}', body: 'x' });
  expect(edit.body.error.fields).toEqual([{ field: 'subject', reason: expect.stringContaining("unknown variable 'carrier' for order.digest") }]);
});

test('filters: money, dates in the customer’s time zone and locale, and plurals, for an English and a French customer', async () => {
  const copy = {
    en: { subject: 'Total {{ total | money: currency }}', body: "{{ itemCount | pluralize: 'item', 'items' }}, arriving {{ eta | datetime }} ({{ customerTimeZone }})" },
    fr: { subject: 'Total {{ total | money: currency }}', body: "{{ itemCount | pluralize: 'article', 'articles' }}, livraison {{ eta | datetime }} ({{ customerTimeZone }})" },
  };
  const versions: Record<string, number> = {};
  for (const locale of ['en', 'fr'] as const) {
    const res = await h.api('POST', '/v1/templates/order.confirmed/versions', { channel: 'push', locale, ...copy[locale] });
    expect(res.status).toBe(201);
    versions[locale] = res.body.version;
  }
  expect((await h.api('PUT', '/v1/customers/tpl-nyc', { name: 'Grace', locale: 'en-US', timeZone: 'America/New_York' })).status).toBe(201);
  expect((await h.api('PUT', '/v1/customers/tpl-paris', { name: 'Émilie', locale: 'fr', timeZone: 'Europe/Paris' })).status).toBe(201);
  const event = { data: { total: '1234.5', currency: 'EUR', itemCount: 3, eta: '2026-11-24T19:30:00Z' } };

  const nyc = await h.api('POST', '/v1/templates/order.confirmed/preview', { channel: 'push', version: versions.en, customerId: 'tpl-nyc', event });
  expect(nyc.status).toBe(200);
  expect(nyc.body).toMatchObject({ locale: 'en', formatting: { locale: 'en-US', timeZone: 'America/New_York' } });
  expect([nyc.body.subject, nyc.body.body]).toEqual(['Total €1,234.50', '3 items, arriving Nov 24, 2026, 2:30 PM (America/New_York)']);

  const paris = await h.api('POST', '/v1/templates/order.confirmed/preview', { channel: 'push', version: versions.fr, customerId: 'tpl-paris', event });
  expect(paris.body).toMatchObject({ locale: 'fr', formatting: { locale: 'fr', timeZone: 'Europe/Paris' } });
  expect([paris.body.subject, paris.body.body]).toEqual(['Total 1 234,50 €', '3 articles, livraison 24 nov. 2026, 20:30 (Europe/Paris)']);

  // One item; the sample customer overrides the stored one's time zone (Tokyo is already on the 25th).
  const single = await h.api('POST', '/v1/templates/order.confirmed/preview', {
    channel: 'push',
    version: versions.fr,
    customerId: 'tpl-paris',
    customer: { timeZone: 'Asia/Tokyo' },
    event: { data: { ...event.data, itemCount: 1, total: 20 } },
  });
  expect([single.body.subject, single.body.body]).toEqual(['Total 20,00 €', '1 article, livraison 25 nov. 2026, 04:30 (Asia/Tokyo)']);

  // The seeded copy through a real notification: a French Canadian's refund, in Canadian French.
  const token = await customerWithIphone('tpl-quebec', { locale: 'fr-CA', timeZone: 'America/Toronto' });
  const refund = await pushFor('tpl-quebec', token, 'tpl-o4', 'refunded', { amount: '1234.5', currency: 'CAD' });
  expect(refund.alert.body).toBe('Nous avons remboursé 1 234,50 $ pour votre commande tpl-o4.');
  expect(refund.notification.template).toMatchObject({ version: 1, locale: 'fr' });
});

test('preview follows the fallback chain fr-CA → fr → en, and a missing template or customer is a 404', async () => {
  const preview = (body: Record<string, unknown>) => h.api('POST', '/v1/templates/order.packed/preview', body);
  const canadian = await preview({ channel: 'sms', customer: { locale: 'fr-CA' } });
  expect(canadian.body).toMatchObject({ locale: 'fr', version: 1, body: 'Commande ORD-2026-000123 emballée, elle attend le transporteur.' });

  // A Canadian version of its own wins once published.
  const own = await h.api('POST', '/v1/templates/order.packed/versions', { channel: 'sms', locale: 'fr-CA', subject: 'Commande {{ orderId }}', body: 'Votre commande {{ orderId }} est paquetée.' });
  expect(own.body).toMatchObject({ locale: 'fr-CA', version: 1 });
  expect((await preview({ channel: 'sms', locale: 'fr-CA' })).body.locale).toBe('fr');
  expect((await h.api('POST', '/v1/templates/order.packed/sms/fr-CA/versions/1/publish')).status).toBe(200);
  expect((await preview({ channel: 'sms', locale: 'fr-CA' })).body).toMatchObject({ locale: 'fr-CA', body: 'Votre commande ORD-2026-000123 est paquetée.' });

  // Without fr-CA or fr, English; a language with no template at all, English too.
  await h.db.template.updateMany({ where: { key: 'order.packed', channel: 'sms', locale: { in: ['fr-CA', 'fr'] } }, data: { state: 'archived' } });
  const english = await preview({ channel: 'sms', locale: 'fr-CA' });
  expect(english.body).toMatchObject({ locale: 'en', body: 'Order ORD-2026-000123 is packed and waiting for the carrier.' });
  expect((await preview({ channel: 'sms', locale: 'de-AT' })).body.locale).toBe('en');

  // In-app has its own copy, and shows the push copy in a locale where it has none.
  expect((await preview({ channel: 'inapp', locale: 'fr' })).body).toMatchObject({ channel: 'inapp', locale: 'fr' });
  await h.db.template.updateMany({ where: { key: 'order.packed', channel: 'inapp', locale: 'fr' }, data: { state: 'archived' } });
  expect((await preview({ channel: 'inapp', locale: 'fr' })).body).toMatchObject({ channel: 'push', locale: 'fr' });

  await h.db.template.updateMany({ where: { key: 'order.packed', channel: 'sms', locale: 'en' }, data: { state: 'archived' } });
  const none = await preview({ channel: 'sms', locale: 'fr-CA' });
  expect(none.status).toBe(404);
  expect(none.body.error.message).toContain('fr-CA, fr, en');
  expect((await preview({ channel: 'push', locale: 'en', version: 42 })).status).toBe(404);
  expect((await preview({ channel: 'push', customerId: 'tpl-nobody' })).status).toBe(404);
});

test('every template endpoint needs the admin scope', async () => {
  const created = await h.api('POST', '/v1/api-keys', { name: 'no-admin', scopes: ['ingest', 'read'] });
  expect(created.status).toBe(201);
  const key = created.body.key as string;
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/v1/templates'],
    ['GET', '/v1/templates/order.shipped'],
    ['POST', '/v1/templates/order.shipped/versions', { channel: 'push', locale: 'en', subject: 's', body: 'b' }],
    ['GET', '/v1/templates/order.shipped/push/en/versions/1'],
    ['PUT', '/v1/templates/order.shipped/push/en/versions/1', { subject: 's', body: 'b' }],
    ['POST', '/v1/templates/order.shipped/push/en/versions/1/publish'],
    ['POST', '/v1/templates/order.shipped/push/en/rollback'],
    ['POST', '/v1/templates/order.shipped/preview', { channel: 'push', locale: 'en' }],
  ];
  for (const [method, path, body] of calls) {
    const res = await h.api(method, path, body, key);
    expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({ method, path, status: 403, code: 'forbidden' });
  }
  expect((await h.api('GET', '/v1/templates', undefined, 'hk_unknown')).status).toBe(401);
});

test('rich push fields: created and versioned with the draft, checked once rendered, previewed, and sent to APNs', async () => {
  const key = 'order.out_for_delivery';
  const rich = {
    imageUrl: 'https://cdn.example/{{ orderId }}.png',
    deepLink: '{% if trackingUrl %}{{ trackingUrl }}{% else %}myshop://orders/{{ orderId }}{% endif %}',
    actions: [
      { id: 'track', title: '{% if carrier %}Track with {{ carrier }}{% else %}Track{% endif %}', deepLink: '{{ trackingUrl }}' },
      { id: 'help', title: 'Get help', deepLink: 'myshop://help' },
    ],
    actionCategory: 'OUT_FOR_DELIVERY',
  };
  const draft = await h.api('POST', `/v1/templates/${key}/versions`, { channel: 'push', locale: 'en', subject: 'Today: {{ orderId }}', body: 'Your parcel arrives today.', ...rich });
  expect(draft.status).toBe(201);
  expect(draft.body).toMatchObject({
    version: 2,
    state: 'draft',
    ...rich,
    actions: rich.actions.map((a) => ({ ...a, deepLink: a.deepLink })),
  });
  expect((await h.api('GET', `/v1/templates/${key}/push/en/versions/2`)).body).toEqual(draft.body);
  // Version 1 (the default) links to the tracking page and has no buttons.
  expect((await h.api('GET', `/v1/templates/${key}/push/en/versions/1`)).body).toMatchObject({ deepLink: '{{ trackingUrl }}', imageUrl: null, actions: [], actionCategory: null });

  // A URL that is no http(s) URL (or app link, for deep links) once rendered with the example values: a 400 naming the field.
  const bad = async (field: Record<string, unknown>) => h.api('POST', `/v1/templates/${key}/versions`, { channel: 'push', locale: 'en', subject: 's', body: 'b', ...field });
  const image = await bad({ imageUrl: 'ftp://cdn.example/x.png' });
  expect(image.status).toBe(400);
  expect(image.body.error.fields).toEqual([{ field: 'imageUrl', reason: expect.stringContaining('http or https') }]);
  expect((await bad({ deepLink: 'javascript:alert(1)' })).body.error.fields).toEqual([{ field: 'deepLink', reason: expect.stringContaining('javascript') }]);
  expect((await bad({ deepLink: '{{ carrier }}' })).body.error.fields).toEqual([{ field: 'deepLink', reason: expect.stringContaining("renders to 'UPS'") }]);
  expect((await bad({ actions: [{ id: 'a', title: 'A', deepLink: 'not a url' }] })).body.error.fields).toEqual([{ field: 'actions[0].deepLink', reason: expect.any(String) }]);
  expect((await bad({ imageUrl: '{{ parcelPhoto }}' })).body.error.fields).toEqual([{ field: 'imageUrl', reason: expect.stringContaining("unknown variable 'parcelPhoto'") }]);
  const tooMany = await bad({ actions: ['a', 'b', 'c', 'd'].map((id) => ({ id, title: id })) });
  expect(tooMany.status).toBe(400);
  expect(tooMany.body.error.fields).toEqual([{ field: 'actions', reason: expect.stringContaining('at most 3') }]);
  expect((await bad({ actions: [{ id: 'a b', title: 'A' }] })).body.error.fields).toEqual([{ field: 'actions.0.id', reason: expect.any(String) }]);
  const onSms = await h.api('POST', `/v1/templates/${key}/versions`, { channel: 'sms', locale: 'en', subject: 's', body: 'b', deepLink: 'https://x.example' });
  expect(onSms.body.error.fields).toEqual([{ field: 'deepLink', reason: 'only push templates have an image, a deep link and buttons' }]);
  expect((await h.api('PUT', `/v1/templates/${key}/sms/en/versions/1`, { subject: 's', body: 'b', imageUrl: 'https://x.example/a.png' })).body.error.fields).toEqual([
    { field: 'imageUrl', reason: 'only push templates have an image, a deep link and buttons' },
  ]);

  // The preview shows them rendered; a link to a variable the event lacks is left out.
  const preview = await h.api('POST', `/v1/templates/${key}/preview`, { channel: 'push', locale: 'en', version: 2, event: { orderId: 'tpl-rich-p', data: { carrier: 'DHL' } } });
  expect(preview.status).toBe(200);
  expect(preview.body.rich).toEqual({
    imageUrl: 'https://cdn.example/tpl-rich-p.png',
    deepLink: 'myshop://orders/tpl-rich-p',
    // No trackingUrl in the event: the first button has no link.
    actions: [
      { id: 'track', title: 'Track with DHL' },
      { id: 'help', title: 'Get help', deepLink: 'myshop://help' },
    ],
    category: 'OUT_FOR_DELIVERY',
  });
  expect((await h.api('POST', `/v1/templates/${key}/preview`, { channel: 'push', locale: 'en', event: { data: {} } })).body.rich).toBeNull();

  // Published, it reaches the APNs wire.
  expect((await h.api('POST', `/v1/templates/${key}/push/en/versions/2/publish`)).status).toBe(200);
  await pastCache();
  const token = await customerWithIphone('tpl-rich', { locale: 'en' });
  const event = { eventId: `tpl-${++seq}`, orderId: 'tpl-rich-o1', customerId: 'tpl-rich', status: 'out_for_delivery', occurredAt: new Date(Date.UTC(2026, 10, 21, 11, seq)).toISOString(), source: 'oms', data: { trackingUrl: 'https://track.example/T1' } };
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const sent = await eventually(() => {
    const found = h.apns.requestsFor(token).find((r) => (r.body as any).orderId === 'tpl-rich-o1');
    expect(found).toBeDefined();
    return found!.body as any;
  });
  expect(sent.aps).toMatchObject({ 'mutable-content': 1, category: 'OUT_FOR_DELIVERY', alert: { title: 'Today: tpl-rich-o1' } });
  expect(sent).toMatchObject({
    imageUrl: 'https://cdn.example/tpl-rich-o1.png',
    url: 'https://track.example/T1',
    actions: [{ id: 'track', title: 'Track', url: 'https://track.example/T1' }, { id: 'help', title: 'Get help', url: 'myshop://help' }],
  });
  expect((await h.api('POST', `/v1/templates/${key}/push/en/rollback`)).status).toBe(200);
});

test('end to end: a shipped event with data.trackingUrl reaches APNs with the tracking page as its deep link', async () => {
  const token = await customerWithIphone('tpl-track', { locale: 'en' });
  const trackingUrl = 'https://track.example/1Z999AA10123456784';
  const { alert } = await pushFor('tpl-track', token, 'tpl-track-o1', 'shipped', { carrier: 'UPS', trackingUrl });
  expect(alert.title).toBe('Order tpl-track-o1 has shipped');
  const body = h.apns.requestsFor(token).find((r) => (r.body as any).orderId === 'tpl-track-o1')!.body as any;
  expect(body.url).toBe(trackingUrl);
  // A link only: nothing for a notification service extension to fetch, no buttons.
  expect(body.aps).not.toHaveProperty('mutable-content');
  expect(body.aps).not.toHaveProperty('category');

  // Without a tracking URL the push opens the app as before.
  await pushFor('tpl-track', token, 'tpl-track-o2', 'shipped', { carrier: 'UPS' });
  expect(h.apns.requestsFor(token).find((r) => (r.body as any).orderId === 'tpl-track-o2')!.body).not.toHaveProperty('url');
});
