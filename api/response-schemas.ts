// Response schemas: what every route answers, as zod schemas. The OpenAPI document (api/openapi.ts) is
// generated from these, and the routes' view functions return `z.output<...>` of them, so a view that
// gains, loses or retypes a field no longer compiles until its schema (and so the document) follows.
//
// Times are codecs: on the wire an ISO-8601 string (what the document shows, `io: 'input'`), in the
// views a Date (what Prisma returns and JSON.stringify turns into that string).
import { z } from 'zod';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { CATEGORIES, CATEGORY_CLASSES, CHANNELS, CRITICAL_STATUSES, HOLD_LABELS, ORDER_STATUSES, PLATFORMS, PREFERENCE_CATEGORIES, WATCH_KINDS } from '../domain';
import { RECEIPT_TYPES, type OrderState } from '../workflows/definitions';
import { SCOPES } from './auth';
import { STATS_BUCKETS, STATS_GROUP_BY } from './schemas';
import type { IntakeBacklog } from './intake';
import type { StatsResult } from './stats';
import { QUARANTINE_STATES } from './quarantine';
import { REJECTION_REASONS } from './sources/rejections';

export const dateTime = z.codec(z.iso.datetime(), z.date(), {
  decode: (iso) => new Date(iso),
  encode: (date) => date.toISOString(),
});
export const nullableDateTime = dateTime.nullable();
const orderStatus = z.enum(ORDER_STATUSES);

// ---------------------------------------------------------------------------------------------- errors

export const fieldErrorResponse = z.strictObject({
  field: z.string().meta({ description: "The offending field: a dotted path into the body, a parameter's name, or `(body)`." }),
  reason: z.string().meta({ description: 'Why it is refused, in words.' }),
});

export const errorResponse = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({
        description:
          'Machine-readable: validation_failed, invalid_json, payload_too_large, bad_request, unauthenticated, forbidden, not_found, ' +
          'method_not_allowed, event_id_conflict, key_in_use, workflow_unavailable, unavailable, unsupported_media_type, invalid_signature, ' +
          'not_configured, consent_required, internal.',
      }),
      message: z.string().meta({ description: 'What went wrong, in words; names each bad field for a 400.' }),
      fields: z.array(fieldErrorResponse).optional().meta({ description: 'Every bad field or parameter, with why (400), or the rows a 409 is about.' }),
    }),
  })
  .meta({ description: 'The one error shape of every endpoint.' });

/** POST /v1/order-events 400: the error, plus the id under which the rejected payload was kept. */
export const orderEventErrorResponse = z
  .strictObject({
    error: errorResponse.shape.error,
    rejectedEventId: z.uuid().optional().meta({ description: 'Present when the body was JSON but not a valid event: the payload is kept under this id.' }),
  })
  .meta({ description: 'The error shape, with the rejected event id when the payload was kept.' });

// ------------------------------------------------------------------------------------------ order events

export const acceptedEventResponse = z.strictObject({
  eventId: z.string().meta({ description: "The event's id, as posted." }),
  workflowId: z.string().meta({ description: 'The order workflow, `order:<orderId>`.' }),
  duplicate: z.boolean().meta({ description: 'True when this eventId was accepted before; nothing is sent again.' }),
});

// -------------------------------------------------------------------------------- customers and devices

export const customerResponse = z.strictObject({
  customerId: z.string().meta({ description: "The OMS's customer id." }),
  name: z.string().nullable().meta({ description: 'The name templates greet the customer by.' }),
  email: z.string().nullable().meta({ description: 'Where email notifications go; null: none are sent.' }),
  phone: z.string().nullable().meta({ description: 'Where SMS notifications go (E.164); null: none are sent.' }),
  locale: z.string().meta({ description: 'The language of the messages (BCP 47), canonicalised (`fr-ca` is `fr-CA`).' }),
  timeZone: z.string().meta({ description: 'The IANA zone dates are shown in and quiet hours count in.' }),
  country: z.string().nullable().meta({ description: 'ISO 3166-1 alpha-2 (upper-case); null: not given.' }),
  quietHours: z.strictObject({ start: z.string(), end: z.string() }).nullable().meta({ description: 'Local times when routine notifications wait; null: none.' }),
  preferences: z
    .array(z.strictObject({ channel: z.enum(CHANNELS), category: z.enum(PREFERENCE_CATEGORIES), optedIn: z.boolean() }))
    .meta({ description: 'The preference rows as set; GET /v1/customers/{customerId}/preferences shows them with the defaults.' }),
  createdAt: dateTime.meta({ description: 'When the profile was created (by this call, or by a device registered before it).' }),
  updatedAt: dateTime.meta({ description: 'When the profile last changed.' }),
});
export type CustomerView = z.output<typeof customerResponse>;

export const deviceResponse = z.strictObject({
  deviceId: z.string().meta({ description: 'The id the app gave the installation.' }),
  customerId: z.string().meta({ description: 'The customer the device belongs to.' }),
  platform: z.enum(PLATFORMS).meta({ description: '`ios` (APNs), `android` (FCM) or `web` (Web Push).' }),
  app: z.string().nullable().meta({ description: 'The app, such as its bundle id.' }),
  locale: z.string().nullable().meta({ description: "The language pushes to this device are written in; null: the customer's." }),
  timeZone: z.string().nullable().meta({ description: "The zone this device's quiet hours count in; null: the customer's." }),
  active: z.boolean().meta({ description: 'Whether pushes go to it: false once the provider says the token is dead, or after DELETE.' }),
  lastSeenAt: dateTime.meta({ description: 'When it last registered.' }),
  invalidatedAt: nullableDateTime.meta({ description: 'When it stopped receiving pushes; null while active.' }),
  invalidatedReason: z.string().nullable().meta({ description: "Why the device stopped receiving pushes, e.g. 'apns: Unregistered'." }),
});
export type DeviceView = z.output<typeof deviceResponse>;

export const deviceListResponse = z.strictObject({ items: z.array(deviceResponse) });

// ---------------------------------------------------------------------------- preferences and consent

export const consentResponse = z.strictObject({
  consentId: z.string().meta({ description: "The record's id." }),
  customerId: z.string().meta({ description: 'The customer it is about.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel it covers.' }),
  category: z.enum(PREFERENCE_CATEGORIES).meta({ description: '`marketing` (every marketing topic) or one topic.' }),
  granted: z.boolean().meta({ description: 'True: consent given; false: withdrawn.' }),
  source: z.string().meta({ description: 'Where it was given or withdrawn, such as `checkout-form` or `sms-keyword:STOP`; `complaint` for a spam complaint.' }),
  recordedAt: dateTime.meta({ description: 'When the customer gave or withdrew it, as the client said.' }),
  receivedAt: dateTime.meta({ description: 'When Herald recorded it. The latest record covering a category decides.' }),
});
export type ConsentView = z.output<typeof consentResponse>;

