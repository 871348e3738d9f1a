import { DEFAULT_CART_REMINDERS, DEFAULT_FREQUENCY_CAPS } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { TrackingSettings } from '../lib/tracking';
import { createCampaignActivities } from './campaigns';
import { createCartReminderActivities, type CartSettings } from './cart-reminders';
import { createDeadLetterActivities } from './dead-letters';
import { createDeviceActivities } from './devices';
import { createFrequencyCapActivities } from './frequency-caps';
import { createHoldActivities } from './holds';
import { createNotificationActivities } from './notifications';
import { createOrderSettingsActivities, type OrderSettings } from './order-settings';
import { createOrderStepActivities } from './order-steps';
import { createMessageDeliveryActivities } from './message-delivery';
import type { MessageProviders } from './providers/message-provider';
import type { PushProviders } from './providers/push-provider';
import { createProductAlertActivities } from './product-alerts';
import { createPushBatchActivities } from './push-batch';
import { createPushDeliveryActivities } from './push-delivery';
import { createRecipientActivities } from './recipient';
import { createRenderer } from './render';
import type { SendRate } from './send-rate';

export interface ActivityDependencies {
  db: Db;
  push: PushProviders;
  messages: MessageProviders;
  logger: Logger;
  /** Base URL providers call back on (Twilio status callbacks); null when they cannot reach this deployment. */
  statusCallbackBaseUrl?: string | null;
  /** Email open and click tracking (config.tracking); none: emails go untracked. */
  tracking?: TrackingSettings | null;
  /** How long the renderer keeps its choice of template, so a newly published version reaches new messages within it. */
  templateCacheMs: number;
  /** The settings order runs follow, from this worker's configuration (orderSettingsFrom). */
  orderSettings: OrderSettings;
  /** The settings cart runs follow (cartSettingsFrom); the built-in reminders and no caps when not given. */
  cartSettings?: CartSettings;
  /** This worker's share of the providers' rate limits; none: sends are not limited (tests of one workflow). */
  sendRate?: SendRate;
}

/** Every side effect the workflows may ask for, built around the dependencies they need. */
export function createActivities({ db, push, messages, logger, statusCallbackBaseUrl, tracking = null, templateCacheMs, orderSettings, cartSettings, sendRate }: ActivityDependencies) {
  const render = createRenderer(db, 'en', templateCacheMs);
  return {
    ...createOrderSettingsActivities(orderSettings),
    ...createRecipientActivities(db),
    ...createOrderStepActivities(db, render, { statusCallbackBaseUrl, tracking, experimentCacheMs: templateCacheMs }),
    ...createCartReminderActivities(db, render, cartSettings ?? { reminders: [...DEFAULT_CART_REMINDERS], frequencyCaps: [] }, { statusCallbackBaseUrl, tracking }),
    // The steps of order runs started before channel plans (workflows/legacy/).
    ...createNotificationActivities(db, render, { statusCallbackBaseUrl, tracking }),
    ...createHoldActivities(db, render, tracking),
    ...createFrequencyCapActivities(db),
    ...createPushDeliveryActivities(db, push, logger, sendRate),
    ...createPushBatchActivities(db, push, logger, sendRate),
    ...createMessageDeliveryActivities(db, messages, logger, sendRate),
    ...createDeviceActivities(db),
    ...createDeadLetterActivities(db),
    ...createProductAlertActivities(db, push, render, logger, orderSettings.frequencyCaps, sendRate),
    ...createCampaignActivities(db, push, messages, render, logger, { frequencyCaps: orderSettings.frequencyCaps ?? DEFAULT_FREQUENCY_CAPS, statusCallbackBaseUrl, tracking }, sendRate),
  };
}

export type Activities = ReturnType<typeof createActivities>;
