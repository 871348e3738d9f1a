// The pure rules that decide whether an order event is announced or arrived late.
import { advance, dispositionOf, localeChain, notificationKindFor, ORDER_STATUSES, START_POSITION, TERMINAL_STATUSES, type LifecyclePosition, type OrderStatus } from '../domain';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute)).toISOString();

function replay(events: Array<[OrderStatus, number]>): Array<[OrderStatus, string]> {
  let position: LifecyclePosition = START_POSITION;
  return events.map(([status, minute]) => {
    const disposition = dispositionOf(position, status, at(minute));
    if (disposition === 'announce') position = advance(position, status, at(minute));
    return [status, disposition];
  });
}

test('the fulfilment path is announced in order and a step back is late', () => {
  expect(replay([['confirmed', 1], ['packed', 2], ['shipped', 3], ['packed', 4], ['out_for_delivery', 5], ['shipped', 6], ['delivered', 7]])).toEqual([
    ['confirmed', 'announce'],
    ['packed', 'announce'],
    ['shipped', 'announce'],
    ['packed', 'out_of_order'],
    ['out_for_delivery', 'announce'],
    ['shipped', 'out_of_order'],
    ['delivered', 'announce'],
  ]);
});

test('skipping steps is fine; a delay is announced unless older than the newest event', () => {
  expect(replay([['shipped', 5], ['delayed', 6], ['delayed', 4], ['delayed', 7], ['packed', 8], ['delivered', 9]])).toEqual([
    ['shipped', 'announce'],
    ['delayed', 'announce'],
    ['delayed', 'out_of_order'],
    ['delayed', 'announce'],
    ['packed', 'out_of_order'],
    ['delivered', 'announce'],
  ]);
});

