// The barrel the worker bundles: every workflow Herald runs.
export { orderNotificationWorkflow } from './order-notification';
export { staleDevicesWorkflow } from './stale-devices';
export { deadLetterReplayWorkflow } from './dead-letter-replay';
export { productAlertWorkflow } from './product-alert';
export { cartRemindersWorkflow } from './cart-reminders';
export { campaignWorkflow } from './campaign';
