// Preferences and consent: a customer's preference rows (per channel and category), their effective values,
// and the append-only consent history. The rules themselves are in domain/preferences.ts.
import { Router } from 'express';
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
import { requireScope } from '../auth';
import { HttpError, validationError, type FieldError } from '../errors';
import { idParam } from '../paging';
import type { ConsentView, EffectivePreferencesView } from '../response-schemas';
import { consentSchema, preferencesSchema } from '../schemas';
import { customerView } from './customers';

/** The source of the withdrawal an opt-out records when the request names none. */
const OPT_OUT_SOURCE = 'preference-opt-out';

const customerIdParam = (raw: unknown): string => idParam('customerId', raw);

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

export function consentRoutes(db: Db): Router {
  const router = Router();

  /**
   * Sets preference rows. A marketing opt-in on push, email or SMS records a granted consent when the request
   * carries `consent`; without it, an email or SMS opt-in needs a granted consent on record (409 otherwise).
   * A marketing opt-out where consent stands records its withdrawal, so a later opt-in needs consent again.
   */
  router.put('/customers/:customerId/preferences', requireScope('ingest'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const parsed = preferencesSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'preferences');
    const { preferences, consent } = parsed.data;
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
    res.json(customerView(saved));
  });

  router.get('/customers/:customerId/preferences', requireScope('read'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
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
    res.json(view);
  });

  /** One entry of the history; the preference for the same channel and category follows it (opted in or out). */
  router.post('/customers/:customerId/consents', requireScope('ingest'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const parsed = consentSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'consent');
    const c = parsed.data;
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
    res.status(201).json(consentView(record));
  });

  router.get('/customers/:customerId/consents', requireScope('read'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    await requireCustomer(db, customerId);
    // Latest first; received together, the withdrawal first, as it is the one that decides.
    const records = await db.consentRecord.findMany({ where: { customerId }, orderBy: [{ receivedAt: 'desc' }, { granted: 'asc' }, { id: 'asc' }] });
    res.json({ items: records.map(consentView) });
  });

  return router;
}