export const consentListResponse = z.strictObject({
  items: z.array(consentResponse).meta({ description: 'The whole history, latest received first.' }),
});

export const effectivePreferenceResponse = z.strictObject({
  channel: z.enum(CHANNELS).meta({ description: 'The channel.' }),
  category: z.enum(PREFERENCE_CATEGORIES).meta({ description: 'The category: a class or one of its topics.' }),
  class: z.enum(CATEGORY_CLASSES).meta({ description: 'The class of the category.' }),
  optedIn: z.boolean().meta({ description: "The customer's choice for this channel and category (from `source`)." }),
  source: z.enum(['category', 'class', 'default']).meta({
    description: "Where optedIn came from: the customer's row for this category, their row for its class, or the default.",
  }),
  default: z.enum(['opted-in', 'opted-out', 'with-consent']).meta({
    description: 'The value without a row; `with-consent`: opted out until the customer consents.',
  }),
  consent: z
    .strictObject({
      rule: z.enum(['record', 'record-or-opt-in', 'none']).meta({
        description:
          'What counts as consent on this channel: `record` a granted consent record (SMS); `record-or-opt-in` one, or with no record at ' +
          'all an opt-in row (email, push); `none` nothing is needed (in-app). A withdrawal record always stops marketing.',
      }),
      status: z.enum(['granted', 'withdrawn', 'none']).meta({ description: 'The latest record covering the category (its own or its class).' }),
      satisfied: z.boolean().meta({ description: 'Whether what counts as consent on this channel is there.' }),
      record: z
        .strictObject({
          category: z.enum(PREFERENCE_CATEGORIES),
          granted: z.boolean(),
          source: z.string(),
          recordedAt: z.iso.datetime(),
          receivedAt: z.iso.datetime(),
        })
        .nullable()
        .meta({ description: 'The record that decides (its category may be the class); null when none.' }),
    })
    .nullable()
    .meta({ description: 'Marketing only; null for transactional categories, which need no consent.' }),
  permitted: z.boolean().meta({ description: 'Whether a routine notification of this category may go on this channel.' }),
  reason: z.enum(['preference', 'no_consent']).nullable().meta({ description: 'Why a routine notification may not go: `preference` (opted out) or `no_consent`; null when permitted.' }),
});

export const effectivePreferencesResponse = z.strictObject({
  customerId: z.string().meta({ description: "The OMS's customer id." }),
  items: z.array(effectivePreferenceResponse).meta({ description: 'Every channel and category: rows, then class rows, then defaults.' }),
});
export type EffectivePreferencesView = z.output<typeof effectivePreferencesResponse>;

// ------------------------------------------------------------------------------------ delivery history

export const attemptResponse = z.strictObject({
  attemptId: z.string().meta({ description: "The attempt's id." }),
  deviceId: z.string().nullable().meta({ description: 'The device a push attempt went to; null for email and SMS.' }),
  platform: z.enum(PLATFORMS).nullable().meta({ description: 'The platform of that device; null for email and SMS.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel of the attempt.' }),
  address: z.string().nullable().meta({ description: 'The email address or phone number of an email or SMS attempt.' }),
  provider: z.string().meta({ description: "Who was asked to deliver it: `apns`, `fcm`, `webpush`, `smtp` or `twilio` (a sandbox's name when no provider is configured)." }),
  status: z.enum(['sending', 'sent', 'failed']).meta({ description: '`sending` (under way), `sent` (the provider took it) or `failed`.' }),
  attemptNumber: z.int().meta({ description: '1 for the first try; each retry counts up.' }),
  providerMessageId: z.string().nullable().meta({ description: "The provider's id of the message (apns-id, FCM message name, email Message-ID, Twilio SID): what its receipts name." }),
  errorCode: z.string().nullable().meta({ description: "The provider's error code of a failed attempt, such as `BadDeviceToken`; null otherwise." }),
  errorMessage: z.string().nullable().meta({ description: "The provider's error message of a failed attempt; null otherwise." }),
  startedAt: dateTime.meta({ description: 'When the attempt started.' }),
  finishedAt: nullableDateTime.meta({ description: 'When the provider answered; null while it is under way.' }),
});

