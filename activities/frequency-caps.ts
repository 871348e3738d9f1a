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

export interface ClaimFrequencySlotsInput {
  channel: DeliveryChannel;
  rules: ClaimFrequencySlotInput['rules'];
  /** Distinct customers: one notification each. */
  claims: Array<{ notificationId: string; customerId: string }>;
}

/**
 * claimFrequencySlot for many notifications at once (a campaign batch): one upsert per rule for the whole batch,
 * in one transaction, with the same answers: each notification takes a slot under every rule or none (a customer
 * refused by a later rule gives back the slots the earlier ones took), and the decision is kept per notification,
 * so a retried batch is answered the same without counting twice.
 */
export async function claimFrequencySlots(db: Db, input: ClaimFrequencySlotsInput, now = Date.now()): Promise<Map<string, FrequencySlot>> {
  const slots = new Map<string, FrequencySlot>();
  if (input.claims.length === 0) return slots;
  const earlier = await db.$queryRaw<Array<{ notificationId: string; allowed: boolean; rule: string | null }>>`
    SELECT "notificationId", allowed, rule FROM "FrequencyClaim" WHERE "notificationId" = ANY(${input.claims.map((c) => c.notificationId)})`;
  for (const e of earlier) slots.set(e.notificationId, { allowed: e.allowed, ...(e.rule ? { rule: e.rule } : {}) });
  const todo = input.claims.filter((c) => !slots.has(c.notificationId));
  if (todo.length === 0) return slots;
  if (input.rules.length === 0) {
    for (const c of todo) slots.set(c.notificationId, { allowed: true });
    return slots;
  }
  const refused = new Map<string, string>();
  await db.$transaction(async (tx) => {
    let holding = todo.map((c) => c.customerId);
    const windows = input.rules.map((rule) => {
      const windowMs = rule.windowSeconds * 1000;
      return new Date(Math.floor(now / windowMs) * windowMs);
    });
    for (const [k, rule] of input.rules.entries()) {
      if (holding.length === 0) break;
      const taken = await tx.$queryRaw<Array<{ customerId: string }>>`
        INSERT INTO "FrequencyCounter" ("customerId", channel, category, "windowSeconds", "windowStart", count)
        SELECT id, ${input.channel}::"Channel", ${rule.category}, ${rule.windowSeconds}, ${windows[k]!}, 1 FROM unnest(${holding}::text[]) AS id
        ON CONFLICT ("customerId", channel, category, "windowSeconds", "windowStart")
        DO UPDATE SET count = "FrequencyCounter".count + 1 WHERE "FrequencyCounter".count < ${rule.limit}
        RETURNING "customerId"`;
      const got = new Set(taken.map((t) => t.customerId));
      const lost = holding.filter((c) => !got.has(c));
      for (const c of lost) refused.set(c, rule.description);
      // All or none: the slots the earlier rules gave these customers go back.
      for (let j = 0; j < k && lost.length > 0; j++) {
        const earlierRule = input.rules[j]!;
        await tx.$executeRaw`
          UPDATE "FrequencyCounter" SET count = count - 1
          WHERE "customerId" = ANY(${lost}) AND channel = ${input.channel}::"Channel" AND category = ${earlierRule.category}
            AND "windowSeconds" = ${earlierRule.windowSeconds} AND "windowStart" = ${windows[j]!}`;
      }
      holding = holding.filter((c) => got.has(c));
    }
    await tx.$executeRaw`
      INSERT INTO "FrequencyClaim" ("notificationId", "customerId", allowed, rule)
      SELECT * FROM unnest(${todo.map((c) => c.notificationId)}::text[], ${todo.map((c) => c.customerId)}::text[],
        ${todo.map((c) => !refused.has(c.customerId))}::boolean[], ${todo.map((c) => refused.get(c.customerId) ?? null)}::text[])
      ON CONFLICT ("notificationId") DO NOTHING`;
  });
  // Counted in the notification metrics by the caller, which records the refusals as suppressed.
  for (const c of todo) {
    const rule = refused.get(c.customerId);
    slots.set(c.notificationId, rule ? { allowed: false, rule } : { allowed: true });
  }
  return slots;
}
