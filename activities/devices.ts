import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';

export interface StaleDeviceSweep {
  /** ISO time: devices last seen before this are deactivated. */
  unseenSince: string;
  reason: string;
}

export function createDeviceActivities(db: Db) {
  return {
    /** Deactivates devices the app has not refreshed since the cutoff; returns how many. */
    async deactivateStaleDevices(sweep: StaleDeviceSweep): Promise<number> {
      const result = await db.device.updateMany({
        where: { active: true, lastSeenAt: { lt: new Date(sweep.unseenSince) } },
        data: { active: false, invalidatedAt: new Date(), invalidatedReason: sweep.reason },
      });
      metrics.devicesDeactivated.inc({ reason: sweep.reason }, result.count);
      return result.count;
    },
  };
}