export const notificationResponse = z.strictObject({
  notificationId: z.string().meta({ description: 'The id, `<eventId>/<channel>` for an event\'s notification: what receipts and dead letters name.' }),
  orderId: z.string().nullable().meta({ description: 'The order it is about.' }),
  customerId: z.string().meta({ description: 'The customer it is for.' }),
  eventId: z.string().nullable().meta({ description: 'The order event that caused it; null for a digest, which merges several.' }),
  type: z.string().meta({ description: 'e.g. `order.shipped`' }),
  priority: z.enum(['critical', 'routine']).meta({ description: `\`critical\` goes at once, high priority (${[...CRITICAL_STATUSES].join(', ')}); \`routine\` waits for quiet hours and may be merged into a digest.` }),
  category: z.enum(CATEGORIES).meta({ description: '`transactional` (order updates) or `marketing` (needs consent).' }),
  channel: z.enum(CHANNELS).meta({ description: '`push`, `email`, `sms` or `inapp`.' }),
  address: z.string().nullable().meta({ description: 'Where an email or SMS notification went; null for push.' }),
  status: z.enum(['queued', 'sent', 'delivered', 'opened', 'clicked', 'failed', 'suppressed']).meta({ description: '`queued` (waiting or being sent), `sent` (a provider took it), `delivered`, `opened`, `clicked` (receipts), `failed` (see failureReason) or `suppressed` (not sent on purpose: see suppressionReason).' }),
  suppressionReason: z.string().nullable().meta({ description: 'Why it was not sent, when suppressed: `out_of_order`, `unknown_customer`, `preference`, `no_device`, `no_address`, `invalid_address`, `quiet_hours`, `no_consent`, `frequency_cap`, `superseded` or `digest`; null otherwise.' }),
  suppressionLabel: z.string().nullable().meta({ description: 'What `suppressionReason` means, in words.' }),
  failureReason: z.string().nullable().meta({ description: "Why it failed, when failed: the provider's error (such as `BadDeviceToken` on every device), a hard bounce (`bounced: <reason>`) or Twilio's ErrorCode; null otherwise." }),
  failureLabel: z.string().nullable().meta({ description: 'What `failureReason` means, in words (a provider\'s own text is shown as it is).' }),
  template: z.strictObject({ id: z.string(), version: z.int().nullable(), locale: z.string().nullable() }).nullable().meta({ description: 'The template version it was rendered with (id, version, locale after the fallback chain); null when none was rendered.' }),
  holdReason: z
    .enum(['quiet_hours', 'digest'])
    .nullable()
    .meta({ description: 'Why it was held back on purpose: `quiet_hours` (the customer\'s quiet hours) or `digest` (a digest window). Kept after it went.' }),
  holdLabel: z.string().nullable().meta({ description: 'What `holdReason` means, in words.' }),
  heldUntil: nullableDateTime.meta({ description: 'When the hold ended (or ends): the end of quiet hours or of the digest window.' }),
  escalation: z
    .strictObject({
      step: z.int().min(1).meta({ description: 'The step of the channel plan: 1 for the first backup, 2 for the next.' }),
      reason: z.enum(['nothing_sent', 'all_failed', 'no_receipt', 'undelivered']).nullable(),
      label: z.string().nullable().meta({ description: 'What `reason` means, in words.' }),
    })
    .nullable()
    .meta({ description: "A backup of the order event's channel plan, and why it went; null for the plan's first channels." }),
  explanation: z.string().meta({ description: 'The whole story in one sentence: why it went, what held it, where it ended and why.' }),
  held: z
    .strictObject({ reason: z.enum(['quiet_hours', 'digest']), until: dateTime })
    .nullable()
    .meta({ description: 'Held back on purpose (quiet hours, a digest window) until this time; kept after it went.' }),
  replacedBy: z.string().nullable().meta({ description: 'The notification that went instead: a newer status, or the digest this one went in.' }),
  title: z.string().nullable().meta({ description: 'The push title, email subject or SMS label, as rendered.' }),
  body: z.string().nullable().meta({ description: 'The text as rendered.' }),
  createdAt: dateTime.meta({ description: 'When it was recorded.' }),
  sentAt: nullableDateTime.meta({ description: 'When a provider first took it; null until then.' }),
  deliveredAt: nullableDateTime.meta({ description: 'When a receipt said it was delivered (an open or a click implies it); null until then.' }),
  attempts: z.array(attemptResponse).meta({ description: 'Every delivery attempt, oldest first: one per device and try for push, one per try for email and SMS.' }),
});
export type NotificationView = z.output<typeof notificationResponse>;

export const nextCursor = z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' });

export const notificationPageResponse = z.strictObject({ items: z.array(notificationResponse), nextCursor });

// ------------------------------------------------------------------------------ receipts (api/receipts.ts)

export const receiptResponse = z.strictObject({
  receiptId: z.string().meta({ description: "The receipt's id." }),
  notificationId: z.string().meta({ description: 'The notification it is about.' }),
  type: z.enum(RECEIPT_TYPES).meta({ description: 'What it reports: `delivered`, `opened`, `clicked`, `bounced`, `complained` or `failed`.' }),
  source: z.string().meta({ description: '`app`, `email-tracking`, `email-webhook`, `twilio` or `sandbox` (a sandbox provider standing in for the app or provider, HERALD_SANDBOX_RECEIPTS).' }),
  occurredAt: dateTime.meta({ description: 'When it happened, as reported.' }),
  receivedAt: dateTime.meta({ description: 'When Herald recorded it.' }),
  detail: z.unknown().meta({ description: "What the report said besides its type: the provider's message id, bounce type and reason, Twilio's ErrorCode..." }),
  dedupeKey: z.string().nullable().meta({ description: 'The client or provider event id it was recorded under; a second report with it records nothing.' }),
});
export type ReceiptView = z.output<typeof receiptResponse>;

export const receiptAcceptedResponse = z.strictObject({
  receipt: receiptResponse,
  duplicate: z.boolean().meta({ description: 'True when this report was recorded before (same eventId or provider id): nothing changed.' }),
  notificationStatus: notificationResponse.shape.status.meta({ description: "The notification's status after this receipt." }),
  signalled: z.boolean().meta({
    description: "Whether the order's workflow took the receipt. False for a duplicate, an order whose workflow has finished, or when Temporal " +
      'could not be reached; the receipt is recorded either way.',
  }),
});
export type ReceiptAcceptedView = z.output<typeof receiptAcceptedResponse>;

/** POST /v1/webhooks/sendgrid: what became of the batch's events. */
const eventCount = (description: string) => z.int().min(0).meta({ description });
export const sendGridWebhookResponse = z.strictObject({
  received: eventCount('Events in the batch.'),
  recorded: eventCount('Recorded as receipts.'),
  duplicates: eventCount('Recorded before (the same sg_event_id): nothing new.'),
  conflicts: eventCount('An sg_event_id recorded before as another kind of receipt: not recorded again.'),
  unmatched: eventCount('For no email Herald sent (an unknown or missing smtp-id).'),
  ignored: eventCount('Not receipts (processed, unsubscribe, the group events) or not events at all.'),
});

/** GET /v1/notifications/:notificationId: a notification as in the history, with its receipts, oldest first. */
export const notificationDetailResponse = notificationResponse.extend({
  openedAt: nullableDateTime.meta({ description: 'When a receipt said it was opened (a click implies it); null until then.' }),
  clickedAt: nullableDateTime.meta({ description: 'When a receipt said a link in it was clicked; null until then.' }),
  receipts: z.array(receiptResponse).meta({ description: 'Every receipt recorded for it, oldest first.' }),
});
export type NotificationDetailView = z.output<typeof notificationDetailResponse>;

// ---------------------------------------------------------------------------------------------- inbox

export const inboxItemResponse = z.strictObject({
  messageId: z.string().meta({ description: "The message's id: the `id` of its stream event, and what `Last-Event-ID` takes." }),
  notificationId: z.string().nullable().meta({ description: 'The notification it came with; null when none.' }),
  orderId: z.string().nullable().meta({ description: 'The order it is about; null when none.' }),
  category: z.string().meta({ description: 'Its category, such as `transactional`.' }),
  title: z.string().meta({ description: 'The title the app shows.' }),
  body: z.string().meta({ description: 'The text the app shows.' }),
  data: z.unknown().meta({ description: 'Free-form JSON the message carries for the app.' }),
  createdAt: dateTime.meta({ description: 'When it arrived.' }),
  readAt: nullableDateTime.meta({ description: 'When it was read; null while unread.' }),
  receiptToken: z.string().nullable().meta({
    description: "What the app echoes as `receiptToken` when it reports a receipt for this message's notification; null without a notification (or without HERALD_RECEIPT_SECRET).",
  }),
});
export type InboxItemView = z.output<typeof inboxItemResponse>;

