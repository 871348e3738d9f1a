import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createDeadLetterActivities } from './dead-letters';
import { createDeviceActivities } from './devices';
import { createNotificationActivities } from './notifications';
import type { PushProviders } from './providers/push-provider';
import { createPushDeliveryActivities } from './push-delivery';
import { createRecipientActivities } from './recipient';
import { createRenderer } from './render';

export interface ActivityDependencies {
  db: Db;
  push: PushProviders;
  logger: Logger;
}

/** Every side effect the workflows may ask for, built around the dependencies they need. */
export function createActivities({ db, push, logger }: ActivityDependencies) {
  return {
    ...createRecipientActivities(db),
    ...createNotificationActivities(db, createRenderer(db)),
    ...createPushDeliveryActivities(db, push, logger),
    ...createDeviceActivities(db),
    ...createDeadLetterActivities(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
