/** Names and types of the search attributes the order workflow upserts; the Temporal server must know them (registered by `npm start`, documented for clusters). */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword'> = {
  OrderId: 'Keyword',
  CustomerId: 'Keyword',
  OrderStatus: 'Keyword',
  NotificationState: 'Keyword',
};
