// Frequency caps, counted in PostgreSQL: one conditional upsert per rule, so concurrent orders of one
// customer (each its own workflow, perhaps on other workers) never both take the last slot.
import type { DeliveryChannel } from '../domain';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';

export interface ClaimFrequencySlotInput {
  notificationId: string;
  customerId: string;
  channel: DeliveryChannel;
  rules: Array<{ category: string; limit: number; windowSeconds: number; description: string }>;
}

export interface FrequencySlot {
  allowed: boolean;
  /** The rule that refused it. */
  rule?: string;
}

class CapReached extends Error {
  constructor(readonly rule: string) {
    super(`frequency cap reached: ${rule}`);
  }
}

export function createFrequencyCapActivities(db: Db) {
  return {
    /**
     * Takes one slot under every rule, or none: all counters move together in one transaction, and
     * the decision is kept per notification, so a retried step returns the same answer without
     * counting twice.
     */
    async claimFrequencySlot(input: ClaimFrequencySlotInput): Promise<FrequencySlot> {
      const [earlier] = await db.$queryRaw<Array<{ allowed: boolean; rule: string | null }>>`
        SELECT allowed, rule FROM "FrequencyClaim" WHERE "notificationId" = ${input.notificationId}`;
      if (earlier) return { allowed: earlier.allowed, ...(earlier.rule ? { rule: earlier.rule } : {}) };
      const now = Date.now();
      let slot: FrequencySlot;
      try {
        slot = await db.$transaction(async (tx) => {
          for (const rule of input.rules) {
            const windowMs = rule.windowSeconds * 1000;
            const windowStart = new Date(Math.floor(now / windowMs) * windowMs);
            const taken = await tx.$queryRaw<Array<{ count: number }>>`
              INSERT INTO "FrequencyCounter" ("customerId", channel, category, "windowSeconds", "windowStart", count)
              VALUES (${input.customerId}, ${input.channel}::"Channel", ${rule.category}, ${rule.windowSeconds}, ${windowStart}, 1)
              ON CONFLICT ("customerId", channel, category, "windowSeconds", "windowStart")
              DO UPDATE SET count = "FrequencyCounter".count + 1 WHERE "FrequencyCounter".count < ${rule.limit}
              RETURNING count`;
            if (taken.length === 0) throw new CapReached(rule.description);
          }
          await tx.$executeRaw`
            INSERT INTO "FrequencyClaim" ("notificationId", "customerId", allowed, rule) VALUES (${input.notificationId}, ${input.customerId}, true, NULL)`;
          return { allowed: true };
        });
      } catch (err) {
        if (!(err instanceof CapReached)) throw err;
        await db.$executeRaw`
          INSERT INTO "FrequencyClaim" ("notificationId", "customerId", allowed, rule) VALUES (${input.notificationId}, ${input.customerId}, false, ${err.rule})
          ON CONFLICT ("notificationId") DO NOTHING`;
        slot = { allowed: false, rule: err.rule };
      }
      if (!slot.allowed) metrics.notifications.inc({ channel: input.channel, priority: 'routine', outcome: 'suppressed', reason: 'frequency_cap' });
      return slot;
    },
  };
}