export const inboxPageResponse = z.strictObject({
  items: z.array(inboxItemResponse),
  nextCursor,
  unreadCount: z.int().min(0).meta({ description: "How many of the customer's messages are unread (all of them, not only this page)." }),
});

export const inboxReadAllResponse = z.strictObject({ updated: z.int().min(0).meta({ description: 'Messages marked read by this call.' }) });

// -------------------------------------------------------------------------------------- order state

const WORKFLOW_STATUS_NAMES = [
  'UNSPECIFIED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
  'UNKNOWN',
] as const satisfies readonly WorkflowExecutionStatusName[];

const occurredAt = z.string().meta({ description: 'ISO-8601 date-time, as the event gave it.' });
const deliveryChannel = z.enum(['push', 'email', 'sms']);

/**
 * The workflow's `orderState` query, plus its run. Open (the document allows extra fields, z.object in `io: 'input'`): the workflow owns this
 * shape; the type check below fails the build if a documented field disappears or changes type.
 */
export const orderStateResponse = z.object({
  workflowId: z.string().meta({ description: "The order's workflow, `order:<orderId>`." }),
  runId: z.string().meta({ description: 'The run that answered (a long-lived order continues as new runs).' }),
  runStatus: z.enum(WORKFLOW_STATUS_NAMES).meta({ description: "The run's Temporal status: `RUNNING` while the order may get events." }),
  orderId: z.string().meta({ description: "The OMS's order id." }),
  customerId: z.string().meta({ description: 'The customer of the order.' }),
  lastStatus: orderStatus.nullable().meta({ description: 'The status of the last event applied; null before any.' }),
  position: z
    .object({
      stage: orderStatus.nullable().meta({ description: 'The furthest status on the fulfilment path applied so far.' }),
      status: orderStatus.nullable().meta({ description: 'The last status applied, on the path or off it.' }),
      occurredAt: occurredAt.nullable().meta({ description: 'The time of the newest event applied so far.' }),
    })
    .meta({ description: 'Where the order is: an event behind it is recorded as `out_of_order` and not announced.' }),
  notificationState: z
    .enum(['idle', 'sending', 'waiting-for-events', 'waiting-quiet-hours', 'waiting-digest', 'awaiting-receipt', 'escalating', 'done'])
    .meta({ description: 'Also the NotificationState search attribute (except the millisecond-long sending).' }),
  pending: z.array(z.object({ eventId: z.string(), status: orderStatus, occurredAt })).meta({ description: 'Received and not yet processed, oldest first.' }),
  processed: z
    .array(
      z.object({
        eventId: z.string(),
        status: orderStatus,
        occurredAt,
        disposition: z.enum(['announced', 'out_of_order']).meta({ description: '`announced`: it moved the order on; `out_of_order`: it arrived behind the order\'s position, recorded only.' }),
        notificationId: z.string().meta({ description: "The event's main notification: on its plan's first channel other than in-app (`deliveries` has every channel)." }),
        notificationStatus: notificationResponse.shape.status,
        suppressionReason: z.string().optional().meta({ description: 'Why that notification was not sent, when suppressed.' }),
        sentTo: z.int().min(0).meta({ description: 'How many devices or addresses took it.' }),
        failedTo: z.int().min(0).meta({ description: 'How many refused it.' }),
        duplicate: z.boolean().optional().meta({ description: 'Already handled by an earlier run of this order: nothing was sent again.' }),
        escalation: z
          .object({
            status: z.enum(['awaiting-receipt', 'confirmed', 'superseded', 'escalated']),
            channels: z.array(deliveryChannel),
            until: z.string().optional(),
            reason: z
              .enum(['push_unavailable', 'push_failed', 'no_receipt', 'push_undelivered', 'nothing_sent', 'all_failed', 'undelivered'])
              .optional()
              .meta({ description: 'Why the backup channels went: nothing could go, all failed, no receipt in time, or reported undelivered (push_* in runs before channel plans).' }),
            results: z
              .array(
                z.object({
                  channel: deliveryChannel,
                  notificationId: z.string(),
                  outcome: z.enum(['sent', 'suppressed', 'failed', 'already_sent', 'held']),
                  detail: z.string().optional(),
                }),
              )
              .optional(),
          })
          .optional()
          .meta({ description: 'What the fallback policy did about this event.' }),
        held: z
          .object({ reason: z.enum(['quiet_hours', 'digest']), until: z.string() })
          .optional()
          .meta({ description: 'Held back on purpose until this time (quiet hours, a digest window).' }),
        replacedBy: z.string().optional().meta({ description: 'The notification that went instead: a newer status, or the digest this update went in.' }),
        deliveries: z
          .array(
            z.object({
              channel: z.enum(CHANNELS),
              notificationId: z.string(),
              step: z.int().min(0).meta({ description: '0: the plan\'s first channels; then each backup step.' }),
              status: notificationResponse.shape.status,
              reason: z.string().optional(),
              held: z.object({ reason: z.enum(['quiet_hours', 'digest']), until: z.string() }).optional(),
              replacedBy: z.string().optional(),
              sentTo: z.int().min(0).optional(),
              failedTo: z.int().min(0).optional(),
            }),
          )
          .optional()
          .meta({ description: "Every channel of the event's channel plan and what became of it." }),
      }),
    )
    .meta({ description: 'Newest last; bounded (the delivery history has everything).' }),
  completesAt: z.string().nullable().meta({ description: 'When the run completes if no further event arrives (after a terminal status).' }),
  waitingFor: z
    .object({
      kind: z.literal('receipt'),
      notificationId: z.string(),
      eventId: z.string(),
      until: z.string().meta({ description: 'When the fallback channels go if no receipt arrives.' }),
      then: z.array(deliveryChannel),
    })
    .nullable()
    .meta({ description: 'A pending escalation: the receipt it waits for, until when, and what follows.' }),
  held: z
    .array(
      z.object({
        channel: deliveryChannel.optional(),
        reason: z.enum(['quiet_hours', 'digest']),
        label: z.string().meta({ description: 'What `reason` means, in words.' }),
        until: z.string(),
        notificationIds: z.array(z.string()),
        eventIds: z.array(z.string()),
        devices: z.int().min(0),
      }),
    )
    .meta({ description: 'Notifications held back (quiet hours, a digest window) and when they go.' }),
});
export type OrderStateView = z.output<typeof orderStateResponse>;
/** The route's view; also a compile-time guard that the query's type fits the documented schema. */
export const orderStateView = (state: OrderState & { workflowId: string; runId: string; runStatus: WorkflowExecutionStatusName }): OrderStateView => ({
  ...state,
  held: state.held.map((h) => ({ ...h, label: HOLD_LABELS[h.reason] })),
});

