// The experiment an order update takes part in, and a customer's recorded variant: what prepareStep
// (activities/order-steps.ts) asks before it renders an order notification. Plain SQL on the per-event path.
import { assignVariant, type ExperimentVariant } from '../domain';
import type { Db } from '../lib/db';

export interface ActiveExperiment {
  id: string;
  variants: ExperimentVariant[];
  holdout: number;
}

/** The active experiment on an order status's notification (`shipped`), the newest if there were ever two; null when none. */
export async function activeExperimentFor(db: Db, notificationType: string): Promise<ActiveExperiment | null> {
  const [row] = await db.$queryRaw<Array<{ id: string; variants: ExperimentVariant[]; holdout: number }>>`
    SELECT id, variants, holdout FROM "Experiment"
    WHERE "notificationType" = ${notificationType} AND status = 'active'
    ORDER BY "createdAt" DESC, id DESC LIMIT 1`;
  return row ?? null;
}

/**
 * The customer's variant: the recorded one when they were assigned before (a retried step, a later order, a
 * replayed run), otherwise the hash's choice, recorded now. One statement: the insert or, when a row is there
 * already, that row (the insert's snapshot does not see its own row, so exactly one of the two answers).
 */
export async function assignCustomer(db: Db, experiment: ActiveExperiment, customerId: string): Promise<string> {
  const computed = assignVariant({ id: experiment.id, variants: experiment.variants, holdout: experiment.holdout }, customerId);
  const [row] = await db.$queryRaw<Array<{ variant: string }>>`
    WITH inserted AS (
      INSERT INTO "ExperimentAssignment" ("experimentId", "customerId", variant, "assignedAt")
      VALUES (${experiment.id}, ${customerId}, ${computed}, now())
      ON CONFLICT ("experimentId", "customerId") DO NOTHING
      RETURNING variant
    )
    SELECT variant FROM inserted
    UNION ALL
    SELECT variant FROM "ExperimentAssignment" WHERE "experimentId" = ${experiment.id} AND "customerId" = ${customerId}
    LIMIT 1`;
  return row!.variant;
}
