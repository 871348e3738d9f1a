import { Prisma } from '../../lib/db';
import { DATABASE_UNAVAILABLE_DOC, HttpError } from '../errors';
import { acceptedProductEventResponse, watchListResponse, watchResponse, type WatchView } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, productEventSchema, watchPath, watchSchema } from '../schemas';

const decimal = (d: Prisma.Decimal | null): string | null => (d === null ? null : d.toString());

function watchView(w: Prisma.WatchGetPayload<object>): WatchView {
  return {
    watchId: w.id,
    customerId: w.customerId,
    sku: w.sku,
    kind: w.kind,
    below: decimal(w.below),
    baselinePrice: decimal(w.baselinePrice),
    createdAt: w.createdAt,
    firedAt: w.firedAt,
  };
}

/** Customers' watches of products: back in stock, price drops. */
export const watchRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/watches',
    operationId: 'postWatch',
    tag: 'Watches',
    summary: 'Watch a product for a restock or a price drop',
    description:
      'A `restock` watch alerts the customer once, when a product event makes the product available after it was known unavailable; it is then spent. ' +
      "A `price_drop` watch alerts each time a product event's price is below the watch's baseline (the product's price when watched, then the last price told) " +
      'and below `below` when given. Watching the same product for the same kind again updates the watch (a spent restock watch is renewed). ' +
      'Alerts are marketing (topics `restock` and `price-drops`): consent, preferences, quiet hours and caps apply.',
    scope: 'ingest',
    params: customerPath,
    body: watchSchema,
    responses: { 200: { description: 'Updated.', body: watchResponse }, 201: { description: 'Created.', body: watchResponse } },
    handler: async ({ params: { customerId }, body: w }, { db }) => {
      const { watch, created } = await db.$transaction(async (tx) => {
        // A watch may come before the customer profile syncs; keep a minimal profile until it does.
        await tx.customer.upsert({ where: { id: customerId }, create: { id: customerId }, update: {} });
        const product = await tx.product.findUnique({ where: { sku: w.sku }, select: { price: true } });
        const key = { customerId_sku_kind: { customerId, sku: w.sku, kind: w.kind } };
        const existing = await tx.watch.findUnique({ where: key, select: { id: true } });
        const values = { below: w.below ?? null, baselinePrice: w.kind === 'price_drop' ? (product?.price ?? null) : null, firedAt: null };
        const watch = await tx.watch.upsert({ where: key, create: { customerId, sku: w.sku, kind: w.kind, ...values }, update: values });
        return { watch, created: !existing };
      });
      return { status: created ? 201 : 200, body: watchView(watch) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/watches',
    operationId: 'listWatches',
    tag: 'Watches',
    summary: "A customer's watches, spent ones included",
    scope: 'read',
    params: customerPath,
    responses: { 200: { description: 'The watches, newest first.', body: watchListResponse } },
    handler: async ({ params: { customerId } }, { db }) => {
      const watches = await db.watch.findMany({ where: { customerId }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: 500 });
      return { status: 200, body: { items: watches.map(watchView) } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/customers/{customerId}/watches/{watchId}',
    operationId: 'deleteWatch',
    tag: 'Watches',
    summary: 'Stop watching',
    description: 'The watch is removed: no later product event alerts it (an alert batch already sending may still carry it).',
    scope: 'ingest',
    params: watchPath,
    responses: { 204: { description: 'Removed.' } },
    errors: { 404: 'The customer has no such watch.' },
    handler: async ({ params: { customerId, watchId } }, { db }) => {
      const result = await db.watch.deleteMany({ where: { id: watchId, customerId } });
      if (result.count === 0) throw new HttpError(404, 'not_found', `customer ${customerId} has no watch ${watchId}`);
      return { status: 204 };
    },
  }),
];

export const productEventRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/product-events',
    operationId: 'postProductEvent',
    tag: 'Watches',
    summary: "Take a product's availability and price",
    description:
      "Stores the event and the product's new state first, then starts its alert workflow (`product-alert:<sku>:<eventId>`) when it is a restock " +
      '(available after known unavailable) or names a price. The workflow pages through the watchers and pushes to them in batches. The same eventId ' +
      'again is a duplicate (`duplicate: true`, nobody alerted again); the same eventId for another product is a 409.',
    scope: 'ingest',
    budget: 'intake',
    body: productEventSchema,
    responses: { 202: { description: 'Accepted (stored; its alerts are under way).', body: acceptedProductEventResponse } },
    errors: { 409: '`event_id_conflict`: this eventId was accepted before for a different product.', ...DATABASE_UNAVAILABLE_DOC.errors },
    errorHeaders: DATABASE_UNAVAILABLE_DOC.errorHeaders,
    handler: async ({ body }, { productIntake }) => {
      const accepted = await productIntake.accept(body);
      return { status: 202, body: accepted };
    },
  }),
];
