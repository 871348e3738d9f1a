import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

type Activities = ReturnType<typeof activities.createActivities>;

const { deactivateStaleDevices } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '10 minutes' },
});

export interface StaleDevicesInput {
  /** A token the app has not refreshed for this long is presumed dead (APNs and FCM say so after 270 days). */
  unseenDays: number;
}

/** Run daily by the `herald-stale-devices` Temporal Schedule: retires device tokens no app has refreshed. */
export async function staleDevicesWorkflow(input: StaleDevicesInput): Promise<{ deactivated: number; unseenSince: string }> {
  const unseenSince = new Date(Date.now() - input.unseenDays * 86_400_000).toISOString();
  const deactivated = await deactivateStaleDevices({ unseenSince, reason: `unseen for ${input.unseenDays} days` });
  return { deactivated, unseenSince };
}
