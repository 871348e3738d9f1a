// The barrel the worker bundles: every workflow Herald runs.
export { orderNotificationWorkflow } from './order-notification';
export { staleDevicesWorkflow } from './stale-devices';