// ------------------------------------------------------------------------------------------- API keys

const scopes = z.array(z.enum(SCOPES)).meta({ description: 'What the key may do: `ingest`, `read`, `tokens` (mint customer tokens) or `admin` (everything).' });

export const apiKeyCreatedResponse = z.strictObject({
  id: z.string().meta({ description: "The key's id, to revoke it with." }),
  name: z.string().meta({ description: 'Who or what holds it.' }),
  scopes,
  key: z.string().meta({ description: 'The key itself: shown this once, only its hash is stored.' }),
});
export type ApiKeyCreatedView = z.output<typeof apiKeyCreatedResponse>;

export const apiKeyResponse = z.strictObject({
  id: z.string().meta({ description: "The key's id, to revoke it with." }),
  name: z.string().meta({ description: 'Who or what holds it.' }),
  prefix: z.string().meta({ description: 'The first 8 characters of the key, to recognise it.' }),
  scopes,
  createdAt: dateTime.meta({ description: 'When it was created.' }),
  revokedAt: nullableDateTime.meta({ description: 'When it was revoked; null while it works.' }),
});
export type ApiKeyView = z.output<typeof apiKeyResponse>;

export const customerTokenResponse = z.strictObject({
  token: z.string().meta({ description: 'The customer token, `hct_<keyId>.<payload>.<signature>`: for the app, as `Authorization: Bearer <token>`.' }),
  customerId: z.string().meta({ description: 'The one customer it acts for.' }),
  keyId: z.string().meta({ description: 'The id of the HERALD_CUSTOMER_TOKEN_SECRET key that signed it.' }),
  expiresAt: dateTime.meta({ description: 'When it stops working (to the second); mint another before then.' }),
});
export type CustomerTokenView = z.output<typeof customerTokenResponse>;

export const apiKeyListResponse = z.strictObject({ items: z.array(apiKeyResponse) });

// -------------------------------------------------------------------------------------------- health

export const healthResponse = z.strictObject({ status: z.literal('ok').meta({ description: 'Always `ok`: the process answers.' }) });

const check = z.strictObject({ ok: z.boolean(), error: z.string().optional() });
export const readinessResponse = z.strictObject({
  status: z.enum(['ready', 'not_ready']).meta({ description: '`ready` when PostgreSQL and Temporal both answer.' }),
  checks: z.strictObject({ database: check, temporal: check }).meta({ description: 'Each dependency: whether it answered, and if not, a generic reason and the error id of the log line that has the cause.' }),
});
export type ReadinessView = z.output<typeof readinessResponse>;

// ------------------------------------------------------------------------------ statistics (api/stats.ts)

const percentilesResponse = z.object({ count: z.int().min(0), p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() });
const countsShape = {
  total: z.int().min(0),
  sent: z.int().min(0).meta({ description: 'Accepted by a provider (sent, or a later receipt status). Acceptance is not delivery.' }),
  delivered: z.int().min(0).meta({ description: 'Delivered (receipt): of the sent ones, those a delivery receipt confirmed.' }),
  failed: z.int().min(0),
  suppressed: z.int().min(0),
  pending: z.int().min(0),
  acceptedRate: z.number().nullable().meta({ description: 'Accepted by provider: sent / (sent + failed); null when both are 0.' }),
  receiptRate: z.number().nullable().meta({ description: 'Delivered (receipt): delivered / sent; null when sent is 0.' }),
  deliveryRate: z.number().nullable().meta({ description: 'Deprecated: acceptedRate under its old name (sent / (sent + failed)); it says nothing about delivery.', deprecated: true }),
  failureRate: z.number().nullable(),
  opened: z.int().min(0).meta({ description: 'Of the sent ones, those with an `opened` or `clicked` receipt (email pixel or click, app receipt, provider event).' }),
  clicked: z.int().min(0).meta({ description: 'Of the sent ones, those with a `clicked` receipt.' }),
  bounced: z.int().min(0).meta({ description: 'Those with a hard bounce (a `bounced` receipt not marked soft).' }),
  complained: z.int().min(0).meta({ description: 'Those with a spam complaint (`complained` receipt).' }),
  openRate: z.number().nullable().meta({ description: 'opened / sent; null when sent is 0.' }),
  clickRate: z.number().nullable().meta({ description: 'clicked / sent; null when sent is 0.' }),
  bounceRate: z.number().nullable().meta({ description: 'bounced / (sent + bounced): a hard bounce fails its notification; null when both are 0.' }),
  complaintRate: z.number().nullable().meta({ description: 'complained / (sent + bounced); null when both are 0. Unsubscribes are not a receipt type and are not counted.' }),
  latencyMs: z
    .object({ accepted: percentilesResponse, delivered: percentilesResponse })
    .meta({ description: 'From when the notification was free to go (heldUntil of a hold; a backup’s createdAt; else the event’s receivedAt) to acceptance / the receipt.' }),
};
const reasonCount = z.object({ reason: z.string(), label: z.string().meta({ description: 'The reason in words (domain/reasons.ts); free provider text as it is.' }), count: z.int().min(0) });
const groupStatsShape = {
  ...countsShape,
  suppressedByReason: z.record(z.string(), z.int().min(0)),
  suppressionReasons: z.array(reasonCount).meta({ description: 'suppressedByReason as a list, largest first, with labels.' }),
  failuresByReason: z.array(reasonCount),
  series: z.array(z.object({ bucketStart: z.string(), ...countsShape })).optional().meta({ description: 'One point per bucket, when `bucket` is given.' }),
};
const deliberateWait = z.object({
  kind: z.enum(['held', 'backup']),
  reason: z.string().meta({ description: 'held: quiet_hours or digest; backup: the escalation reason.' }),
  label: z.string(),
  count: z.int().min(0),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  max: z.number().nullable(),
});

const templateEngagement = z.object({
  template: z.object({
    id: z.string(),
    key: z.string().nullable(),
    channel: z.string().nullable(),
    locale: z.string().nullable(),
    version: z.int().nullable(),
  }),
  sent: z.int().min(0),
  opened: z.int().min(0),
  clicked: z.int().min(0),
  openRate: z.number().nullable(),
  clickRate: z.number().nullable(),
});

