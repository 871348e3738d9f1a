// A campaign's recipients counted in PostgreSQL: one grouped scan of the campaign's rows on the
// [campaignId, status, dueAt, customerId] index. The workflow starts its counters from it; the API shows it when
// the workflow cannot answer.
import type { CampaignCounts } from '../domain';
import type { Db } from '../lib/db';

export async function countCampaignRecipients(db: Db, campaignId: string): Promise<CampaignCounts> {
  const rows = await db.$queryRaw<Array<{ status: string; reason: string | null; n: bigint; next: Date | null }>>`
    SELECT status::text AS status, CASE WHEN status = 'suppressed' THEN COALESCE(reason, 'suppressed') END AS reason,
      count(*) AS n, min("dueAt") FILTER (WHERE status = 'pending') AS next
    FROM "CampaignRecipient" WHERE "campaignId" = ${campaignId}
    GROUP BY 1, 2`;
  const campaign = await db.campaign.findUnique({ where: { id: campaignId }, select: { targeted: true } });
  const counts: CampaignCounts = { targeted: campaign?.targeted ?? null, pending: 0, sent: 0, suppressed: {}, failed: 0, holdout: 0, cancelled: 0, nextDueAt: null };
  for (const row of rows) {
    const n = Number(row.n);
    if (row.status === 'suppressed') counts.suppressed[row.reason!] = (counts.suppressed[row.reason!] ?? 0) + n;
    else if (row.status === 'pending') {
      counts.pending += n;
      counts.nextDueAt = row.next ? row.next.toISOString() : null;
    } else if (row.status === 'sent' || row.status === 'failed' || row.status === 'holdout' || row.status === 'cancelled') counts[row.status] += n;
  }
  return counts;
}
