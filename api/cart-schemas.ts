// Request and response schemas of the cart operations (api/routes/carts.ts), from which the OpenAPI document
// describes them too.
import { z } from 'zod';
import { CART_EVENT_TYPES, CHANNELS } from '../domain';
import { isoDateTime, pathIdSchema } from './schemas';

const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_REASON = 'must not contain the character U+0000 (NUL)';
const required = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
const text = (max: number) =>
  z
    .string(required('a string'))
    .min(1, { error: 'must not be empty', abort: true })
    .max(max, `must be at most ${max} characters`)
    .regex(NO_NUL, NO_NUL_REASON);
const id = () => pathIdSchema;
const httpUrl = (what: string) =>
  z
    .string(required(`an http(s) URL (${what})`))
    .max(2000, 'must be at most 2000 characters')
    .regex(/^https?:\/\/[^\s\u0000]+$/, `must be an http(s) URL (${what})`);
const AMOUNT_REASON = 'must be an amount in major units, such as 12.50 (a number or a decimal string, 0 or more)';
/** Amounts in major units: a JSON number or a decimal string, kept as the decimal text. */
const amount = () =>
  z
    .union([z.number(), z.string()], required(AMOUNT_REASON))
    .transform((v) => String(v))
    .refine((v) => /^\d{1,10}(\.\d{1,4})?$/.test(v), AMOUNT_REASON)
    .meta({ description: 'Major units, such as `12.50`.' });

export const cartItemSchema = z.object({
  sku: text(100).meta({ description: "The shop's product or variant id." }),
  name: text(300).meta({ description: 'The product name as the reminder shows it.' }),
  quantity: z.number(required('a whole number, 1 or more')).int('must be a whole number, 1 or more').min(1, 'must be a whole number, 1 or more'),
  unitPrice: amount(),
  imageUrl: httpUrl('the product picture').optional(),
  url: httpUrl('the product page').optional(),
});

export const cartEventSchema = z.object({
  eventId: id().meta({ description: "The shop's id of this cart event, unique across cart events: the same eventId again is a duplicate." }),
  cartId: id().meta({ description: "The shop's cart id. Each cart has one workflow, `cart:<cartId>`." }),
  customerId: id().meta({ description: 'The customer whose cart it is: the profile of `PUT /v1/customers/{customerId}`.' }),
  type: z.enum(CART_EVENT_TYPES, { error: `must be one of ${CART_EVENT_TYPES.join(', ')}` }).meta({
    description: '`updated` starts the reminder sequence over; `checked_out` and `emptied` end it.',
  }),
  occurredAt: isoDateTime().meta({ description: 'When the cart changed at the shop, with its time zone. An event older than the last update changes nothing.' }),
  items: z.array(cartItemSchema, required('a list of items')).max(200, 'must hold at most 200 items').meta({ description: 'The cart lines as they are now.' }),
  currency: z
    .string(required('an ISO 4217 code such as EUR'))
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
    .meta({ description: 'The currency of the amounts.' }),
  total: amount(),
  recoveryUrl: httpUrl('where the customer picks the cart up again').optional(),
});
export type CartEventInput = z.output<typeof cartEventSchema>;

export const cartPath = z.object({ cartId: id() });

export const acceptedCartEventResponse = z.strictObject({
  eventId: z.string().meta({ description: "The event's id, as posted." }),
  workflowId: z.string().meta({ description: 'The cart workflow, `cart:<cartId>`.' }),
  duplicate: z.boolean().meta({ description: 'True when this eventId was accepted before; nothing changes.' }),
});

const cartItemResponse = z.strictObject({
  sku: z.string(),
  name: z.string(),
  quantity: z.number(),
  unitPrice: z.string(),
  imageUrl: z.string().optional(),
  url: z.string().optional(),
});

const reminderResponse = z.strictObject({
  notificationId: z.string(),
  step: z.number().meta({ description: 'Its position in the sequence (1 is the first reminder).' }),
  channel: z.enum(CHANNELS),
  cartEventId: z.string().nullable().meta({ description: 'The update whose sequence it belongs to.' }),
  /** pending: due, not yet decided; held: waiting for the customer's quiet hours to end. */
  state: z.enum(['pending', 'held', 'sent', 'delivered', 'opened', 'clicked', 'failed', 'suppressed']).meta({
    description: '`pending`: due at `dueAt`, not yet decided; `held`: waiting until `heldUntil` (quiet hours); then what became of it.',
  }),
  reason: z.string().nullable().meta({ description: 'Why it was suppressed or failed.' }),
  dueAt: z.string().nullable().meta({ description: 'When a pending reminder goes (from the workflow).' }),
  heldUntil: z.string().nullable(),
  createdAt: z.string().nullable(),
  sentAt: z.string().nullable(),
});

export const cartResponse = z.strictObject({
  cartId: z.string(),
  customerId: z.string(),
  status: z.enum(['open', 'checked_out', 'emptied', 'ordered', 'abandoned']),
  items: z.array(cartItemResponse),
  currency: z.string(),
  total: z.string(),
  recoveryUrl: z.string().nullable(),
  lastUpdatedAt: z.string(),
  closedAt: z.string().nullable(),
  converted: z.boolean().meta({ description: 'True when an order followed a reminder that had gone: the reminders won the cart back.' }),
  convertedAt: z.string().nullable(),
  convertedOrderId: z.string().nullable(),
  events: z.array(
    z.strictObject({
      eventId: z.string(),
      type: z.enum(CART_EVENT_TYPES),
      occurredAt: z.string(),
      receivedAt: z.string(),
      total: z.string(),
      itemCount: z.number(),
    }),
  ),
  reminders: z.array(reminderResponse),
  workflowId: z.string(),
});