test('after delivery or cancellation only a refund is announced, and only once', () => {
  expect(replay([['delivered', 1], ['delayed', 2], ['cancelled', 3], ['refunded', 4], ['refunded', 5]])).toEqual([
    ['delivered', 'announce'],
    ['delayed', 'out_of_order'],
    ['cancelled', 'out_of_order'],
    ['refunded', 'announce'],
    ['refunded', 'out_of_order'],
  ]);
  expect(replay([['packed', 1], ['cancelled', 2], ['shipped', 3], ['refunded', 4]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'out_of_order', 'announce']);
});

test('a payment failure counts only before the order ships', () => {
  expect(replay([['payment_failed', 1], ['confirmed', 2], ['payment_failed', 3], ['shipped', 4], ['payment_failed', 5]]).map(([, d]) => d)).toEqual([
    'announce',
    'announce',
    'announce',
    'announce',
    'out_of_order',
  ]);
});

test('a backorder, like a payment failure, counts only before the order ships in full', () => {
  expect(replay([['confirmed', 1], ['backordered', 2], ['backordered', 4], ['backordered', 3], ['partially_shipped', 5], ['backordered', 6], ['shipped', 7], ['backordered', 8]])).toEqual([
    ['confirmed', 'announce'],
    ['backordered', 'announce'],
    ['backordered', 'announce'],
    ['backordered', 'out_of_order'],
    ['partially_shipped', 'announce'],
    // The rest of a partly shipped order can still be out of stock.
    ['backordered', 'announce'],
    ['shipped', 'announce'],
    ['backordered', 'out_of_order'],
  ]);
});

test('each newer partial shipment is announced, until the order ships in full', () => {
  expect(replay([['confirmed', 1], ['packed', 2], ['partially_shipped', 3], ['partially_shipped', 5], ['partially_shipped', 4], ['packed', 6], ['shipped', 7], ['partially_shipped', 8], ['delivered', 9]])).toEqual([
    ['confirmed', 'announce'],
    ['packed', 'announce'],
    ['partially_shipped', 'announce'],
    ['partially_shipped', 'announce'],
    ['partially_shipped', 'out_of_order'],
    ['packed', 'out_of_order'],
    ['shipped', 'announce'],
    ['partially_shipped', 'out_of_order'],
    ['delivered', 'announce'],
  ]);
  // A partial shipment may be the first news of an order, and a later one the same minute is still news.
  expect(replay([['partially_shipped', 1], ['partially_shipped', 1], ['confirmed', 2]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'out_of_order']);
});

test('delivery attempts are announced each time once the order ships, and the next round out for delivery too', () => {
  expect(
    replay([
      ['packed', 1],
      ['delivery_attempted', 2],
      ['shipped', 3],
      ['out_for_delivery', 4],
      ['delivery_attempted', 5],
      ['out_for_delivery', 7],
      ['out_for_delivery', 8],
      ['delivery_attempted', 9],
      ['delivery_attempted', 6],
      ['delivery_attempted', 10],
      ['delivered', 11],
      ['delivery_attempted', 12],
    ]),
  ).toEqual([
    ['packed', 'announce'],
    // Nothing has left the warehouse: nothing can be delivered yet.
    ['delivery_attempted', 'out_of_order'],
    ['shipped', 'announce'],
    ['out_for_delivery', 'announce'],
    ['delivery_attempted', 'announce'],
    ['out_for_delivery', 'announce'],
    // Out for delivery twice with no failed attempt between says nothing new.
    ['out_for_delivery', 'out_of_order'],
    ['delivery_attempted', 'announce'],
    ['delivery_attempted', 'out_of_order'],
    ['delivery_attempted', 'announce'],
    ['delivered', 'announce'],
    ['delivery_attempted', 'out_of_order'],
  ]);
  // A next round older than the failed attempt is late.
  expect(replay([['out_for_delivery', 2], ['delivery_attempted', 3], ['out_for_delivery', 1]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'out_of_order']);
  // The first parcel of a partial shipment can miss its customer too.
  expect(replay([['partially_shipped', 1], ['delivery_attempted', 2], ['partially_shipped', 3]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'announce']);
});

test('a missed delivery can end at a pickup point, and picking up ends the order like a delivery', () => {
  expect(replay([['shipped', 1], ['delivery_attempted', 2], ['ready_for_pickup', 3], ['out_for_delivery', 4], ['delayed', 5], ['picked_up', 6], ['delivered', 7], ['ready_for_pickup', 8], ['delayed', 9]])).toEqual([
    ['shipped', 'announce'],
    ['delivery_attempted', 'announce'],
    ['ready_for_pickup', 'announce'],
    ['out_for_delivery', 'out_of_order'],
    ['delayed', 'announce'],
    ['picked_up', 'announce'],
    // Delivered and picked up are alternatives: whichever came first ended the order.
    ['delivered', 'out_of_order'],
    ['ready_for_pickup', 'out_of_order'],
    ['delayed', 'out_of_order'],
  ]);
  // Click and collect: straight from packed to the pickup point.
  expect(replay([['confirmed', 1], ['packed', 2], ['ready_for_pickup', 3], ['ready_for_pickup', 4], ['picked_up', 5]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'announce', 'out_of_order', 'announce']);
  expect(TERMINAL_STATUSES.has('picked_up')).toBe(true);
});

test('after delivery or pickup only the return, its receipt and the refund move on, in that order and once each', () => {
  for (const handover of ['delivered', 'picked_up'] as const) {
    expect(
      replay([
        [handover, 1],
        ['shipped', 2],
        ['cancelled', 3],
        ['return_received', 4],
        ['returned', 5],
        ['delayed', 6],
        ['refunded', 7],
        ['returned', 8],
        ['return_received', 9],
      ]).map(([, d]) => d),
    ).toEqual(['announce', 'out_of_order', 'out_of_order', 'announce', 'out_of_order', 'out_of_order', 'announce', 'out_of_order', 'out_of_order']);
    expect(replay([[handover, 1], ['returned', 2], ['returned', 3], ['return_received', 4], ['return_received', 5], ['refunded', 6], ['refunded', 7]])).toEqual([
      [handover, 'announce'],
      ['returned', 'announce'],
      ['returned', 'out_of_order'],
      ['return_received', 'announce'],
      ['return_received', 'out_of_order'],
      ['refunded', 'announce'],
      ['refunded', 'out_of_order'],
    ]);
  }
  // A refund without a return (a goodwill refund) is announced too.
  expect(replay([['delivered', 1], ['refunded', 2], ['returned', 3]]).map(([, d]) => d)).toEqual(['announce', 'announce', 'out_of_order']);
});

test('a return before delivery or pickup is not announced', () => {
  expect(replay([['returned', 1], ['return_received', 2], ['confirmed', 3], ['shipped', 4], ['returned', 5], ['return_received', 6]]).map(([, d]) => d)).toEqual([
    'out_of_order',
    'out_of_order',
    'announce',
    'announce',
    'out_of_order',
    'out_of_order',
  ]);
});

test('after a cancellation only a refund is announced, whatever new status follows', () => {
  const after = (ORDER_STATUSES.filter((s) => s !== 'refunded') as OrderStatus[]).map((status, i) => [status, i + 3] as [OrderStatus, number]);
  const outcomes = replay([['confirmed', 1], ['cancelled', 2], ...after, ['refunded', 30], ['refunded', 31]]);
  expect(outcomes.slice(0, 2).map(([, d]) => d)).toEqual(['announce', 'announce']);
  expect(outcomes.slice(2, -2).filter(([, d]) => d === 'announce')).toEqual([]);
  expect(outcomes.slice(-2).map(([, d]) => d)).toEqual(['announce', 'out_of_order']);
});

test('critical statuses are the ones that must reach the customer fast', () => {
  const critical = ORDER_STATUSES.filter((s) => notificationKindFor(s).priority === 'critical');
  expect(critical).toEqual(['payment_failed', 'backordered', 'partially_shipped', 'shipped', 'out_for_delivery', 'delivery_attempted', 'delayed', 'cancelled']);
  expect(ORDER_STATUSES.filter((s) => notificationKindFor(s).priority === 'routine')).toEqual([
    'confirmed',
    'packed',
    'ready_for_pickup',
    'delivered',
    'picked_up',
    'returned',
    'return_received',
    'refunded',
  ]);
  for (const status of ORDER_STATUSES) {
    expect(notificationKindFor(status)).toEqual({ type: `order.${status}`, priority: expect.any(String), category: 'transactional', topic: 'order-updates' });
  }
  expect(notificationKindFor('shipped')).toEqual({ type: 'order.shipped', priority: 'critical', category: 'transactional', topic: 'order-updates' });
});

test('locale fallback goes from the most specific locale to the default', () => {
  expect(localeChain('fr-CA')).toEqual(['fr-CA', 'fr', 'en']);
  expect(localeChain('zh-Hant-TW', 'en')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh', 'en']);
  expect(localeChain(null)).toEqual(['en']);
  expect(localeChain('en-GB')).toEqual(['en-GB', 'en']);
});
