// Signals and the query of the campaign workflow (workflows/campaign.ts), shared with the API.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CampaignProgress } from '../domain';

/** No new batches; the ones in flight finish, then the campaign is paused. */
export const pauseCampaignSignal = defineSignal('pauseCampaign');
export const resumeCampaignSignal = defineSignal('resumeCampaign');
/** No new batches; once the ones in flight finish, every recipient still pending is cancelled. */
export const cancelCampaignSignal = defineSignal('cancelCampaign');

export const campaignProgressQuery = defineQuery<CampaignProgress>('progress');

export type { CampaignProgress };
