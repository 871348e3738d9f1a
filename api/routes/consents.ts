// Preferences and consent: a customer's preference rows (per channel and category), their effective values,
// and the append-only consent history. The rules themselves are in domain/preferences.ts.
import { loadPreferenceState } from '../../store/preferences';
import {
  CHANNELS,
  MARKETING_CONSENT,
  OPT_IN_NEEDS_CONSENT_RECORD,
  classOf,
  effectivePreferences,
  latestConsent,
  type Channel,
  type PreferenceCategory,
} from '../../domain';
import type { Db, Prisma } from '../../lib/db';
import { HttpError, type FieldError } from '../errors';
import {
  consentListResponse,
  consentResponse,
  customerResponse,
  effectivePreferencesResponse,
  type ConsentView,
  type EffectivePreferencesView,
} from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { consentSchema, customerPath, preferencesSchema } from '../schemas';
import { customerView } from './customers';

/** The source of the withdrawal an opt-out records when the request names none. */
const OPT_OUT_SOURCE = 'preference-opt-out';

async function requireCustomer(db: Db, customerId: string): Promise<void> {
  const customer = await db.customer.findUnique({ where: { id: customerId }, select: { id: true } });
  if (!customer) throw new HttpError(404, 'not_found', `no customer ${customerId}; create it with PUT /v1/customers/${customerId}`);
}

function consentView(c: Prisma.ConsentRecordGetPayload<object>): ConsentView {
  return {
    consentId: c.id,
    customerId: c.customerId,
    channel: c.channel,
    category: c.category as PreferenceCategory,
    granted: c.granted,
    source: c.source,
    recordedAt: c.recordedAt,
    receivedAt: c.receivedAt,
  };
}

const NO_CUSTOMER = 'No such customer.';

