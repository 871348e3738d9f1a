// Request schemas: the single source of truth for validation (and, later, the OpenAPI document).
import { z } from 'zod';
import { ORDER_STATUSES, PLATFORMS, CHANNELS, CATEGORIES } from '../domain';

const id = () =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string`) })
    .min(1, { error: 'must not be empty', abort: true })
    .max(200, { error: 'must be at most 200 characters', abort: true })
    .regex(/^[A-Za-z0-9._:\-]+$/, `may contain only letters, digits, '.', '_', ':' and '-'`);

export const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const isLocale = (locale: string): boolean => {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
};

export const orderEventSchema = z.object({
  eventId: id(),
  orderId: id(),
  customerId: id(),
  status: z.enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` }),
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z' }),
  source: z.string({ error: 'is required' }).min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  data: z
    .record(z.string(), z.unknown(), { error: 'must be an object' })
    .default({})
    .refine((d) => JSON.stringify(d).length <= 16_384, 'must serialise to at most 16 KiB'),
});
export type OrderEventInput = z.infer<typeof orderEventSchema>;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (24-hour)');

export const customerSchema = z.object({
  name: z.string().max(200).nullish(),
  email: z.email({ error: 'must be an email address' }).nullish(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550123')
    .nullish(),
  locale: z.string().refine(isLocale, 'must be a BCP 47 locale such as en, fr-CA').optional(),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris').optional(),
  quietHours: z
    .object({ start: clock, end: clock })
    .refine((q) => q.start !== q.end, 'start and end must differ')
    .nullish(),
});

export const preferencesSchema = z.object({
  preferences: z
    .array(
      z.object({
        channel: z.enum(CHANNELS),
        category: z.enum(CATEGORIES),
        optedIn: z.boolean(),
      }),
    )
    .min(1, 'must list at least one preference')
    .max(20),
});

const base64url = /^[A-Za-z0-9_-]+={0,2}$/;

export const deviceSchema = z
  .object({
    deviceId: id(),
    platform: z.enum(PLATFORMS, { error: `must be one of ${PLATFORMS.join(', ')}` }),
    /** APNs device token (hex) or FCM registration token; web devices send `subscription` instead. */
    token: z.string().max(4096).optional(),
    subscription: z
      .object({
        endpoint: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
        keys: z.object({
          p256dh: z.string().regex(base64url, 'must be base64url').min(80, 'must be an uncompressed P-256 public key (base64url, 87 chars)').max(100),
          auth: z.string().regex(base64url, 'must be base64url').min(16, 'must be a 16-byte secret (base64url, 22 chars)').max(32),
        }),
      })
      .optional(),
    app: z.string().max(200).optional(),
    locale: z.string().refine(isLocale, 'must be a BCP 47 locale such as en, fr-CA').optional(),
    timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris').optional(),
  })
  .superRefine((device, ctx) => {
    if (device.platform === 'web') {
      if (!device.subscription) ctx.addIssue({ code: 'custom', path: ['subscription'], message: 'is required for web devices (a PushSubscription: endpoint and keys)' });
      return;
    }
    if (!device.token) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: `is required for ${device.platform} devices` });
      return;
    }
    if (device.platform === 'ios' && !/^[0-9a-fA-F]{64,200}$/.test(device.token)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be an APNs device token: at least 64 hexadecimal characters' });
    }
    if (device.platform === 'android' && !/^[A-Za-z0-9_\-]+(:[A-Za-z0-9_\-]+)?$/.test(device.token)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be an FCM registration token (letters, digits, -, _ and one :)' });
    } else if (device.platform === 'android' && (device.token.length < 100 || device.token.length > 4096)) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be an FCM registration token of 100 to 4096 characters' });
    }
  });

export const apiKeySchema = z.object({
  name: z.string().min(1, 'must not be empty').max(100),
  scopes: z.array(z.enum(['ingest', 'read', 'admin'])).min(1, 'must list at least one scope'),
});

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  cursor: z.string().max(500).optional(),
});

export const pathIdSchema = id();

export const inboxQuerySchema = pageQuerySchema.extend({
  unread: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});
