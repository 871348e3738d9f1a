/* Herald Web Push service worker (an example to copy into your site; README, "Rich push").
 *
 * Shows the push Herald sent (title, body, image, buttons), opens its link when it is tapped, and reports
 * what happened as receipts, which stop a pending backup (an SMS, say) and fill the delivery history:
 *   - `delivered` when the notification is shown,
 *   - `opened` when the customer taps the notification itself (its `data.url` opens),
 *   - `clicked` when they tap a button (that button's link opens, else `data.url`).
 *
 * Each receipt echoes the push's `data.receiptToken`, which only the delivered push carried: Herald refuses a receipt
 * without it (403), so nobody can confirm a notification they never received.
 *
 * Receipts are Herald's POST /v1/notifications/{notificationId}/events, which needs an API key with the
 * `ingest` scope. Never put that key in a browser: RECEIPTS_BASE is a path on your own site that forwards
 * `/v1/notifications/{id}/events` to Herald and adds the `Authorization: Bearer <key>` header (one reverse
 * proxy rule), so the worker itself holds no secret.
 */
const RECEIPTS_BASE = '/herald';
// Where a tap leads when the push has no link.
const DEFAULT_URL = '/';

self.addEventListener('push', (event) => {
  if (!event.data) return;
  const { title, body, tag, image, actions, data = {} } = event.data.json();
  const options = { body, tag, data };
  if (image) options.image = image;
  if (actions) options.actions = actions;
  event.waitUntil(Promise.all([self.registration.showNotification(title, options), report(data, 'delivered')]));
});

self.addEventListener('notificationclick', (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  const button = event.action || '';
  const url = (button && data.actionUrls && data.actionUrls[button]) || data.url || DEFAULT_URL;
  event.waitUntil(Promise.all([openOrFocus(url), report(data, button ? 'clicked' : 'opened', button)]));
});

/** Focuses a window already showing `url`, else opens one (browsers open http(s) links only). */
async function openOrFocus(url) {
  const target = new URL(url, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => w.url === target);
  if (open) return open.focus();
  return self.clients.openWindow(target);
}

/** One receipt; its eventId makes a repeat (a second tap, a retried push) record nothing new. Never throws. */
async function report(data, type, button = '') {
  if (!data.notificationId || !data.receiptToken) return;
  const path = `${RECEIPTS_BASE}/v1/notifications/${encodeURIComponent(data.notificationId)}/events`;
  try {
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, eventId: `webpush:${type}${button ? `:${button}` : ''}`, receiptToken: data.receiptToken }),
    });
  } catch {
    // Offline: the receipt is lost; Herald's backup step goes when its deadline passes, as for a lost push.
  }
}