/** GET /v1/stats. Open objects: api/stats.ts owns the shape; statsView below fails the build if a documented field drifts. */
export const statsResponse = z.object({
  from: z.string().meta({ description: 'The start of the window (inclusive).' }),
  to: z.string().meta({ description: 'The end of the window (exclusive).' }),
  groupBy: z.array(z.enum(STATS_GROUP_BY)).meta({ description: 'What the groups are keyed by.' }),
  bucket: z.enum(STATS_BUCKETS.filter((b) => b !== 'auto') as ['minute', 'hour', 'day']).nullable().meta({ description: 'The bucket of the series: the one asked for, or the one `auto` chose.' }),
  bucketAuto: z.boolean(),
  seriesFrom: z.string().nullable().meta({ description: 'The first bucket of the series.' }),
  totals: z.object(groupStatsShape).meta({ description: 'Every notification of the window.' }),
  groups: z.array(z.object({ key: z.record(z.string(), z.unknown()), ...groupStatsShape })).meta({ description: 'One per value of the groupBy fields, with its key.' }),
  attemptErrors: z.array(reasonCount).meta({ description: 'The 10 most frequent attempt errors, as `<provider>: <errorCode>`.' }),
  deliberateWaits: z.array(deliberateWait).meta({ description: 'Waits made on purpose, left out of the latency, in milliseconds: time held by reason, and the wait before each kind of backup.' }),
  topTemplatesByClickRate: z
    .array(templateEngagement)
    .meta({ description: 'The 10 templates (version and locale) with the highest click rate among those with a sent notification in the window; then by clicks, then sent.' }),
  intake: z
    .object({
      unsignalled: z.number().int().meta({ description: 'Order events stored but not yet signalled to their workflows (all API instances): the intake backlog.' }),
      oldestUnsignalledSeconds: z.number().nullable().meta({ description: 'How long the oldest of those has waited, in seconds; null when there is none.' }),
      signalPool: z
        .object({
          queued: z.number().int().meta({ description: 'Stored events waiting in the pool for a signal slot.' }),
          inFlight: z.number().int().meta({ description: 'Events being signalled now.' }),
          concurrency: z.number().int().meta({ description: 'Signals at once (`HERALD_SIGNAL_CONCURRENCY`).' }),
          queueMax: z.number().int().meta({ description: 'Events the pool holds at most (`HERALD_SIGNAL_QUEUE_MAX`); beyond, the relay signals them.' }),
        })
        .meta({ description: "The signalling pool of the API instance that answered." }),
    })
    .meta({ description: 'Intake now, not over the window: what is stored and still owed to Temporal.' }),
});
export const statsView = (result: StatsResult & { intake: IntakeBacklog }): z.output<typeof statsResponse> => result;

// ----------------------------------------------------------------------- dead letters (api/routes/dead-letters.ts)

export const deadLetterResponse = z.object({
  deadLetterId: z.string().meta({ description: "The dead letter's id, to replay it with." }),
  notificationId: z.string().meta({ description: 'The notification that failed.' }),
  orderId: z.string().nullable().meta({ description: 'The order it was about.' }),
  customerId: z.string().meta({ description: 'The customer it was for.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel it failed on.' }),
  provider: z.string().meta({ description: 'The provider that refused it.' }),
  target: z.object({
    deviceId: z.string().nullable(),
    platform: z.string().nullable(),
    app: z.string().nullable(),
    tokenPrefix: z.string().nullable(),
    address: z.string().nullable().meta({ description: 'The email address or phone number of an email or SMS.' }),
  }).meta({ description: 'Where it was going: the device (its token shortened to a prefix) or the address.' }),
  message: z.unknown().meta({ description: 'The rendered message as it was sent.' }),
  errors: z.unknown().meta({ description: "Every attempt's error, oldest first." }),
  lastError: z.string().meta({ description: 'The error that ended it.' }),
  createdAt: dateTime.meta({ description: 'When it was given up on.' }),
  replayCount: z.int().min(0).meta({ description: 'How many times it was replayed.' }),
  replayedAt: nullableDateTime.meta({ description: 'When it was last replayed; null: never.' }),
  replayStatus: z.string().nullable().meta({ description: '`replaying` while a replay runs, then how it ended: `sent` or `failed`; null: never replayed.' }),
});

export const deadLetterPageResponse = z.object({ items: z.array(deadLetterResponse), nextCursor });

export const replayAcceptedResponse = z.object({
  deadLetterId: z.string().meta({ description: 'The dead letter replayed.' }),
  workflowId: z.string().meta({ description: "The replay's workflow, `dead-letter-replay:<id>`." }),
});

// ---------------------------------------------------------------------------- templates (api/routes/templates.ts)

const templateState = z.enum(['draft', 'published', 'archived']).meta({
  description: '`draft` (editable, never rendered for customers), `published` (the one in use; one per key, channel and locale) or `archived` (published before).',
});

export const templateVersionResponse = z.strictObject({
  templateId: z.string().meta({ description: 'The id notifications record as their template.' }),
  key: z.string().meta({ description: 'The template key, such as `order.shipped`.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel it renders for.' }),
  locale: z.string().meta({ description: "Its locale (exactly; a reader's locale falls back to it)." }),
  version: z.int().min(1).meta({ description: 'Its number, counted per key, channel and locale.' }),
  state: templateState,
  subject: z.string().meta({ description: 'Liquid: the push title, email subject or SMS label.' }),
  body: z.string().meta({ description: 'Liquid: the push text, plain-text email or SMS.' }),
  bodyHtml: z.string().nullable().meta({ description: 'Liquid: the HTML email part; null for other channels or none.' }),
  tracking: z
    .boolean()
    .nullable()
    .meta({ description: 'Email: `false` when this version goes without the open pixel and click redirects; null follows HERALD_EMAIL_TRACKING (always null on other channels).' }),
  imageUrl: z.string().nullable().meta({ description: 'Liquid, push: the image URL; null when none.' }),
  deepLink: z.string().nullable().meta({ description: 'Liquid, push: where a tap leads; null when none.' }),
  actions: z
    .array(z.strictObject({ id: z.string(), title: z.string(), deepLink: z.string().nullable() }))
    .meta({ description: 'Push: the buttons (title and deepLink Liquid); empty when none.' }),
  actionCategory: z.string().nullable().meta({ description: 'Push: the APNs category / Android click_action; null when none.' }),
  createdAt: dateTime.meta({ description: 'When the version was created.' }),
});
export type TemplateVersionView = z.output<typeof templateVersionResponse>;

export const templateSummaryResponse = z.strictObject({
  key: z.string().meta({ description: 'The template key.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel.' }),
  locale: z.string().meta({ description: 'The locale.' }),
  publishedVersion: z.int().nullable().meta({ description: 'The version in use; null when none is published.' }),
  latestVersion: z.int().meta({ description: 'The newest version (a draft, maybe).' }),
  versionCount: z.int().min(1).meta({ description: 'How many versions there are.' }),
});

