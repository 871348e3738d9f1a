import type { OrderStatus } from '../domain';

export interface DefaultTemplate {
  key: string;
  channel: 'push';
  locale: string;
  subject: string;
  body: string;
}

type Copy = Record<OrderStatus, { subject: string; body: string }>;

// Liquid: {{ orderId }}, {{ status }}, {{ customerName }} and the event's data ({{ trackingNumber }}, {{ carrier }}, {{ delayReason }}...).
const en: Copy = {
  confirmed: { subject: 'Order {{ orderId }} confirmed', body: 'Thanks{% if customerName %}, {{ customerName }}{% endif %}! We have received your order {{ orderId }}.' },
  payment_failed: { subject: 'Payment failed for order {{ orderId }}', body: 'We could not take payment for order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Please update your payment details.' },
  packed: { subject: 'Order {{ orderId }} is packed', body: 'Your order {{ orderId }} is packed and waiting for the carrier.' },
  shipped: { subject: 'Order {{ orderId }} has shipped', body: 'Your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Order {{ orderId }} is out for delivery', body: 'Your order {{ orderId }} arrives today{% if eta %} around {{ eta }}{% endif %}.' },
  delayed: { subject: 'Order {{ orderId }} is delayed', body: 'Sorry, your order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta }}.{% endif %}' },
  delivered: { subject: 'Order {{ orderId }} delivered', body: 'Your order {{ orderId }} has been delivered. Enjoy!' },
  cancelled: { subject: 'Order {{ orderId }} cancelled', body: 'Your order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.' },
  refunded: { subject: 'Refund for order {{ orderId }}', body: 'We have refunded {% if amount %}{{ amount }} for {% endif %}your order {{ orderId }}.' },
};

const fr: Copy = {
  confirmed: { subject: 'Commande {{ orderId }} confirmée', body: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Nous avons bien reçu votre commande {{ orderId }}.' },
  payment_failed: { subject: 'Échec du paiement de la commande {{ orderId }}', body: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.' },
  packed: { subject: 'Commande {{ orderId }} préparée', body: 'Votre commande {{ orderId }} est emballée et attend le transporteur.' },
  shipped: { subject: 'Commande {{ orderId }} expédiée', body: 'Votre commande {{ orderId }} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Commande {{ orderId }} en cours de livraison', body: 'Votre commande {{ orderId }} arrive aujourd’hui{% if eta %} vers {{ eta }}{% endif %}.' },
  delayed: { subject: 'Commande {{ orderId }} retardée', body: 'Désolés, votre commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta }}.{% endif %}' },
  delivered: { subject: 'Commande {{ orderId }} livrée', body: 'Votre commande {{ orderId }} a été livrée. Bonne journée !' },
  cancelled: { subject: 'Commande {{ orderId }} annulée', body: 'Votre commande {{ orderId }} a été annulée{% if reason %} : {{ reason }}{% endif %}.' },
  refunded: { subject: 'Remboursement de la commande {{ orderId }}', body: 'Nous avons remboursé {% if amount %}{{ amount }} pour {% endif %}votre commande {{ orderId }}.' },
};

export const DEFAULT_LOCALE = 'en';

export const DEFAULT_TEMPLATES: DefaultTemplate[] = Object.entries({ en, fr }).flatMap(([locale, copy]) =>
  Object.entries(copy).map(([status, text]) => ({ key: `order.${status}`, channel: 'push' as const, locale, ...text })),
);
