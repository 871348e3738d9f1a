// One run per campaign (`campaign:<campaignId>`): enrols the segment page by page, then hands the recipients due
// by the workflow's clock to batch activities, several at once, under the campaign's send-rate ceiling; sleeps
// until the next recipient is due (a local-time schedule in each zone, a variant's send time, the end of
// someone's quiet hours); pauses, resumes and cancels on signals. Long campaigns continue as new with their
// counters, so no history grows without bound. Every decision and send is in activities/campaigns.ts.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CampaignBatchOutcome, DueRecipient } from '../activities/campaigns';
import {
  CAMPAIGN_BATCH_SIZE,
  CAMPAIGN_BATCHES_IN_FLIGHT,
  CAMPAIGN_ENROL_PAGE,
  type CampaignCounts,
  type CampaignProgress,
  type CampaignStatus,
} from '../domain/campaigns';
import { cancelCampaignSignal, campaignProgressQuery, pauseCampaignSignal, resumeCampaignSignal } from './campaign-definitions';

const { loadCampaignPlan, markCampaign, enrolCampaignPage, finishEnrolment, countCampaign, nextCampaignWork, failCampaignBatch, cancelCampaignRecipients } =
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['CampaignNotFound'] },
  });

// A batch heartbeats while it works, so one lost with its worker is retried within seconds; the retry skips what it settled.
// Liveness is the heartbeat's; the start-to-close bound only has to cover the slowest honest batch (500 emails
// at 16 at a time on an SMTP server answering in its 30 s socket timeout is about 16 minutes).
const { sendCampaignBatch } = proxyActivities<Activities>({
  startToCloseTimeout: '20 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 6, nonRetryableErrorTypes: ['CampaignNotFound'] },
});

const MINUTE = 60_000;

/** What a run hands its continuation. */
export interface CampaignCarried {
  /** The workflow's clock when the campaign started (ms): every recipient's due time counts from it. */
  startedAt: number;
  /** Enrolment not finished: the segment cursor to carry on from (null: from the start). Absent once it finished. */
  enrolAfter?: string | null;
  status: CampaignStatus;
  paused: boolean;
  cancelled: boolean;
  /** Recipients handed to batches in the last minute: [time, count]. */
  rateWindow: Array<[number, number]>;
  rateNextAt: number;
}

export interface CampaignWorkflowInput {
  campaignId: string;
  resume?: CampaignCarried;
}

/**
 * The send-rate ceiling over the workflow's clock: never more than `perMinute` recipients handed to batches in any
 * 60 seconds, in batches of at most a twelfth of it (five seconds' worth), spaced so the minute is spread evenly.
 */
class RateCeiling {
  readonly capacity: number;
  constructor(
    readonly perMinute: number,
    public window: Array<[number, number]>,
    public nextAt: number,
  ) {
    this.capacity = Math.max(1, Math.min(CAMPAIGN_BATCH_SIZE, Math.floor(perMinute / 12)));
  }

  /** How long to wait before the next batch, or how many recipients it may carry now. */
  allowance(now: number): { wait: number; size: number } {
    this.window = this.window.filter(([t]) => t > now - MINUTE);
    if (now < this.nextAt) return { wait: this.nextAt - now, size: 0 };
    const free = this.perMinute - this.window.reduce((sum, [, n]) => sum + n, 0);
    if (free >= this.capacity) return { wait: 0, size: this.capacity };
    let freed = free;
    for (const [t, n] of this.window) {
      freed += n;
      if (freed >= this.capacity) return { wait: Math.max(1, t + MINUTE - now), size: 0 };
    }
    return { wait: MINUTE, size: 0 };
  }

  took(now: number, count: number): void {
    this.window.push([now, count]);
    this.nextAt = now + Math.ceil((count * MINUTE) / this.perMinute);
  }
}

export async function campaignWorkflow(input: CampaignWorkflowInput): Promise<CampaignProgress> {
  const run = new CampaignRun(input);
  setHandler(pauseCampaignSignal, () => run.pause());
  setHandler(resumeCampaignSignal, () => run.resume());
  setHandler(cancelCampaignSignal, () => run.cancel());
  setHandler(campaignProgressQuery, () => run.progress());
  return run.run();
}

const describeFailure = (err: unknown): string => {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
};

