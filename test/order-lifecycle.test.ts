// The pure rules that decide whether an order event is announced or arrived late.
import { advance, dispositionOf, localeChain, notificationKindFor, START_POSITION, type LifecyclePosition, type OrderStatus } from '../domain';

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

test('critical statuses are the ones that must reach the customer fast', () => {
  const critical = (['confirmed', 'payment_failed', 'packed', 'shipped', 'out_for_delivery', 'delayed', 'delivered', 'cancelled', 'refunded'] as const).filter(
    (s) => notificationKindFor(s).priority === 'critical',
  );
  expect(critical).toEqual(['payment_failed', 'shipped', 'out_for_delivery', 'delayed', 'cancelled']);
  expect(notificationKindFor('shipped')).toEqual({ type: 'order.shipped', priority: 'critical', category: 'transactional', topic: 'order-updates' });
});

test('locale fallback goes from the most specific locale to the default', () => {
  expect(localeChain('fr-CA')).toEqual(['fr-CA', 'fr', 'en']);
  expect(localeChain('zh-Hant-TW', 'en')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh', 'en']);
  expect(localeChain(null)).toEqual(['en']);
  expect(localeChain('en-GB')).toEqual(['en-GB', 'en']);
});
