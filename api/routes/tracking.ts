// Email tracking: the open pixel and the click redirect that lib/tracking.ts puts into an email's HTML part. They carry
// no API key (a mail client calls them); each link is signed per notification instead, and a link the keys do not
// verify (unsigned, another notification's, an altered token or target URL) is a 404 that records nothing, so the
// redirect only ever goes where Herald pointed it.
//
// Receipts go through the shared recorder (store/receipts.ts, source `email-tracking`), which also signals the order's
// workflow. Dedupe: the first open of a notification is recorded, later ones (the customer reading it again, a
// client reloading images) record nothing; a click is recorded once per notification and target URL, so each
// distinct link clicked shows once. HEAD requests (link scanners) are answered without recording.
import crypto from 'node:crypto';
import { CLICK_PATH, OPEN_PATH, PIXEL_GIF, verifyToken } from '../../lib/tracking';
import type { ApiServices } from '../app';
import { HttpError } from '../errors';
import type { ReceiptReport } from '../receipts';
import { defineRoute, type Route } from '../route';
import { trackingClickQuerySchema, trackingTokenPath } from '../schemas';

const NOT_A_LINK = 'Not a link Herald signed: an unknown key, or an altered notification, signature or target URL. Nothing is recorded.';

function refused(): HttpError {
  return new HttpError(404, 'not_found', 'no such tracking link');
}

/**
 * Records the receipt; a notification that is gone, or a recorder that fails, does not stop the answer (the
 * customer still gets the image or the page they clicked for).
 */
async function recordQuietly(services: ApiServices, report: ReceiptReport): Promise<void> {
  try {
    await services.receipts.record(report);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return;
    services.logger.warn({ err, notificationId: report.notificationId, type: report.type }, 'could not record an email tracking receipt');
  }
}

export const trackingRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: `${OPEN_PATH}/{token}`,
    operationId: 'trackEmailOpen',
    tag: 'Receipts',
    summary: "An email's open pixel: answers a 1x1 GIF and records an `opened` receipt",
    description:
      "The `<img>` Herald adds to a tracked email's HTML part. The first request records an `opened` receipt (source " +
      "`email-tracking`) and signals the order's workflow; later ones record nothing. No API key: the token is signed for the " +
      'notification (HERALD_TRACKING_SECRET).',
    scope: null,
    params: trackingTokenPath,
    responses: {
      200: {
        description: 'A transparent 1x1 GIF.',
        content: { mediaType: 'image/gif', schema: { type: 'string', format: 'binary' } },
      },
    },
    errors: { 404: NOT_A_LINK },
    handler: async ({ params: { token }, req, res }, services) => {
      const verified = verifyToken(services.tracking?.keys ?? [], 'open', token, null);
      if (!verified) throw refused();
      if (req.method === 'GET') {
        await recordQuietly(services, {
          notificationId: verified.notificationId,
          type: 'opened',
          source: 'email-tracking',
          occurredAt: new Date(),
          dedupeKey: `email-tracking:open:${verified.notificationId}`,
          detail: { keyId: verified.keyId },
        });
      }
      res.status(200).set({ 'content-type': 'image/gif', 'cache-control': 'no-store, private' }).end(PIXEL_GIF);
    },
  }),
  defineRoute({
    method: 'get',
    path: `${CLICK_PATH}/{token}`,
    operationId: 'trackEmailClick',
    tag: 'Receipts',
    summary: 'A tracked link: records a `clicked` receipt and redirects to the signed URL',
    description:
      "Each http(s) link of a tracked email's HTML part goes through here. The token signs the notification and the `url`, " +
      "so the redirect goes only to the URL Herald signed. Records a `clicked` receipt (source `email-tracking`; once per " +
      "notification and URL) and signals the order's workflow. No API key.",
    scope: null,
    params: trackingTokenPath,
    query: trackingClickQuerySchema,
    responses: {
      302: {
        description: 'To the signed URL.',
        headers: { Location: { description: 'The target URL.', schema: { type: 'string' } } },
      },
    },
    errors: { 404: NOT_A_LINK },
    handler: async ({ params: { token }, query: { url }, req }, services) => {
      const verified = verifyToken(services.tracking?.keys ?? [], 'click', token, url);
      // Signed URLs are http(s) ones (lib/tracking.ts); the check keeps a leaked key from making a javascript: redirect.
      if (!verified || !/^https?:\/\//i.test(url)) throw refused();
      if (req.method === 'GET') {
        await recordQuietly(services, {
          notificationId: verified.notificationId,
          type: 'clicked',
          source: 'email-tracking',
          occurredAt: new Date(),
          dedupeKey: `email-tracking:click:${verified.notificationId}:${crypto.createHash('sha256').update(url).digest('base64url').slice(0, 22)}`,
          detail: { url, keyId: verified.keyId },
        });
      }
      return { status: 302, headers: { location: url, 'cache-control': 'no-store, private', 'referrer-policy': 'no-referrer' } };
    },
  }),
];
