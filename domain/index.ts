// Domain types and rules shared by workflows, activities and the API. No Node built-ins, no Prisma.
export * from './order-status';
export * from './order-event';
export * from './delivery';
export * from './locale';
export * from './recipient';
export * from './escalation';
export * from './preferences';
export * from './quiet-hours';
export * from './frequency-caps';
export * from './failures';
export * from './channel-plans';
export * from './delivery-plan';
export * from './reasons';
export * from './receipts';
export * from './product-alerts';
export * from './cart';