class CampaignRun {
  private readonly campaignId: string;
  private carried: CampaignCarried | undefined;
  private status: CampaignStatus = 'scheduled';
  private paused = false;
  private cancelled = false;
  private counts: CampaignCounts = { targeted: null, pending: 0, sent: 0, suppressed: {}, failed: 0, holdout: 0, cancelled: 0, nextDueAt: null };
  private inFlight = 0;
  /** The recipients of the batches in flight. */
  private readonly inFlightIds = new Set<string>();
  private rate: RateCeiling | null = null;
  /** Where the dispatch stands in (dueAt, customerId) order: recipients before it are in a batch or settled. */
  private cursor: DueRecipient | null = null;

  constructor(input: CampaignWorkflowInput) {
    this.campaignId = input.campaignId;
    this.carried = input.resume;
    if (input.resume) {
      this.status = input.resume.status;
      this.paused = input.resume.paused;
      this.cancelled = input.resume.cancelled;
    }
  }

  pause(): void {
    if (this.status !== 'completed' && this.status !== 'cancelled') this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  cancel(): void {
    this.cancelled = true;
  }

  progress(): CampaignProgress {
    return { campaignId: this.campaignId, status: this.status, ...this.counts, remaining: this.counts.pending, inFlight: this.inFlight };
  }

  async run(): Promise<CampaignProgress> {
    const plan = await loadCampaignPlan(this.campaignId);
    if (!this.carried && (plan.status === 'completed' || plan.status === 'cancelled')) {
      // A run started again for a finished campaign: nothing left to do.
      this.status = plan.status;
      this.counts = await countCampaign({ campaignId: this.campaignId });
      return this.progress();
    }
    const startedAt = this.carried?.startedAt ?? (plan.startedAt ? Date.parse(plan.startedAt) : Date.now());
    if (plan.maxPerMinute) this.rate = new RateCeiling(plan.maxPerMinute, this.carried?.rateWindow ?? [], this.carried?.rateNextAt ?? 0);
    if (!this.carried) await this.mark('scheduled', startedAt, true);

    const enrolled = await this.enrol(startedAt);
    if (!enrolled) return this.continueAsNew(startedAt, this.enrolCursor);
    const finished = await this.dispatch();
    if (!finished) return this.continueAsNew(startedAt);
    if (this.cancelled) {
      const { cancelled } = await cancelCampaignRecipients({ campaignId: this.campaignId, at: new Date().toISOString() });
      this.counts.cancelled += cancelled;
      this.counts.pending = Math.max(0, this.counts.pending - cancelled);
      await this.mark('cancelled');
    } else await this.mark('completed');
    this.counts.nextDueAt = null;
    await condition(allHandlersFinished);
    return this.progress();
  }

  private enrolCursor: string | null = null;

  /** Pages the segment into recipients; false when the run should continue as new first. */
  private async enrol(startedAt: number): Promise<boolean> {
    if (this.carried && this.carried.enrolAfter === undefined) {
      this.counts = await countCampaign({ campaignId: this.campaignId });
      return true;
    }
    let after: string | null = this.carried?.enrolAfter ?? null;
    do {
      if (this.cancelled) break;
      if (after !== null && workflowInfo().continueAsNewSuggested) {
        this.enrolCursor = after;
        return false;
      }
      const page = await enrolCampaignPage({ campaignId: this.campaignId, startedAt: new Date(startedAt).toISOString(), after, limit: CAMPAIGN_ENROL_PAGE });
      after = page.next;
    } while (after !== null);
    this.counts = await finishEnrolment({ campaignId: this.campaignId });
    return true;
  }

  /**
   * Hands due recipients to batches until none is pending; false when the run should continue as new first (with
   * nothing in flight). Returns true when done or cancelled.
   */
  private async dispatch(): Promise<boolean> {
    for (;;) {
      if (this.cancelled) {
        await condition(() => this.inFlight === 0);
        return true;
      }
      if (this.paused) {
        await condition(() => this.inFlight === 0);
        const before = this.status;
        await this.mark('paused');
        await condition(() => !this.paused || this.cancelled);
        if (!this.cancelled) await this.mark(before === 'paused' ? 'running' : before);
        continue;
      }
      if (workflowInfo().continueAsNewSuggested) {
        await condition(() => this.inFlight === 0);
        return false;
      }
      if (this.inFlight >= CAMPAIGN_BATCHES_IN_FLIGHT) {
        await condition(() => this.inFlight < CAMPAIGN_BATCHES_IN_FLIGHT || this.paused || this.cancelled);
        continue;
      }
      const now = Date.now();
      let size = CAMPAIGN_BATCH_SIZE;
      if (this.rate) {
        const allowance = this.rate.allowance(now);
        if (allowance.wait > 0) {
          await condition(() => this.paused || this.cancelled, allowance.wait);
          continue;
        }
        size = allowance.size;
      }
      const work = await nextCampaignWork({ campaignId: this.campaignId, dueBy: new Date(now).toISOString(), after: this.cursor, limit: size });
      // A pause or a cancel that came while the work was looked up: no new batch (the cursor stays, so nothing is skipped).
      if (this.paused || this.cancelled) continue;
      // Someone a batch in flight moved (their quiet hours end while it runs) stays with that batch until it is done:
      // the pass from the start after the batches finish takes them up.
      const customerIds = work.customerIds.filter((id) => !this.inFlightIds.has(id));
      if (work.customerIds.length > 0) {
        this.cursor = work.last;
        if (customerIds.length === 0) continue;
        this.rate?.took(now, customerIds.length);
        this.counts.nextDueAt = null;
        if (this.status === 'scheduled') await this.mark('running');
        this.launch(customerIds, now);
        continue;
      }
      // Nothing due after the cursor: let the batches in flight finish (quiet hours may have moved some), then look again from the start.
      if (this.inFlight > 0) {
        await condition(() => this.inFlight === 0);
        continue;
      }
      if (this.cursor !== null) {
        this.cursor = null;
        continue;
      }
      if (work.nextDueAt === null) return true;
      this.counts.nextDueAt = work.nextDueAt;
      await condition(() => this.paused || this.cancelled, Math.max(1, Date.parse(work.nextDueAt) - now));
    }
  }

  /** One batch, not awaited: the loop goes on to the next while it runs. */
  private launch(customerIds: string[], dueBy: number): void {
    this.inFlight++;
    for (const id of customerIds) this.inFlightIds.add(id);
    const batch = async () => {
      let outcome: CampaignBatchOutcome;
      try {
        outcome = await sendCampaignBatch({ campaignId: this.campaignId, customerIds, dueBy: new Date(dueBy).toISOString() });
      } catch (err) {
        // Every retry spent: the batch's recipients that were due and are still pending fail with why, so the campaign can finish.
        outcome = await failCampaignBatch({ campaignId: this.campaignId, customerIds, reason: describeFailure(err), at: new Date().toISOString(), dueBy: new Date(dueBy).toISOString() });
      }
      this.add(outcome);
    };
    void batch()
      .catch((err: unknown) => {
        // Even failing the batch failed (its campaign is gone, say): its recipients stay as the database has them.
        log.error('campaign batch could not be settled', { campaignId: this.campaignId, recipients: customerIds.length, error: describeFailure(err) });
      })
      .finally(() => {
        this.inFlight--;
        for (const id of customerIds) this.inFlightIds.delete(id);
      });
  }

  private add(outcome: CampaignBatchOutcome): void {
    const suppressed = Object.values(outcome.suppressed).reduce((sum, n) => sum + n, 0);
    this.counts.sent += outcome.sent;
    this.counts.failed += outcome.failed;
    for (const [reason, n] of Object.entries(outcome.suppressed)) this.counts.suppressed[reason] = (this.counts.suppressed[reason] ?? 0) + n;
    this.counts.pending = Math.max(0, this.counts.pending - outcome.sent - outcome.failed - suppressed);
  }

  private async mark(status: CampaignStatus, at = Date.now(), force = false): Promise<void> {
    if (status === 'draft' || (!force && status === this.status)) return;
    // The query says what the database says: the status changes once it is recorded.
    await markCampaign({ campaignId: this.campaignId, status, at: new Date(at).toISOString() });
    this.status = status;
  }

  private async continueAsNew(startedAt: number, enrolAfter?: string | null): Promise<never> {
    await condition(allHandlersFinished);
    return continueAsNew<typeof campaignWorkflow>({
      campaignId: this.campaignId,
      resume: {
        startedAt,
        ...(enrolAfter !== undefined ? { enrolAfter } : {}),
        status: this.status,
        paused: this.paused,
        cancelled: this.cancelled,
        rateWindow: this.rate?.window ?? [],
        rateNextAt: this.rate?.nextAt ?? 0,
      },
    });
  }
}
