import type { LifecyclePosition, OrderStatus, Platform, PushTarget } from '../domain';
import type { Db } from '../lib/db';

export interface RecipientContext {
  customer: {
    id: string;
    name: string | null;
    locale: string;
    timeZone: string;
    quietHours: { start: string; end: string } | null;
  } | null;
  devices: PushTarget[];
  /** Whether the customer allows transactional push (no preference row means yes). */
  pushAllowed: boolean;
  /** The event was already handled by an earlier run (a re-sent signal after the run completed). */
  eventAlreadyProcessed: boolean;
}

export function createRecipientActivities(db: Db) {
  return {
    /** Customer, active devices and preferences in one round trip's worth of queries. */
    async loadRecipientContext(customerId: string, eventId: string): Promise<RecipientContext> {
      const [customer, event] = await Promise.all([
        db.customer.findUnique({
        where: { id: customerId },
        include: {
          devices: { where: { active: true }, orderBy: { lastSeenAt: 'desc' } },
          preferences: { where: { channel: 'push', category: 'transactional' } },
          },
        }),
        db.orderEvent.findUnique({ where: { eventId }, select: { processedAt: true } }),
      ]);
      const eventAlreadyProcessed = Boolean(event?.processedAt);
      if (!customer) return { customer: null, devices: [], pushAllowed: false, eventAlreadyProcessed };
      return {
        customer: {
          id: customer.id,
          name: customer.name,
          locale: customer.locale,
          timeZone: customer.timeZone,
          quietHours:
            customer.quietHoursStart && customer.quietHoursEnd
              ? { start: customer.quietHoursStart, end: customer.quietHoursEnd }
              : null,
        },
        devices: customer.devices.map((d) => ({
          deviceId: d.id,
          platform: d.platform as Platform,
          token: d.token,
          app: d.app,
        })),
        pushAllowed: customer.preferences.every((p) => p.optedIn),
        eventAlreadyProcessed,
      };
    },

    /** Where a previous run of this order's workflow left it, so a new run still spots late events. */
    async loadOrderPosition(orderId: string): Promise<LifecyclePosition> {
      const order = await db.order.findUnique({ where: { orderId } });
      return {
        stage: (order?.stage as OrderStatus | null) ?? null,
        status: (order?.status as OrderStatus | null) ?? null,
        occurredAt: order?.occurredAt?.toISOString() ?? null,
      };
    },
  };
}
