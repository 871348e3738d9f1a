// Rich push fields through Herald's Liquid setup, without a database: what renders, what is left out.
import { createTemplateEngines, parseTemplate, renderSettings, renderTemplate, templateProblems } from '../lib/liquid';
import { exampleVariables } from '../domain/template-variables';
import { DEFAULT_TEMPLATES, TRACKING_LINK_STATUSES } from '../lib/default-templates';
import { deepLinkProblem, imageUrlProblem, PUSH_ACTION_LIMIT } from '../lib/push-content';

const engines = createTemplateEngines();
const settings = renderSettings('en', 'en', 'UTC');
const render = (template: Parameters<typeof parseTemplate>[1], variables: Record<string, unknown>) =>
  renderTemplate(engines, parseTemplate(engines, template), variables, settings);

const template = {
  subject: 'Order {{ orderId }}',
  body: 'On its way.',
  imageUrl: '{{ photo }}',
  deepLink: '{{ trackingUrl }}',
  actions: [
    { id: 'track', title: 'Track', deepLink: '{{ trackingUrl }}' },
    { id: 'pickup', title: '{% if pickupLocation %}Collect at {{ pickupLocation }}{% endif %}' },
  ],
  actionCategory: 'ORDER',
};

test('renders the image, link and buttons with the message variables', async () => {
  const out = await render(template, { orderId: 'o1', photo: 'https://cdn.example/o1.png', trackingUrl: 'https://t.example/1', pickupLocation: 'Post office' });
  expect(out.rich).toEqual({
    imageUrl: 'https://cdn.example/o1.png',
    deepLink: 'https://t.example/1',
    actions: [
      { id: 'track', title: 'Track', deepLink: 'https://t.example/1' },
      { id: 'pickup', title: 'Collect at Post office' },
    ],
    category: 'ORDER',
  });
});

test('leaves out what renders empty or to no valid URL, and keeps the push going', async () => {
  const out = await render(template, { orderId: 'o1', photo: 'a photo of the parcel', trackingUrl: 'javascript:alert(1)' });
  expect(out.subject).toBe('Order o1');
  expect(out.rich).toEqual({ actions: [{ id: 'track', title: 'Track' }], category: 'ORDER' });
  // A template with no rich fields renders none.
  expect((await render({ subject: 's', body: 'b' }, {})).rich).toBeUndefined();
  expect((await render({ subject: 's', body: 'b', deepLink: '{{ trackingUrl }}' }, {})).rich).toBeUndefined();
});

test('strict variables name the rich field', () => {
  const problems = templateProblems(engines, 'order.shipped', ['orderId', 'trackingUrl'], { ...template, imageUrl: '{{ photo }}' });
  expect(problems.map((p) => p.field)).toEqual(['imageUrl', 'actions[1].title']);
});

test('URL checks: images are http(s); deep links are http(s) or an app scheme, never a script or local one', () => {
  expect(imageUrlProblem('https://cdn.example/a.png')).toBeNull();
  expect(imageUrlProblem('http://cdn.example/a.png')).toBeNull();
  expect(imageUrlProblem('myshop://a.png')).toMatch(/http/);
  expect(imageUrlProblem('/relative.png')).toMatch(/absolute/);
  expect(deepLinkProblem('myshop://orders/1')).toBeNull();
  expect(deepLinkProblem('https://shop.example/orders/1')).toBeNull();
  for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'orders/1', 'myshop://a b']) {
    expect([bad, deepLinkProblem(bad)]).toEqual([bad, expect.any(String)]);
  }
});

test('every seeded push template with rich fields renders them, valid, with its key’s example values', async () => {
  const rich = DEFAULT_TEMPLATES.filter((t) => t.imageUrl || t.deepLink || t.actions?.length || t.actionCategory);
  expect(rich.filter((t) => t.channel !== 'push')).toEqual([]);
  // The shipping statuses link to the tracking page (in both locales).
  expect(rich.filter((t) => t.deepLink === '{{ trackingUrl }}').map((t) => `${t.key}/${t.locale}`).sort()).toEqual(
    TRACKING_LINK_STATUSES.flatMap((s) => [`order.${s}/en`, `order.${s}/fr`]).sort(),
  );
  for (const t of rich) {
    const out = await render(t, exampleVariables(t.key));
    expect([t.key, t.locale, Boolean(out.rich)]).toEqual([t.key, t.locale, true]);
    if (t.deepLink) expect([t.key, out.rich!.deepLink && deepLinkProblem(out.rich!.deepLink)]).toEqual([t.key, null]);
    if (t.imageUrl) expect([t.key, out.rich!.imageUrl && imageUrlProblem(out.rich!.imageUrl)]).toEqual([t.key, null]);
    expect(t.actions?.length ?? 0).toBeLessThanOrEqual(PUSH_ACTION_LIMIT);
  }
});
