// The cart rules without Temporal: which orders end a cart, and what HERALD_CART_REMINDERS accepts.
import { DEFAULT_CART_REMINDERS, orderEndsCart, type CartOrder } from '../domain';
import { ConfigError, loadConfig } from '../lib/config';

const cart = { cartId: 'cart-1', customerId: 'c1', lastUpdatedAt: '2026-12-01T10:00:00Z' };
const order = (extra: Partial<CartOrder>): CartOrder => ({ eventId: 'e', orderId: 'o', customerId: 'c1', occurredAt: '2026-12-01T10:05:00Z', cartId: null, ...extra });

test("an order ends the cart it names, or its customer's cart when placed at or after the cart's last update", () => {
  expect(orderEndsCart(cart, order({}))).toBe(true);
  expect(orderEndsCart(cart, order({ occurredAt: '2026-12-01T10:00:00Z' }))).toBe(true);
  // Placed before the cart last changed: it was for something else.
  expect(orderEndsCart(cart, order({ occurredAt: '2026-12-01T09:59:59Z' }))).toBe(false);
  expect(orderEndsCart(cart, order({ customerId: 'c2' }))).toBe(false);
  // Naming a cart decides, whoever and whenever.
  expect(orderEndsCart(cart, order({ cartId: 'cart-1', customerId: 'c2', occurredAt: '2026-12-01T09:00:00Z' }))).toBe(true);
  expect(orderEndsCart(cart, order({ cartId: 'cart-2' }))).toBe(false);
});

describe('HERALD_CART_REMINDERS', () => {
  test('defaults to a push after an hour and an email after a day; a list replaces it, [] sends none', () => {
    expect(loadConfig({}).cartReminders).toEqual([...DEFAULT_CART_REMINDERS]);
    expect(loadConfig({ HERALD_CART_REMINDERS: '[{"after":"2 seconds","channel":"push"},{"after":"4 seconds","channel":"email"}]' }).cartReminders).toEqual([
      { after: '2 seconds', channel: 'push' },
      { after: '4 seconds', channel: 'email' },
    ]);
    expect(loadConfig({ HERALD_CART_REMINDERS: '[]' }).cartReminders).toEqual([]);
  });

  test.each([
    ['not JSON', 'HERALD_CART_REMINDERS'],
    ['{"after":"1 hour","channel":"push"}', 'must be a JSON list of reminders'],
    ['[{"after":"soon","channel":"push"}]', 'HERALD_CART_REMINDERS[0].after'],
    ['[{"after":"1 hour","channel":"inapp"}]', 'must be push, email or sms'],
    ['[{"after":"1 hour","channel":"push","topic":"x"}]', 'HERALD_CART_REMINDERS[0]'],
    ['[{"after":"2 hours","channel":"push"},{"after":"1 hour","channel":"email"}]', 'each reminder must come later than the one before it'],
  ])('%s stops start-up naming the variable', (raw, said) => {
    let error: unknown;
    try {
      loadConfig({ HERALD_CART_REMINDERS: raw });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('HERALD_CART_REMINDERS');
    expect((error as ConfigError).message).toContain(said);
  });
});
