import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { staleDevicesWorkflow } from '../workflows/stale-devices';
import type { Logger } from '../lib/logger';

export const STALE_DEVICES_SCHEDULE_ID = 'herald-stale-devices';

/** Creates Herald's Temporal Schedules if they are missing; an existing one is left as operators set it. */
export async function ensureSchedules(client: Client, taskQueue: string, logger: Logger, unseenDays = 270): Promise<void> {
  try {
    await client.schedule.create<typeof staleDevicesWorkflow>({
      scheduleId: STALE_DEVICES_SCHEDULE_ID,
      spec: { calendars: [{ hour: 3, minute: 17, comment: 'daily, off the hour' }] },
      action: { type: 'startWorkflow', workflowType: 'staleDevicesWorkflow', taskQueue, args: [{ unseenDays }], workflowId: 'stale-devices' },
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
      memo: { purpose: `deactivate device tokens unseen for ${unseenDays} days` },
    });
    logger.info({ scheduleId: STALE_DEVICES_SCHEDULE_ID }, 'schedule created');
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