export const templateListResponse = z.strictObject({ items: z.array(templateSummaryResponse) });

export const templateKeyResponse = z.strictObject({
  key: z.string().meta({ description: 'The template key, such as `order.shipped`.' }),
  variables: z
    .array(z.strictObject({ name: z.string(), description: z.string() }))
    .meta({ description: 'What templates of this key may use (strict variables).' }),
  templates: z
    .array(
      z.strictObject({
        channel: z.enum(CHANNELS),
        locale: z.string(),
        publishedVersion: z.int().nullable(),
        latestVersion: z.int(),
        versions: z.array(templateVersionResponse).meta({ description: 'Newest first.' }),
      }),
    )
    .meta({ description: 'One entry per channel and locale.' }),
});
export type TemplateKeyView = z.output<typeof templateKeyResponse>;

export const templatePublishedResponse = z.strictObject({
  published: templateVersionResponse,
  archived: templateVersionResponse.nullable().meta({ description: 'The version this one replaced; null when none was published or it was already in use.' }),
});
export type TemplatePublishedView = z.output<typeof templatePublishedResponse>;

export const templatePreviewResponse = z.strictObject({
  templateId: z.string().meta({ description: 'The version that rendered.' }),
  key: z.string().meta({ description: 'The template key.' }),
  channel: z.enum(CHANNELS).meta({ description: 'The channel.' }),
  locale: z.string().meta({ description: "The template's locale (after the fallback chain)." }),
  version: z.int().meta({ description: 'Its version number.' }),
  state: templateState,
  subject: z.string().meta({ description: 'The rendered push title, email subject or SMS label.' }),
  body: z.string().meta({ description: 'The rendered text.' }),
  html: z.string().nullable().meta({ description: 'The HTML part; null when the template has none.' }),
  rich: z
    .strictObject({
      imageUrl: z.string().optional(),
      deepLink: z.string().optional(),
      actions: z.array(z.strictObject({ id: z.string(), title: z.string(), deepLink: z.string().optional() })).optional(),
      category: z.string().optional(),
    })
    .nullable()
    .meta({
      description:
        'Push: the image, deep link and buttons as they would be sent (a URL that renders empty or invalid is left out); null when the template has none or none rendered.',
    }),
  formatting: z.strictObject({ locale: z.string(), timeZone: z.string() }).meta({ description: 'The locale and time zone numbers and dates were shown in.' }),
  variables: z.record(z.string(), z.unknown()).meta({ description: 'The variables the preview rendered with.' }),
});
export type TemplatePreviewView = z.output<typeof templatePreviewResponse>;

// -------------------------------------------------------- order and customer lookup (api/routes/lookup.ts)

/** One thing Herald did for an event, in time order: a notification (at its createdAt) or a receipt (at its occurredAt). */
export const timelineEntryResponse = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('notification'), at: dateTime.meta({ description: 'When the notification was recorded.' }), notification: notificationResponse }),
  z.strictObject({ kind: z.literal('receipt'), at: dateTime.meta({ description: 'When the receipt says it happened.' }), receipt: receiptResponse }),
]);
export type TimelineEntryView = z.output<typeof timelineEntryResponse>;

export const timelineEventResponse = z.strictObject({
  eventId: z.string(),
  status: z.string().meta({ description: 'The order status the event announced.' }),
  occurredAt: dateTime.meta({ description: 'When it happened, as the OMS said.' }),
  receivedAt: dateTime.meta({ description: 'When Herald accepted it.' }),
  source: z.string(),
  disposition: z.enum(['received', 'announced', 'out_of_order']).meta({
    description: '`received`: not processed yet; `announced`: the customer was told; `out_of_order`: older than the order\'s position, so not announced.',
  }),
  processedAt: nullableDateTime,
  entries: z.array(timelineEntryResponse).meta({ description: 'What Herald did about it: its notifications and their receipts, oldest first.' }),
});
export type TimelineEventView = z.output<typeof timelineEventResponse>;

const liveOrderState = orderStateResponse.pick({ notificationState: true, lastStatus: true, held: true, waitingFor: true, completesAt: true, pending: true });

export const orderWorkflowResponse = z.strictObject({
  workflowId: z.string().meta({ description: '`order:<orderId>`.' }),
  runId: z.string().nullable().meta({ description: 'The current (latest) run; null when Temporal has none or could not be asked.' }),
  status: z.enum(WORKFLOW_STATUS_NAMES).nullable(),
  uiUrl: z.string().nullable().meta({ description: 'The run in the Temporal Web UI (HERALD_TEMPORAL_UI_URL): `<ui>/namespaces/<ns>/workflows/<workflowId>/<runId>/history`.' }),
  live: liveOrderState
    .nullable()
    .meta({ description: "The run's `orderState` query: what waits (held, waitingFor) and until when. Null when it could not answer; `note` says why." }),
  note: z.string().nullable().meta({ description: 'Why there is no run or no live state (no worker, Temporal unreachable...); the timeline is the database\'s either way.' }),
});
export type OrderWorkflowView = z.output<typeof orderWorkflowResponse>;

export const orderTimelineResponse = z.strictObject({
  orderId: z.string(),
  customerId: z.string().nullable(),
  position: z
    .strictObject({ stage: z.string().nullable(), status: z.string().nullable(), occurredAt: nullableDateTime, updatedAt: dateTime })
    .nullable()
    .meta({ description: 'The last applied position of the order (what a new run starts from).' }),
  events: z.array(timelineEventResponse).meta({ description: 'Every accepted event of the order, in arrival order (at most 200, the latest).' }),
  eventsOmitted: z.int().min(0).meta({ description: 'Older events left out beyond the 200.' }),
  otherEntries: z.array(timelineEntryResponse).meta({ description: 'Notifications of the order that belong to no listed event, with their receipts.' }),
  workflow: orderWorkflowResponse,
});
export type OrderTimelineView = z.output<typeof orderTimelineResponse>;

export const lookupResponse = z.strictObject({
  q: z.string(),
  matches: z
    .array(
      z.strictObject({
        kind: z.enum(['order', 'customer', 'event']),
        id: z.string(),
        orderId: z.string().nullable().meta({ description: 'The order it is or belongs to (for an event, its order).' }),
        customerId: z.string().nullable(),
        href: z.string().meta({ description: 'Where to read it: the order or customer timeline.' }),
      }),
    )
    .meta({ description: 'Every kind the string is: an order id, a customer id and an event id are checked; empty when it is none.' }),
});
export type LookupView = z.output<typeof lookupResponse>;

