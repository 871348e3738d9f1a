// Segments: a rule tree over customers (their attributes, consent and preferences, order history, carts and
// watches). The tree is data: the API validates it (api/segment-schemas.ts) and store/segments.ts compiles it
// into one SQL condition over "Customer", so a segment is always evaluated set-wise in PostgreSQL.
import type { Channel } from './delivery';

/** Customer attributes a segment can match by value. `locale` also matches its regional forms ("fr" matches "fr-CA"). */
export const SEGMENT_ATTRIBUTES = ['locale', 'country', 'timeZone'] as const;
export type SegmentAttribute = (typeof SEGMENT_ATTRIBUTES)[number];

/** A range of whole numbers or amounts; either bound may be left out (both inclusive). */
export interface NumberRange {
  min?: number;
  max?: number;
}

/**
 * The customer's orders that qualify (every given filter applies), and what they must come to. With neither
 * `count` nor `totalSpent`, at least one qualifying order.
 * - `status`: the order reached one of these statuses (an accepted event with it);
 * - `currentStatus`: the order is in one of these statuses now;
 * - `withinDays`: the qualifying event happened (occurredAt) within the last N days;
 * - `count`: how many distinct qualifying orders;
 * - `totalSpent`: the sum of the qualifying orders' `data.total` (the last one an order's events gave).
 */
export interface OrdersCondition {
  status?: string[];
  currentStatus?: string[];
  withinDays?: number;
  count?: NumberRange;
  totalSpent?: NumberRange;
}

export type SegmentCondition =
  /** The attribute is one of the values. */
  | { attribute: SegmentAttribute; in: string[] }
  /** These customers (targeting by id). */
  | { customerIds: string[] }
  /** The customer was created within the last N days (or, with `olderThanDays`, before that). */
  | { created: { withinDays?: number; olderThanDays?: number } }
  /** The latest consent record covering the category (its own or its class's) on the channel is granted (or withdrawn). */
  | { consent: { channel: Channel; category: string; granted: boolean } }
  /** The customer has an explicit preference row for the channel and category saying this. */
  | { preference: { channel: Channel; category: string; optedIn: boolean } }
  /** The customer can be reached on the channel at all: an active device (push), an address (email), a number (sms). */
  | { reachable: Exclude<Channel, 'inapp'> }
  | { orders: OrdersCondition }
  /** An open cart that has not changed for at least N hours. */
  | { openCart: { olderThanHours: number } }
  /** An active watch (a restock watch not yet fired, or a price-drop watch), for a product or any. */
  | { watches: { sku?: string; kind?: 'restock' | 'price_drop' } };

export type SegmentRule = { all: SegmentRule[] } | { any: SegmentRule[] } | { not: SegmentRule } | SegmentCondition;

/** How deep a rule tree may nest, and how many conditions it may hold: a segment is a query, not a program. */
export const SEGMENT_LIMITS = { depth: 8, conditions: 100, customerIds: 10_000, values: 500 } as const;