export const consentRoutes: Route[] = [
  /**
   * Sets preference rows. A marketing opt-in on push, email or SMS records a granted consent when the request
   * carries `consent`; without it, an email or SMS opt-in needs a granted consent on record (409 otherwise).
   * A marketing opt-out where consent stands records its withdrawal, so a later opt-in needs consent again.
   */
  defineRoute({
    method: 'put',
    path: '/v1/customers/{customerId}/preferences',
    operationId: 'putPreferences',
    tag: 'Preferences and consent',
    summary: "Set a customer's channel and category preferences",
    description:
      'Each row is a channel and a category: a class (`transactional`, `marketing`) or one of its topics (`order-updates`; ' +
      '`promotions`, `cart-reminders`, `restock`, `price-drops`). A topic row overrides its class row, which overrides the default. ' +
      'A marketing opt-in on push, email or SMS records a granted consent when the request carries `consent { source, recordedAt? }`. ' +
      'Without it, an email or SMS marketing opt-in needs a granted consent on record already: otherwise 409 `consent_required`, ' +
      'naming each such row, and nothing is saved. A marketing opt-out where consent stands records its withdrawal ' +
      '(source `consent.source`, or `preference-opt-out`). With a customer token, the source is recorded as `app:<source>` and ' +
      'the time as now (`consent.recordedAt` is a 400): the consent history is evidence of what the customer did.',
    scope: 'ingest',
    customer: { param: 'customerId' },
    params: customerPath,
    body: preferencesSchema,
    responses: { 200: { description: 'The profile with its preference rows.', body: customerResponse } },
    errors: { 404: NO_CUSTOMER, 409: '`consent_required`: an email or SMS marketing opt-in without consent; `error.fields` names each row.' },
    handler: async ({ params: { customerId }, body: { preferences, consent: given }, req }, { db }) => {
      // The consent history is evidence: what the customer's own app records is marked as the app's, and as of now.
      const byCustomer = req.principal?.kind === 'customer';
      if (byCustomer && given?.recordedAt) {
        throw new HttpError(400, 'validation_failed', 'a customer token records consent as of now', [
          { field: 'consent.recordedAt', reason: 'cannot be set with a customer token: the consent is recorded as of now' },
        ]);
      }
      const consent = given && byCustomer ? { ...given, source: `app:${given.source}` } : given;
      const recordedAt = consent?.recordedAt ? new Date(consent.recordedAt) : new Date();
      await requireCustomer(db, customerId);

      // The same channel and category twice: the last one counts, as it would if sent one by one.
      const latest = new Map<string, { index: number; channel: Channel; category: PreferenceCategory; optedIn: boolean }>();
      preferences.forEach((p, index) => latest.set(`${p.channel}/${p.category}`, { index, ...p }));
      const state = await loadPreferenceState(db, customerId);
      const records: Prisma.ConsentRecordCreateManyInput[] = [];
      const missing: FieldError[] = [];
      for (const p of latest.values()) {
        if (classOf(p.category) !== 'marketing' || MARKETING_CONSENT[p.channel] === 'none') continue;
        const standing = latestConsent(state, p.channel, p.category)?.granted === true;
        if (p.optedIn && consent) {
          records.push({ customerId, channel: p.channel, category: p.category, granted: true, source: consent.source, recordedAt });
        } else if (p.optedIn && !standing && OPT_IN_NEEDS_CONSENT_RECORD.has(p.channel)) {
          missing.push({
            field: `preferences.${p.index}.optedIn`,
            reason:
              `an ${p.channel} opt-in to ${p.category} needs the customer's recorded consent: send consent { source, recordedAt? } with it, ` +
              `or record it with POST /v1/customers/${customerId}/consents`,
          });
        } else if (!p.optedIn && standing) {
          records.push({ customerId, channel: p.channel, category: p.category, granted: false, source: consent?.source ?? OPT_OUT_SOURCE, recordedAt });
        }
      }
      if (missing.length) {
        throw new HttpError(409, 'consent_required', `marketing opt-in without consent: ${missing.map((f) => f.field).join(', ')}`, missing);
      }
      await db.$transaction([
        ...[...latest.values()].map(({ channel, category, optedIn }) =>
          db.preference.upsert({
            where: { customerId_channel_category: { customerId, channel, category } },
            create: { customerId, channel, category, optedIn },
            update: { optedIn },
          }),
        ),
        ...(records.length ? [db.consentRecord.createMany({ data: records })] : []),
      ]);
      const saved = await db.customer.findUniqueOrThrow({ where: { id: customerId }, include: { preferences: true } });
      return { status: 200, body: customerView(saved) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/preferences',
    operationId: 'getPreferences',
    tag: 'Preferences and consent',
    summary: "A customer's effective preferences per channel and category",
    description:
      'Every channel and category with its value and where it came from (the row for the category, the row for its class, or the ' +
      'default), the consent that marketing needs on the channel, and whether a routine notification may go there.',
    scope: 'read',
    customer: { param: 'customerId' },
    params: customerPath,
    responses: { 200: { description: 'The effective preferences.', body: effectivePreferencesResponse } },
    errors: { 404: NO_CUSTOMER },
    handler: async ({ params: { customerId } }, { db }) => {
      await requireCustomer(db, customerId);
      const state = await loadPreferenceState(db, customerId);
      const view: EffectivePreferencesView = {
        customerId,
        items: effectivePreferences(state, CHANNELS).map((p) => ({
          channel: p.channel,
          category: p.category,
          class: p.class,
          optedIn: p.optedIn,
          source: p.source,
          default: p.default,
          consent: p.consent && {
            rule: p.consent.rule,
            status: p.consent.status,
            satisfied: p.consent.satisfied,
            record: p.consent.record && {
              category: p.consent.record.category as PreferenceCategory,
              granted: p.consent.record.granted,
              source: p.consent.record.source,
              recordedAt: p.consent.record.recordedAt,
              receivedAt: p.consent.record.receivedAt,
            },
          },
          permitted: p.permitted,
          reason: p.reason,
        })),
      };
      return { status: 200, body: view };
    },
  }),
  /** One entry of the history; the preference for the same channel and category follows it (opted in or out). */
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/consents',
    operationId: 'postConsent',
    tag: 'Preferences and consent',
    summary: 'Record that a customer gave or withdrew marketing consent',
    description:
      'Appends to the consent history (never changes it). The record Herald received last among those covering a category (one for ' +
      'the category itself or for its class) decides, so a withdrawal (`granted: false`) takes effect at once; `recordedAt`, when the ' +
      'customer gave it, is kept as evidence. The preference for the same channel and category follows: opted in on a grant, out on a ' +
      'withdrawal.',
    scope: 'ingest',
    params: customerPath,
    body: consentSchema,
    responses: { 201: { description: 'Recorded.', body: consentResponse } },
    errors: { 404: NO_CUSTOMER },
    handler: async ({ params: { customerId }, body: c }, { db }) => {
      const recordedAt = c.recordedAt ? new Date(c.recordedAt) : new Date();
      await requireCustomer(db, customerId);
      const [record] = await db.$transaction([
        db.consentRecord.create({ data: { customerId, channel: c.channel, category: c.category, granted: c.granted, source: c.source, recordedAt } }),
        db.preference.upsert({
          where: { customerId_channel_category: { customerId, channel: c.channel, category: c.category } },
          create: { customerId, channel: c.channel, category: c.category, optedIn: c.granted },
          update: { optedIn: c.granted },
        }),
      ]);
      return { status: 201, body: consentView(record) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/consents',
    operationId: 'listConsents',
    tag: 'Preferences and consent',
    summary: "A customer's consent history, latest first",
    scope: 'read',
    params: customerPath,
    responses: { 200: { description: 'Every record, latest received first.', body: consentListResponse } },
    errors: { 404: NO_CUSTOMER },
    handler: async ({ params: { customerId } }, { db }) => {
      await requireCustomer(db, customerId);
      // Latest first; received together, the withdrawal first, as it is the one that decides.
      const records = await db.consentRecord.findMany({ where: { customerId }, orderBy: [{ receivedAt: 'desc' }, { granted: 'asc' }, { id: 'asc' }] });
      return { status: 200, body: { items: records.map(consentView) } };
    },
  }),
];