export const customerTimelineResponse = z.strictObject({
  customerId: z.string(),
  profile: z
    .strictObject({
      name: z.string().nullable(),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      locale: z.string(),
      timeZone: z.string(),
      quietHours: z.strictObject({ start: z.string(), end: z.string() }).nullable(),
    })
    .nullable()
    .meta({ description: 'Null when Herald has events or notifications for the customer but no profile.' }),
  devices: z.array(
    z.strictObject({
      deviceId: z.string(),
      platform: z.enum(PLATFORMS),
      app: z.string().nullable(),
      active: z.boolean(),
      lastSeenAt: dateTime,
      invalidatedReason: z.string().nullable(),
    }),
  ).meta({ description: 'Every device, by the app\'s deviceId; tokens are not shown.' }),
  orders: z
    .array(
      z.strictObject({
        orderId: z.string(),
        lastActivityAt: dateTime,
        events: z.array(timelineEventResponse),
      }),
    )
    .meta({ description: 'Most recent activity first, each with its events (oldest first) and what went for them.' }),
  nextCursor,
});
export type CustomerTimelineView = z.output<typeof customerTimelineResponse>;

export const rejectedEventResponse = z.strictObject({
  rejectedEventId: z.string(),
  source: z.string().nullable().meta({ description: "The event's `source` field as sent." }),
  sourceId: z.string().nullable().meta({ description: 'The configured source it came from; null for POST /v1/order-events.' }),
  eventId: z.string().nullable(),
  orderId: z.string().nullable(),
  status: z.string().nullable().meta({ description: 'The status as sent (it may be the invalid field).' }),
  critical: z.boolean().meta({ description: `The status was a critical one (${[...CRITICAL_STATUSES].join(', ')}).` }),
  reason: z.enum(REJECTION_REASONS).meta({ description: `Why it was quarantined: ${REJECTION_REASONS.join(', ')}.` }),
  state: z.enum(QUARANTINE_STATES).meta({
    description: '`open`: to fix or replay; `replayed`: a replay was accepted (or ignored by its source); `discarded`: an operator set it aside.',
  }),
  errors: z.array(fieldErrorResponse).meta({ description: 'Every field that was wrong, and why: as the first refusal named them, or the last replay.' }),
  payload: z.unknown().meta({ description: 'The payload a replay sends: as it came (U+0000 replaced by U+FFFD), or as PATCH fixed it.' }),
  originalPayload: z.unknown().meta({ description: 'The payload as it came, kept when PATCH replaced it; null while it is unchanged.' }),
  headers: z.record(z.string(), z.unknown()).nullable().meta({ description: "The headers the source's adapter reads on a replay (never a signature); null for POST /v1/order-events." }),
  receivedAt: dateTime,
  updatedAt: dateTime.meta({ description: 'When it was last fixed, discarded or replayed (receivedAt until then).' }),
  replayCount: z.number().int().meta({ description: 'How many times it was replayed, accepted or not.' }),
  lastReplayAt: nullableDateTime.meta({ description: 'When it was last replayed; null: never.' }),
  replayedAt: nullableDateTime.meta({ description: 'When a replay was accepted; null: none was.' }),
  replayedEventId: z.string().nullable().meta({ description: 'The eventId a replay was accepted as; null: none was.' }),
});
export type RejectedEventView = z.output<typeof rejectedEventResponse>;

export const rejectedEventPageResponse = z.strictObject({
  items: z.array(rejectedEventResponse),
  nextCursor,
  total: z.number().int().meta({ description: 'How many rejected events match the filters, on every page.' }),
});

/** POST /v1/rejected-events/{id}/replay 200: what intake made of the payload, and the row as it is now. */
export const rejectedEventReplayResponse = z.strictObject({
  outcome: z.enum(['accepted', 'ignored']).meta({ description: '`accepted`: intake took the event (a duplicate too); `ignored`: its source maps its status to nothing.' }),
  accepted: acceptedEventResponse.nullable().meta({ description: 'The accepted event, as POST /v1/order-events answers it; null when ignored.' }),
  ignoredReason: z.string().nullable().meta({ description: 'Why its source ignores it; null when accepted.' }),
  rejectedEvent: rejectedEventResponse,
});

/** POST /v1/rejected-events/{id}/replay 422: refused again, with the new errors; the row stays open. */
export const rejectedEventReplayRefusedResponse = z
  .strictObject({ error: errorResponse.shape.error, rejectedEvent: rejectedEventResponse })
  .meta({ description: 'The error shape (the field errors of the replayed payload), and the rejected event with those errors.' });

/** POST /v1/rejected-event-replays: the counts of one bulk replay. */
export const bulkReplayResponse = z.strictObject({
  replayed: z.number().int().meta({ description: 'Replays intake accepted (duplicates of an event already accepted too: nothing is sent twice).' }),
  rejected: z.number().int().meta({ description: 'Replays refused again: they stay open with their new errors.' }),
  ignored: z.number().int().meta({ description: "Replays their source's status mapping ignores: they count as replayed." }),
  remaining: z.number().int().meta({ description: 'Open events matching the filters that are still due (not tried because of the limit): call again until 0.' }),
});


// ------------------------------------------------------------------------- back in stock and price drops

export const watchResponse = z.strictObject({
  watchId: z.string().meta({ description: "The watch's id." }),
  customerId: z.string().meta({ description: 'The customer watching.' }),
  sku: z.string().meta({ description: 'The product watched.' }),
  kind: z.enum(WATCH_KINDS).meta({ description: '`restock` or `price_drop`.' }),
  below: z.string().nullable().meta({ description: 'price_drop: the threshold, as decimal text; null when none.' }),
  baselinePrice: z.string().nullable().meta({ description: 'price_drop: the price the next drop is measured from (when watched, then the last one told); null when unknown.' }),
  createdAt: dateTime.meta({ description: 'When the customer started watching.' }),
  firedAt: nullableDateTime.meta({ description: 'restock: when it fired (it is then spent); null until then.' }),
});
export type WatchView = z.output<typeof watchResponse>;

export const watchListResponse = z.strictObject({ items: z.array(watchResponse) });

export const acceptedProductEventResponse = z.strictObject({
  eventId: z.string().meta({ description: "The event's id, as posted." }),
  workflowId: z.string().nullable().meta({ description: 'The alert workflow, `product-alert:<sku>:<eventId>`; null when the event alerts nobody (no restock, no price).' }),
  duplicate: z.boolean().meta({ description: 'True when this eventId was accepted before; nobody is alerted again.' }),
  restocked: z.boolean().meta({ description: 'True when the product was known unavailable and this event makes it available.' }),
});
