// The example service worker (examples/web-push/herald-sw.js), run in a sandbox with a fake registration, clients
// and fetch: it shows what toWebPushPayload sends, opens the right link, and posts the receipts Herald takes.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { toWebPushPayload } from '../activities/providers/web-push';
import type { PushMessage } from '../domain';
import { receiptToken } from '../lib/receipt-tokens';

const SOURCE = fs.readFileSync(path.join(__dirname, '..', 'examples', 'web-push', 'herald-sw.js'), 'utf8');
const ORIGIN = 'https://shop.example';

type Listener = (event: any) => void;

function loadWorker(openWindows: string[] = []) {
  const listeners = new Map<string, Listener>();
  const shown: Array<{ title: string; options: any }> = [];
  const posted: Array<{ url: string; body: any }> = [];
  const opened: string[] = [];
  const focused: string[] = [];
  const self = {
    location: { origin: ORIGIN },
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    registration: { showNotification: async (title: string, options: any) => void shown.push({ title, options }) },
    clients: {
      matchAll: async () => openWindows.map((url) => ({ url, focus: async () => void focused.push(url) })),
      openWindow: async (url: string) => void opened.push(url),
    },
  };
  const fetch = async (url: string, init: { body: string }) => {
    posted.push({ url, body: JSON.parse(init.body) });
    return { ok: true };
  };
  vm.runInNewContext(SOURCE, { self, fetch, URL, JSON, Promise, encodeURIComponent });
  const dispatch = async (type: string, event: Record<string, unknown>) => {
    const waits: Array<Promise<unknown>> = [];
    listeners.get(type)!({ ...event, waitUntil: (p: Promise<unknown>) => waits.push(p) });
    await Promise.all(waits);
  };
  return { dispatch, shown, posted, opened, focused };
}

const message: PushMessage = {
  notificationId: 'ev-7/push',
  orderId: 'o-7',
  title: 'Order o-7 has shipped',
  body: 'On its way with UPS.',
  priority: 'routine',
  collapseKey: 'order-o-7',
  data: { notificationId: 'ev-7/push', orderId: 'o-7', status: 'shipped', type: 'order.shipped' },
  rich: {
    imageUrl: 'https://cdn.example/o-7.png',
    deepLink: 'https://shop.example/orders/o-7',
    actions: [{ id: 'track', title: 'Track parcel', deepLink: 'https://track.example/1Z' }, { id: 'help', title: 'Help' }],
  },
  // As the worker's providers stamp every push (activities/providers/receipt-tokens.ts).
  receiptToken: receiptToken([{ id: 'k1', secret: 'service-worker-test-secret' }], 'ev-7/push'),
};
const payload = () => JSON.parse(JSON.stringify(toWebPushPayload(message)));
const token = message.receiptToken!;
const receiptUrl = '/herald/v1/notifications/ev-7%2Fpush/events';

test('shows the push with its image and buttons, and reports it delivered', async () => {
  const sw = loadWorker();
  await sw.dispatch('push', { data: { json: payload } });
  expect(sw.shown).toEqual([
    {
      title: 'Order o-7 has shipped',
      options: {
        body: 'On its way with UPS.',
        tag: 'order-o-7',
        image: 'https://cdn.example/o-7.png',
        actions: [{ action: 'track', title: 'Track parcel' }, { action: 'help', title: 'Help' }],
        data: payload().data,
      },
    },
  ]);
  // The receipt echoes the token the payload carried, which Herald checks.
  expect(payload().data.receiptToken).toBe(token);
  expect(sw.posted).toEqual([{ url: receiptUrl, body: { type: 'delivered', eventId: 'webpush:delivered', receiptToken: token } }]);
});

test('a push without a receipt token is shown, and no receipt is posted (Herald would refuse it)', async () => {
  const sw = loadWorker();
  const untokened = JSON.parse(JSON.stringify(toWebPushPayload({ ...message, receiptToken: undefined })));
  expect(untokened.data).not.toHaveProperty('receiptToken');
  await sw.dispatch('push', { data: { json: () => untokened } });
  expect(sw.shown).toHaveLength(1);
  expect(sw.posted).toEqual([]);
});

test('a tap opens data.url and reports opened; a button opens its own link (or data.url) and reports clicked', async () => {
  const sw = loadWorker(['https://shop.example/orders/o-7']);
  const notification = (data: unknown) => ({ data, close: () => undefined });
  await sw.dispatch('notificationclick', { action: '', notification: notification(payload().data) });
  // The order page is open already: focused, not opened again.
  expect(sw.focused).toEqual(['https://shop.example/orders/o-7']);
  await sw.dispatch('notificationclick', { action: 'track', notification: notification(payload().data) });
  await sw.dispatch('notificationclick', { action: 'help', notification: notification(payload().data) });
  expect(sw.opened).toEqual(['https://track.example/1Z']);
  expect(sw.focused).toEqual(['https://shop.example/orders/o-7', 'https://shop.example/orders/o-7']);
  expect(sw.posted).toEqual([
    { url: receiptUrl, body: { type: 'opened', eventId: 'webpush:opened', receiptToken: token } },
    { url: receiptUrl, body: { type: 'clicked', eventId: 'webpush:clicked:track', receiptToken: token } },
    { url: receiptUrl, body: { type: 'clicked', eventId: 'webpush:clicked:help', receiptToken: token } },
  ]);
});

test('a plain push opens the site root', async () => {
  const sw = loadWorker();
  const plain = JSON.parse(JSON.stringify(toWebPushPayload({ ...message, rich: null })));
  expect(plain).not.toHaveProperty('image');
  expect(plain).not.toHaveProperty('actions');
  await sw.dispatch('notificationclick', { action: '', notification: { data: plain.data, close: () => undefined } });
  expect(sw.opened).toEqual(['https://shop.example/']);
});
