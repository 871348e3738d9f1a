import { ORDER_STATUSES, type OrderStatus } from '../domain';
import { CART_REMINDER_TEMPLATE_KEY, DIGEST_TEMPLATE_KEY, ITEM_RESTOCKED_TEMPLATE_KEY } from '../domain/template-variables';

export type TemplateChannel = 'push' | 'email' | 'sms' | 'inapp';

export interface DefaultTemplate {
  key: string;
  channel: TemplateChannel;
  locale: string;
  /** Push or in-app title, email subject, or a short label for SMS (the SMS itself is the body alone). */
  subject: string;
  /** Push text, in-app text, plain-text email part, or the SMS. */
  body: string;
  /** HTML email part; email only. */
  bodyHtml?: string;
  /** Push only, Liquid: where a tap leads (lib/push-content.ts); a link that renders empty is left out. */
  deepLink?: string;
  /** Push only, Liquid: the image shown with the push. */
  imageUrl?: string;
  /** Push only: the buttons (title and deepLink Liquid), shown by Web Push; APNs and Android show the ones the app declared under `actionCategory`. */
  actions?: Array<{ id: string; title: string; deepLink?: string }>;
  actionCategory?: string;
}

/**
 * The order statuses whose push opens the carrier's tracking page when the event gives `data.trackingUrl`
 * (every status whose variables include it: domain/template-variables.ts).
 */
export const TRACKING_LINK_STATUSES: readonly OrderStatus[] = ['partially_shipped', 'shipped', 'out_for_delivery', 'delivery_attempted'];
const TRACKING_LINK = '{{ trackingUrl }}';

interface TitledCopy {
  subject: string;
  body: string;
}

type Copy = Record<OrderStatus, TitledCopy>;

// Liquid: {{ orderId }}, {{ status }}, {{ customerName }} and the event's data ({{ trackingNumber }}, {{ carrier }}, {{ delayReason }}...);
// domain/template-variables.ts lists what each key may use. Dates and amounts go through Herald's filters
// (lib/liquid.ts), which show free text as given.
const en: Copy = {
  confirmed: { subject: 'Order {{ orderId }} confirmed', body: 'Thanks{% if customerName %}, {{ customerName }}{% endif %}! We have received your order {{ orderId }}.' },
  payment_failed: { subject: 'Payment failed for order {{ orderId }}', body: 'We could not take payment for order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Please update your payment details.' },
  backordered: { subject: 'Part of order {{ orderId }} is backordered', body: 'Some items in your order {{ orderId }} are out of stock{% if reason %} ({{ reason }}){% endif %}.{% if expectedDate %} Expected to ship: {{ expectedDate | local_date }}.{% endif %}' },
  packed: { subject: 'Order {{ orderId }} is packed', body: 'Your order {{ orderId }} is packed and waiting for the carrier.' },
  partially_shipped: { subject: 'Part of order {{ orderId }} has shipped', body: 'Part of your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}' },
  shipped: { subject: 'Order {{ orderId }} has shipped', body: 'Your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Order {{ orderId }} is out for delivery', body: 'Your order {{ orderId }} arrives today{% if eta %} around {{ eta | local_time }}{% endif %}.' },
  delivery_attempted: {
    subject: 'Missed delivery for order {{ orderId }}',
    body: '{% if carrier %}{{ carrier }}{% else %}The carrier{% endif %} could not deliver your order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Next attempt: {{ nextAttemptAt | datetime }}.{% elsif pickupLocation %} Your parcel waits at {{ pickupLocation }}.{% endif %}',
  },
  delayed: { subject: 'Order {{ orderId }} is delayed', body: 'Sorry, your order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta | local_date }}.{% endif %}{% if restockDate %} Back in stock: {{ restockDate | local_date }}.{% endif %}' },
  ready_for_pickup: { subject: 'Order {{ orderId }} is ready for pickup', body: 'Your order {{ orderId }} is ready to collect{% if pickupLocation %} at {{ pickupLocation }}{% endif %}.{% if pickupCode %} Pickup code: {{ pickupCode }}.{% endif %}' },
  delivered: { subject: 'Order {{ orderId }} delivered', body: 'Your order {{ orderId }} has been delivered. Enjoy!' },
  picked_up: { subject: 'Order {{ orderId }} collected', body: 'You have collected your order {{ orderId }}. Enjoy!' },
  cancelled: { subject: 'Order {{ orderId }} cancelled', body: 'Your order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.' },
  returned: { subject: 'Return started for order {{ orderId }}', body: 'We have registered your return for order {{ orderId }}.{% if returnBy %} Please send the items back by {{ returnBy | local_date }}.{% endif %}' },
  return_received: { subject: 'Return received for order {{ orderId }}', body: 'We have received your return for order {{ orderId }}.{% if amount %} We will refund {{ amount | money: currency }}.{% endif %}' },
  refunded: { subject: 'Refund for order {{ orderId }}', body: 'We have refunded {% if amount %}{{ amount | money: currency }} for {% endif %}your order {{ orderId }}.' },
};

const fr: Copy = {
  confirmed: { subject: 'Commande {{ orderId }} confirmée', body: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Nous avons bien reçu votre commande {{ orderId }}.' },
  payment_failed: { subject: 'Échec du paiement de la commande {{ orderId }}', body: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.' },
  backordered: { subject: 'Commande {{ orderId }} : articles en rupture de stock', body: 'Certains articles de votre commande {{ orderId }} sont en rupture de stock{% if reason %} ({{ reason }}){% endif %}.{% if expectedDate %} Expédition prévue : {{ expectedDate | local_date }}.{% endif %}' },
  packed: { subject: 'Commande {{ orderId }} préparée', body: 'Votre commande {{ orderId }} est emballée et attend le transporteur.' },
  partially_shipped: { subject: 'Commande {{ orderId }} expédiée en partie', body: 'Une partie de votre commande {{ orderId }} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}' },
  shipped: { subject: 'Commande {{ orderId }} expédiée', body: 'Votre commande {{ orderId }} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Commande {{ orderId }} en cours de livraison', body: 'Votre commande {{ orderId }} arrive aujourd’hui{% if eta %} vers {{ eta | local_time }}{% endif %}.' },
  delivery_attempted: {
    subject: 'Livraison manquée pour la commande {{ orderId }}',
    body: '{% if carrier %}{{ carrier }}{% else %}Le transporteur{% endif %} n’a pas pu livrer votre commande {{ orderId }}{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Nouvelle tentative : {{ nextAttemptAt | datetime }}.{% elsif pickupLocation %} Votre colis vous attend : {{ pickupLocation }}.{% endif %}',
  },
  delayed: { subject: 'Commande {{ orderId }} retardée', body: 'Désolés, votre commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta | local_date }}.{% endif %}{% if restockDate %} Retour en stock : {{ restockDate | local_date }}.{% endif %}' },
  ready_for_pickup: { subject: 'Commande {{ orderId }} prête à être retirée', body: 'Votre commande {{ orderId }} vous attend{% if pickupLocation %} : {{ pickupLocation }}{% endif %}.{% if pickupCode %} Code de retrait : {{ pickupCode }}.{% endif %}' },
  delivered: { subject: 'Commande {{ orderId }} livrée', body: 'Votre commande {{ orderId }} a été livrée. Bonne journée !' },
  picked_up: { subject: 'Commande {{ orderId }} retirée', body: 'Vous avez retiré votre commande {{ orderId }}. Bonne journée !' },
  cancelled: { subject: 'Commande {{ orderId }} annulée', body: 'Votre commande {{ orderId }} a été annulée{% if reason %} : {{ reason }}{% endif %}.' },
  returned: { subject: 'Retour enregistré pour la commande {{ orderId }}', body: 'Nous avons enregistré votre retour pour la commande {{ orderId }}.{% if returnBy %} Merci de renvoyer les articles avant le {{ returnBy | local_date }}.{% endif %}' },
  return_received: { subject: 'Retour reçu pour la commande {{ orderId }}', body: 'Nous avons bien reçu votre retour pour la commande {{ orderId }}.{% if amount %} Nous allons vous rembourser {{ amount | money: currency }}.{% endif %}' },
  refunded: { subject: 'Remboursement de la commande {{ orderId }}', body: 'Nous avons remboursé {% if amount %}{{ amount | money: currency }} pour {% endif %}votre commande {{ orderId }}.' },
};

// ---------------------------------------------------------------------------
// In-app inbox: the push title, and a body that says a little more (the details a push leaves out, and
// links written out), plain text, since the inbox shows what the customer can read back later.

/** "2 × Notebook, 1 × Fountain pen": the lines of `items`, inline. */
const inlineItems = '{% for item in items %}{{ item.quantity }} × {{ item.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}';

const enInapp: Copy = {
  confirmed: {
    subject: en.confirmed.subject,
    body:
      "Thanks{% if customerName %}, {{ customerName }}{% endif %}! We have received your order {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'item', 'items' }}{% if total %}, {{ total | money: currency }}{% endif %}){% elsif total %} ({{ total | money: currency }}){% endif %}." +
      '{% if eta %} Estimated delivery: {{ eta | local_date }}.{% endif %} We will let you know when it ships.',
  },
  payment_failed: {
    subject: en.payment_failed.subject,
    body: 'We could not take {% if amount %}{{ amount | money: currency }}{% else %}payment{% endif %} for order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Please update your payment details{% if paymentUrl %} at {{ paymentUrl }}{% endif %} so that we can process your order.',
  },
  backordered: {
    subject: en.backordered.subject,
    body: `Some items in your order {{ orderId }} are out of stock{% if reason %} ({{ reason }}){% endif %}{% if items.size > 0 %}: ${inlineItems}{% endif %}.{% if expectedDate %} Expected to ship: {{ expectedDate | local_date }}.{% endif %} We will let you know when they ship.`,
  },
  packed: {
    subject: en.packed.subject,
    body: "Your order {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'item', 'items' }}){% endif %} is packed and waiting for the carrier.{% if eta %} Estimated delivery: {{ eta | local_date }}.{% endif %}",
  },
  partially_shipped: {
    subject: en.partially_shipped.subject,
    body:
      "Part of your order {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'item', 'items' }}){% endif %} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}{% if eta %} Estimated delivery: {{ eta | local_date }}.{% endif %}" +
      "{% if remainingItemCount %} {{ remainingItemCount | pluralize: 'item', 'items' }} will follow{% if remainingEta %}, expected to ship {{ remainingEta | local_date }}{% endif %}.{% endif %}{% if trackingUrl %} Track it: {{ trackingUrl }}{% endif %}",
  },
  shipped: {
    subject: en.shipped.subject,
    body: 'Your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}{% if eta %} Estimated delivery: {{ eta | local_date }}.{% endif %}{% if trackingUrl %} Track it: {{ trackingUrl }}{% endif %}',
  },
  out_for_delivery: {
    subject: en.out_for_delivery.subject,
    body: 'Your order {{ orderId }} arrives today{% if eta %} around {{ eta | local_time }}{% endif %}{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}{% if trackingUrl %} Track it: {{ trackingUrl }}{% endif %}',
  },
  delivery_attempted: {
    subject: en.delivery_attempted.subject,
    body:
      '{% if carrier %}{{ carrier }}{% else %}The carrier{% endif %} tried to deliver your order {{ orderId }} but could not{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Next attempt: {{ nextAttemptAt | datetime }}.{% endif %}' +
      '{% if pickupLocation %} {% if nextAttemptAt %}You can also collect it{% else %}Collect it{% endif %} at {{ pickupLocation }}{% if pickupBy %} until {{ pickupBy | local_date }}{% endif %}.{% endif %}' +
      '{% if rescheduleUrl %} Choose another day: {{ rescheduleUrl }}{% elsif trackingUrl %} Track it: {{ trackingUrl }}{% endif %}',
  },
  delayed: {
    subject: en.delayed.subject,
    body:
      'Sorry, your order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimated delivery: {{ newEta | local_date }}.{% endif %}{% if restockDate %} Back in stock: {{ restockDate | local_date }}.{% endif %}' +
      '{% if trackingNumber %} Tracking number: {{ trackingNumber }}{% if carrier %} ({{ carrier }}){% endif %}.{% endif %} We apologise for the wait.',
  },
  ready_for_pickup: {
    subject: en.ready_for_pickup.subject,
    body: 'Your order {{ orderId }} is ready to collect{% if pickupLocation %} at {{ pickupLocation }}{% endif %}.{% if openingHours %} Opening hours: {{ openingHours }}.{% endif %}{% if pickupCode %} Show the code {{ pickupCode }} when you collect it.{% endif %}{% if pickupBy %} Please collect it by {{ pickupBy | local_date }}.{% endif %}',
  },
  delivered: {
    subject: en.delivered.subject,
    body: 'Your order {{ orderId }} was delivered{% if deliveredAt %} on {{ deliveredAt | datetime }}{% endif %}.{% if deliveryLocation %} Left at: {{ deliveryLocation }}.{% endif %} Enjoy!',
  },
  picked_up: {
    subject: en.picked_up.subject,
    body: 'You collected your order {{ orderId }}{% if pickedUpAt %} on {{ pickedUpAt | datetime }}{% endif %}{% if pickupLocation %} at {{ pickupLocation }}{% endif %}. Enjoy!',
  },
  cancelled: {
    subject: en.cancelled.subject,
    body: 'Your order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.{% if amount %} We are refunding {{ amount | money: currency }}; it may take a few business days to appear on your statement.{% endif %}',
  },
  returned: {
    subject: en.returned.subject,
    body: `We have registered your return for order {{ orderId }}{% if items.size > 0 %} (${inlineItems}){% endif %}.{% if returnBy %} Please send the items back by {{ returnBy | local_date }}.{% endif %}{% if returnLabelUrl %} Your return label: {{ returnLabelUrl }}{% endif %}`,
  },
  return_received: {
    subject: en.return_received.subject,
    body: 'We have received the items you returned from order {{ orderId }}{% if receivedAt %} on {{ receivedAt | local_date }}{% endif %}.{% if amount %} We will refund {{ amount | money: currency }} once they are checked.{% endif %}',
  },
  refunded: {
    subject: en.refunded.subject,
    body: 'We have refunded {% if amount %}{{ amount | money: currency }} for {% endif %}your order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. It may take a few business days to appear on your statement.',
  },
};

const frInapp: Copy = {
  confirmed: {
    subject: fr.confirmed.subject,
    body:
      "Merci{% if customerName %} {{ customerName }}{% endif %} ! Nous avons bien reçu votre commande {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'article', 'articles' }}{% if total %}, {{ total | money: currency }}{% endif %}){% elsif total %} ({{ total | money: currency }}){% endif %}." +
      '{% if eta %} Livraison prévue : {{ eta | local_date }}.{% endif %} Nous vous préviendrons dès son expédition.',
  },
  payment_failed: {
    subject: fr.payment_failed.subject,
    body: 'Nous n’avons pas pu prélever {% if amount %}{{ amount | money: currency }}{% else %}le paiement{% endif %} pour la commande {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement{% if paymentUrl %} sur {{ paymentUrl }}{% endif %} afin que nous puissions traiter votre commande.',
  },
  backordered: {
    subject: fr.backordered.subject,
    body: `Certains articles de votre commande {{ orderId }} sont en rupture de stock{% if reason %} ({{ reason }}){% endif %}{% if items.size > 0 %} : ${inlineItems}{% endif %}.{% if expectedDate %} Expédition prévue : {{ expectedDate | local_date }}.{% endif %} Nous vous préviendrons dès leur expédition.`,
  },
  packed: {
    subject: fr.packed.subject,
    body: "Votre commande {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'article', 'articles' }}){% endif %} est emballée et attend le transporteur.{% if eta %} Livraison prévue : {{ eta | local_date }}.{% endif %}",
  },
  partially_shipped: {
    subject: fr.partially_shipped.subject,
    body:
      "Une partie de votre commande {{ orderId }}{% if itemCount %} ({{ itemCount | pluralize: 'article', 'articles' }}){% endif %} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}{% if eta %} Livraison prévue : {{ eta | local_date }}.{% endif %}" +
      "{% if remainingItemCount %} Reste à expédier : {{ remainingItemCount | pluralize: 'article', 'articles' }}{% if remainingEta %}, prévu le {{ remainingEta | local_date }}{% endif %}.{% endif %}{% if trackingUrl %} Suivre le colis : {{ trackingUrl }}{% endif %}",
  },
  shipped: {
    subject: fr.shipped.subject,
    body: 'Votre commande {{ orderId }} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}{% if eta %} Livraison prévue : {{ eta | local_date }}.{% endif %}{% if trackingUrl %} Suivre le colis : {{ trackingUrl }}{% endif %}',
  },
  out_for_delivery: {
    subject: fr.out_for_delivery.subject,
    body: 'Votre commande {{ orderId }} arrive aujourd’hui{% if eta %} vers {{ eta | local_time }}{% endif %}{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}{% if trackingUrl %} Suivre le colis : {{ trackingUrl }}{% endif %}',
  },
  delivery_attempted: {
    subject: fr.delivery_attempted.subject,
    body:
      '{% if carrier %}{{ carrier }}{% else %}Le transporteur{% endif %} a tenté de livrer votre commande {{ orderId }}, sans succès{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Nouvelle tentative : {{ nextAttemptAt | datetime }}.{% endif %}' +
      '{% if pickupLocation %} {% if nextAttemptAt %}Vous pouvez aussi retirer votre colis{% else %}Retirez votre colis{% endif %} ici : {{ pickupLocation }}{% if pickupBy %}, jusqu’au {{ pickupBy | local_date }}{% endif %}.{% endif %}' +
      '{% if rescheduleUrl %} Choisir un autre jour : {{ rescheduleUrl }}{% elsif trackingUrl %} Suivre le colis : {{ trackingUrl }}{% endif %}',
  },
  delayed: {
    subject: fr.delayed.subject,
    body:
      'Désolés, votre commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle livraison prévue : {{ newEta | local_date }}.{% endif %}{% if restockDate %} Retour en stock : {{ restockDate | local_date }}.{% endif %}' +
      '{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}{% if carrier %} ({{ carrier }}){% endif %}.{% endif %} Merci de votre patience.',
  },
  ready_for_pickup: {
    subject: fr.ready_for_pickup.subject,
    body: 'Votre commande {{ orderId }} est prête à être retirée{% if pickupLocation %} : {{ pickupLocation }}{% endif %}.{% if openingHours %} Horaires : {{ openingHours }}.{% endif %}{% if pickupCode %} Présentez le code {{ pickupCode }} au retrait.{% endif %}{% if pickupBy %} À retirer avant le {{ pickupBy | local_date }}.{% endif %}',
  },
  delivered: {
    subject: fr.delivered.subject,
    body: 'Votre commande {{ orderId }} a été livrée{% if deliveredAt %} le {{ deliveredAt | datetime }}{% endif %}.{% if deliveryLocation %} Déposée : {{ deliveryLocation }}.{% endif %} Bonne journée !',
  },
  picked_up: {
    subject: fr.picked_up.subject,
    body: 'Vous avez retiré votre commande {{ orderId }}{% if pickedUpAt %} le {{ pickedUpAt | datetime }}{% endif %}{% if pickupLocation %} ({{ pickupLocation }}){% endif %}. Bonne journée !',
  },
  cancelled: {
    subject: fr.cancelled.subject,
    body: 'Votre commande {{ orderId }} a été annulée{% if reason %} : {{ reason }}{% endif %}.{% if amount %} Nous vous remboursons {{ amount | money: currency }} ; le remboursement peut prendre quelques jours ouvrés avant d’apparaître sur votre relevé.{% endif %}',
  },
  returned: {
    subject: fr.returned.subject,
    body: `Nous avons enregistré votre retour pour la commande {{ orderId }}{% if items.size > 0 %} (${inlineItems}){% endif %}.{% if returnBy %} Merci de renvoyer les articles avant le {{ returnBy | local_date }}.{% endif %}{% if returnLabelUrl %} Votre étiquette de retour : {{ returnLabelUrl }}{% endif %}`,
  },
  return_received: {
    subject: fr.return_received.subject,
    body: 'Nous avons bien reçu les articles retournés de la commande {{ orderId }}{% if receivedAt %} le {{ receivedAt | local_date }}{% endif %}.{% if amount %} Nous vous rembourserons {{ amount | money: currency }} après vérification.{% endif %}',
  },
  refunded: {
    subject: fr.refunded.subject,
    body: 'Nous avons remboursé {% if amount %}{{ amount | money: currency }} pour {% endif %}votre commande {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Le remboursement peut prendre quelques jours ouvrés avant d’apparaître sur votre relevé.',
  },
};

// ---------------------------------------------------------------------------
// Email: one copy table per locale; the plain-text and HTML parts are both built from it, so they
// always carry the same information. Copy is Liquid with no markup: the HTML part is rendered with
// output escaping, so variables are safe there, and literal text must not hold `&` or `<`.

interface EmailDetail {
  label: string;
  /** The variable whose presence shows the line. */
  when: string;
  /** Liquid for the value; defaults to `{{ <when> }}`. */
  value?: string;
  /** The variable is a URL: the HTML part links the label to it, the text part writes it out. */
  link?: boolean;
}

interface EmailCopy {
  /** First paragraph after the greeting. */
  lead: string;
  /** Labelled lines under the order number, each shown when its variable is present. */
  details: EmailDetail[];
  /**
   * `items` after the details: as a list of names and quantities under this heading, or (`receipt`)
   * as an order receipt, each line with its price, then the totals.
   */
  items?: { heading: string } | 'receipt';
  /** Closing paragraph. */
  next?: string;
  /** List the digest's `updates` after the lead. */
  updates?: boolean;
}

interface EmailChrome {
  lang: string;
  greeting: string;
  orderLabel: string;
  /** Between a label and its value (French typography puts a space before the colon). */
  colon: string;
  footer: string;
  receipt: { sku: string; each: string; subtotal: string; shipping: string; discount: string; tax: string; total: string };
}

const amountValue = '{{ amount | money: currency }}';
const dateValue = (variable: string) => `{{ ${variable} | local_date }}`;
const timeValue = (variable: string) => `{{ ${variable} | local_time }}`;
const dateTimeValue = (variable: string) => `{{ ${variable} | datetime }}`;
const countValue = (variable: string, one: string, other: string) => `{{ ${variable} | pluralize: '${one}', '${other}' }}`;

const enEmailChrome: EmailChrome = {
  lang: 'en',
  greeting: 'Hello{% if customerName %} {{ customerName }}{% endif %},',
  orderLabel: 'Order number',
  colon: ': ',
  footer: 'You are receiving this email because you placed order {{ orderId }}.',
  receipt: { sku: 'SKU', each: 'each', subtotal: 'Subtotal', shipping: 'Shipping', discount: 'Discount', tax: 'Tax', total: 'Total' },
};

const enTracking: EmailDetail[] = [
  { label: 'Carrier', when: 'carrier' },
  { label: 'Tracking number', when: 'trackingNumber' },
  { label: 'Track your parcel', when: 'trackingUrl', link: true },
];

const enEmail: Record<OrderStatus, EmailCopy> = {
  confirmed: {
    lead: 'Thank you for your order. We have received order {{ orderId }} and will let you know when it ships.',
    details: [
      { label: 'Items', when: 'itemCount', value: countValue('itemCount', 'item', 'items') },
      { label: 'Payment', when: 'paymentMethod' },
      { label: 'Delivery', when: 'shippingMethod' },
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
    ],
    items: 'receipt',
  },
  payment_failed: {
    lead: 'We could not take payment for your order {{ orderId }}.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Amount', when: 'amount', value: amountValue },
      { label: 'Update your payment details', when: 'paymentUrl', link: true },
    ],
    next: 'Please update your payment details so that we can process your order.',
  },
  backordered: {
    lead: 'Some items in your order {{ orderId }} are out of stock for now.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Expected to ship', when: 'expectedDate', value: dateValue('expectedDate') },
    ],
    items: { heading: 'Backordered items:' },
    next: 'We will ship them as soon as they are back in stock, and let you know when they are on their way.',
  },
  packed: {
    lead: 'Your order {{ orderId }} is packed and waiting for the carrier.',
    details: [
      { label: 'Items', when: 'itemCount', value: countValue('itemCount', 'item', 'items') },
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
    ],
    items: { heading: 'In your parcel:' },
  },
  partially_shipped: {
    lead: 'Part of your order {{ orderId }} is on its way. The rest will follow in another parcel.',
    details: [
      { label: 'Items in this parcel', when: 'itemCount', value: countValue('itemCount', 'item', 'items') },
      ...enTracking,
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
      { label: 'Still to ship', when: 'remainingItemCount', value: countValue('remainingItemCount', 'item', 'items') },
      { label: 'Expected to ship', when: 'remainingEta', value: dateValue('remainingEta') },
    ],
    items: { heading: 'In this parcel:' },
  },
  shipped: {
    lead: 'Good news: your order {{ orderId }} is on its way.',
    details: [...enTracking, { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') }],
  },
  out_for_delivery: {
    lead: 'Your order {{ orderId }} is out for delivery and arrives today.',
    details: [{ label: 'Expected around', when: 'eta', value: timeValue('eta') }, ...enTracking],
  },
  delivery_attempted: {
    lead: '{% if carrier %}{{ carrier }}{% else %}The carrier{% endif %} tried to deliver your order {{ orderId }} but could not.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Next attempt', when: 'nextAttemptAt', value: dateTimeValue('nextAttemptAt') },
      { label: 'Your parcel waits at', when: 'pickupLocation' },
      { label: 'Collect it by', when: 'pickupBy', value: dateValue('pickupBy') },
      { label: 'Choose another delivery day', when: 'rescheduleUrl', link: true },
      ...enTracking,
    ],
  },
  delayed: {
    lead: 'Sorry, your order {{ orderId }} is delayed.',
    details: [
      { label: 'Reason', when: 'delayReason' },
      { label: 'New estimated delivery', when: 'newEta', value: dateValue('newEta') },
      { label: 'Back in stock', when: 'restockDate', value: dateValue('restockDate') },
      { label: 'Carrier', when: 'carrier' },
      { label: 'Tracking number', when: 'trackingNumber' },
    ],
    next: 'We apologise for the wait.',
  },
  ready_for_pickup: {
    lead: 'Your order {{ orderId }} is ready to collect.',
    details: [
      { label: 'Pickup point', when: 'pickupLocation' },
      { label: 'Pickup code', when: 'pickupCode' },
      { label: 'Opening hours', when: 'openingHours' },
      { label: 'Collect it by', when: 'pickupBy', value: dateValue('pickupBy') },
    ],
    next: 'Please bring this email or your pickup code when you collect your order.',
  },
  delivered: {
    lead: 'Your order {{ orderId }} has been delivered. Enjoy!',
    details: [
      { label: 'Delivered', when: 'deliveredAt', value: dateTimeValue('deliveredAt') },
      { label: 'Left at', when: 'deliveryLocation' },
    ],
  },
  picked_up: {
    lead: 'You have collected your order {{ orderId }}. Enjoy!',
    details: [
      { label: 'Collected', when: 'pickedUpAt', value: dateTimeValue('pickedUpAt') },
      { label: 'Pickup point', when: 'pickupLocation' },
    ],
  },
  cancelled: {
    lead: 'Your order {{ orderId }} has been cancelled.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Refund', when: 'amount', value: amountValue },
    ],
  },
  returned: {
    lead: 'We have registered your return for order {{ orderId }}.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Send the items back by', when: 'returnBy', value: dateValue('returnBy') },
      { label: 'Download your return label', when: 'returnLabelUrl', link: true },
    ],
    items: { heading: 'Items to return:' },
    next: 'We will let you know when we receive them.',
  },
  return_received: {
    lead: 'We have received the items you returned from order {{ orderId }}.',
    details: [
      { label: 'Received', when: 'receivedAt', value: dateTimeValue('receivedAt') },
      { label: 'Expected refund', when: 'amount', value: amountValue },
    ],
    items: { heading: 'Items received:' },
    next: 'We will let you know when your refund is on its way.',
  },
  refunded: {
    lead: 'We have refunded your order {{ orderId }}.',
    details: [
      { label: 'Amount refunded', when: 'amount', value: amountValue },
      { label: 'Reason', when: 'reason' },
    ],
    next: 'The refund may take a few business days to appear on your statement.',
  },
};

const frEmailChrome: EmailChrome = {
  lang: 'fr',
  greeting: 'Bonjour{% if customerName %} {{ customerName }}{% endif %},',
  orderLabel: 'Numéro de commande',
  colon: ' : ',
  footer: 'Vous recevez cet e-mail car vous avez passé la commande {{ orderId }}.',
  receipt: { sku: 'réf.', each: 'l’unité', subtotal: 'Sous-total', shipping: 'Frais de livraison', discount: 'Remise', tax: 'Taxes', total: 'Total' },
};

const frTracking: EmailDetail[] = [
  { label: 'Transporteur', when: 'carrier' },
  { label: 'Numéro de suivi', when: 'trackingNumber' },
  { label: 'Suivre votre colis', when: 'trackingUrl', link: true },
];

const frEmail: Record<OrderStatus, EmailCopy> = {
  confirmed: {
    lead: 'Merci pour votre commande. Nous avons bien reçu la commande {{ orderId }} et vous préviendrons dès son expédition.',
    details: [
      { label: 'Articles', when: 'itemCount', value: countValue('itemCount', 'article', 'articles') },
      { label: 'Paiement', when: 'paymentMethod' },
      { label: 'Mode de livraison', when: 'shippingMethod' },
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
    ],
    items: 'receipt',
  },
  payment_failed: {
    lead: 'Le paiement de votre commande {{ orderId }} a échoué.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Montant', when: 'amount', value: amountValue },
      { label: 'Mettre à jour vos informations de paiement', when: 'paymentUrl', link: true },
    ],
    next: 'Merci de mettre à jour vos informations de paiement afin que nous puissions traiter votre commande.',
  },
  backordered: {
    lead: 'Certains articles de votre commande {{ orderId }} sont en rupture de stock pour le moment.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Expédition prévue', when: 'expectedDate', value: dateValue('expectedDate') },
    ],
    items: { heading: 'Articles en rupture de stock :' },
    next: 'Nous les expédierons dès leur retour en stock et vous préviendrons de leur envoi.',
  },
  packed: {
    lead: 'Votre commande {{ orderId }} est emballée et attend le transporteur.',
    details: [
      { label: 'Articles', when: 'itemCount', value: countValue('itemCount', 'article', 'articles') },
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
    ],
    items: { heading: 'Dans votre colis :' },
  },
  partially_shipped: {
    lead: 'Une partie de votre commande {{ orderId }} est en route. Le reste suivra dans un autre colis.',
    details: [
      { label: 'Articles dans ce colis', when: 'itemCount', value: countValue('itemCount', 'article', 'articles') },
      ...frTracking,
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
      { label: 'Reste à expédier', when: 'remainingItemCount', value: countValue('remainingItemCount', 'article', 'articles') },
      { label: 'Expédition prévue du reste', when: 'remainingEta', value: dateValue('remainingEta') },
    ],
    items: { heading: 'Dans ce colis :' },
  },
  shipped: {
    lead: 'Bonne nouvelle : votre commande {{ orderId }} est en route.',
    details: [...frTracking, { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') }],
  },
  out_for_delivery: {
    lead: 'Votre commande {{ orderId }} est en cours de livraison et arrive aujourd’hui.',
    details: [{ label: 'Arrivée prévue vers', when: 'eta', value: timeValue('eta') }, ...frTracking],
  },
  delivery_attempted: {
    lead: '{% if carrier %}{{ carrier }}{% else %}Le transporteur{% endif %} a tenté de livrer votre commande {{ orderId }}, sans succès.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Nouvelle tentative', when: 'nextAttemptAt', value: dateTimeValue('nextAttemptAt') },
      { label: 'Votre colis vous attend', when: 'pickupLocation' },
      { label: 'Date limite de retrait', when: 'pickupBy', value: dateValue('pickupBy') },
      { label: 'Choisir un autre jour de livraison', when: 'rescheduleUrl', link: true },
      ...frTracking,
    ],
  },
  delayed: {
    lead: 'Désolés, votre commande {{ orderId }} est retardée.',
    details: [
      { label: 'Motif', when: 'delayReason' },
      { label: 'Nouvelle livraison prévue', when: 'newEta', value: dateValue('newEta') },
      { label: 'Retour en stock prévu', when: 'restockDate', value: dateValue('restockDate') },
      { label: 'Transporteur', when: 'carrier' },
      { label: 'Numéro de suivi', when: 'trackingNumber' },
    ],
    next: 'Merci de votre patience.',
  },
  ready_for_pickup: {
    lead: 'Votre commande {{ orderId }} est prête à être retirée.',
    details: [
      { label: 'Point de retrait', when: 'pickupLocation' },
      { label: 'Code de retrait', when: 'pickupCode' },
      { label: 'Horaires', when: 'openingHours' },
      { label: 'Date limite de retrait', when: 'pickupBy', value: dateValue('pickupBy') },
    ],
    next: 'Présentez cet e-mail ou votre code de retrait pour récupérer votre commande.',
  },
  delivered: {
    lead: 'Votre commande {{ orderId }} a été livrée. Bonne journée !',
    details: [
      { label: 'Livrée le', when: 'deliveredAt', value: dateTimeValue('deliveredAt') },
      { label: 'Déposée', when: 'deliveryLocation' },
    ],
  },
  picked_up: {
    lead: 'Vous avez retiré votre commande {{ orderId }}. Bonne journée !',
    details: [
      { label: 'Retirée le', when: 'pickedUpAt', value: dateTimeValue('pickedUpAt') },
      { label: 'Point de retrait', when: 'pickupLocation' },
    ],
  },
  cancelled: {
    lead: 'Votre commande {{ orderId }} a été annulée.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Remboursement', when: 'amount', value: amountValue },
    ],
  },
  returned: {
    lead: 'Nous avons enregistré votre retour pour la commande {{ orderId }}.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Date limite de renvoi', when: 'returnBy', value: dateValue('returnBy') },
      { label: 'Télécharger votre étiquette de retour', when: 'returnLabelUrl', link: true },
    ],
    items: { heading: 'Articles à retourner :' },
    next: 'Nous vous préviendrons dès leur réception.',
  },
  return_received: {
    lead: 'Nous avons bien reçu les articles retournés de la commande {{ orderId }}.',
    details: [
      { label: 'Reçus le', when: 'receivedAt', value: dateTimeValue('receivedAt') },
      { label: 'Remboursement prévu', when: 'amount', value: amountValue },
    ],
    items: { heading: 'Articles reçus :' },
    next: 'Nous vous préviendrons dès que le remboursement sera effectué.',
  },
  refunded: {
    lead: 'Nous avons remboursé votre commande {{ orderId }}.',
    details: [
      { label: 'Montant remboursé', when: 'amount', value: amountValue },
      { label: 'Motif', when: 'reason' },
    ],
    next: 'Le remboursement peut prendre quelques jours ouvrés avant d’apparaître sur votre relevé.',
  },
};

const valueOf = (d: EmailDetail) => d.value ?? `{{ ${d.when} }}`;

// An order line and the receipt's totals, shared by both parts. Quantities default to 1; the line's
// price is its unit price times its quantity.
const quantityOfItem = '{% assign quantity = item.quantity | default: 1 %}';
const itemLabel = (chrome: EmailChrome) => `{{ quantity }} × {{ item.name }}{% if item.sku %} (${chrome.receipt.sku} {{ item.sku }}){% endif %}`;
const lineTotal = '{{ item.unitPrice | times: quantity | money: currency }}';
const unitPrice = (chrome: EmailChrome) => `{{ item.unitPrice | money: currency }} ${chrome.receipt.each}`;
// A discount is shown taken off, whichever sign the OMS gives it, and not at all when it is zero.
const discountAmount = '{% assign discountAmount = discount | abs %}';
const totals = (chrome: EmailChrome): Array<{ label: string; when: string; value: string }> => [
  { label: chrome.receipt.subtotal, when: 'subtotal', value: '{{ subtotal | money: currency }}' },
  { label: chrome.receipt.shipping, when: 'shipping', value: '{{ shipping | money: currency }}' },
  { label: chrome.receipt.discount, when: 'discountAmount > 0', value: '{{ discountAmount | times: -1 | money: currency }}' },
  { label: chrome.receipt.tax, when: 'tax', value: '{{ tax | money: currency }}' },
  { label: chrome.receipt.total, when: 'total', value: '{{ total | money: currency }}' },
];
const anyTotal = 'subtotal or shipping or discountAmount > 0 or tax or total';

function itemsText(chrome: EmailChrome, items: EmailCopy['items']): string {
  if (!items) return '';
  if (items !== 'receipt') {
    return `{% if items.size > 0 %}\n\n${items.heading}{% for item in items %}${quantityOfItem}\n- ${itemLabel(chrome)}{% endfor %}{% endif %}`;
  }
  const lines =
    `{% if items.size > 0 %}\n{% for item in items %}${quantityOfItem}\n- ${itemLabel(chrome)}` +
    `{% if item.unitPrice %}${chrome.colon}${lineTotal}{% if quantity > 1 %} (${unitPrice(chrome)}){% endif %}{% endif %}{% endfor %}{% endif %}`;
  const sums = totals(chrome).map((t) => `{% if ${t.when} %}\n${t.label}${chrome.colon}${t.value}{% endif %}`).join('');
  return `${lines}${discountAmount}{% if ${anyTotal} %}\n{% endif %}${sums}`;
}

function emailText(chrome: EmailChrome, copy: EmailCopy): string {
  // Each optional line starts inside its `if`, so an absent value leaves no blank line.
  const details = copy.details.map((d) => `{% if ${d.when} %}\n${d.label}${chrome.colon}${valueOf(d)}{% endif %}`).join('');
  return [
    chrome.greeting,
    '',
    copy.lead,
    ...(copy.updates ? ["{% for update in updates %}\n- {{ update.title }} ({{ update.occurredAt | datetime: 'short' }})\n  {{ update.body }}{% endfor %}"] : []),
    '',
    `${chrome.orderLabel}${chrome.colon}{{ orderId }}${details}${itemsText(chrome, copy.items)}`,
    ...(copy.next ? ['', copy.next] : []),
    '',
    '--',
    chrome.footer,
  ].join('\n');
}

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const MUTED = 'color:#71717a;';
const LINK = 'color:#2563eb;font-weight:bold;';
const CELL = 'padding:8px 0;border-bottom:1px solid #e4e4e7;vertical-align:top;';
const AMOUNT_CELL = 'padding:8px 0 8px 16px;border-bottom:1px solid #e4e4e7;vertical-align:top;text-align:right;white-space:nowrap;';
const TOTAL_CELL = 'padding:4px 0;';
const TOTAL_AMOUNT_CELL = 'padding:4px 0 4px 16px;text-align:right;white-space:nowrap;';

/**
 * A URL detail in the HTML part: the label, linked. Only http(s) URLs become links (an OMS field is
 * data, and a `javascript:` href must not be one click away); anything else is shown as text.
 */
function htmlLink(chrome: EmailChrome, d: EmailDetail): string {
  return (
    `{% assign linkScheme = ${d.when} | slice: 0, 4 | downcase %}{% if linkScheme == 'http' %}` +
    `<a href="{{ ${d.when} }}" style="${LINK}">${d.label}</a>{% else %}${d.label}${chrome.colon}<strong>{{ ${d.when} }}</strong>{% endif %}`
  );
}

function itemsHtml(chrome: EmailChrome, items: EmailCopy['items']): string[] {
  if (!items) return [];
  if (items !== 'receipt') {
    return [
      `{% if items.size > 0 %}<p style="margin:0 0 8px;"><strong>${items.heading}</strong></p>` +
        '<ul style="margin:0 0 16px;padding-left:20px;">{% for item in items %}' +
        `${quantityOfItem}<li style="margin:0 0 4px;">${itemLabel(chrome)}</li>{% endfor %}</ul>{% endif %}`,
    ];
  }
  const row = (label: string, value: string, strong: boolean) =>
    `<tr><td style="${TOTAL_CELL}${strong ? 'font-weight:bold;' : ''}">${label}</td><td style="${TOTAL_AMOUNT_CELL}${strong ? 'font-weight:bold;' : ''}">${value}</td></tr>`;
  const lines =
    '{% for item in items %}' +
    quantityOfItem +
    `<tr><td style="${CELL}">{{ quantity }} × {{ item.name }}{% if item.sku %}<br><span style="font-size:13px;${MUTED}">${chrome.receipt.sku} {{ item.sku }}</span>{% endif %}</td>` +
    `<td style="${AMOUNT_CELL}">{% if item.unitPrice %}${lineTotal}{% if quantity > 1 %}<br><span style="font-size:13px;${MUTED}">${unitPrice(chrome)}</span>{% endif %}{% endif %}</td></tr>` +
    '{% endfor %}';
  const sums = totals(chrome)
    .map((t) => `{% if ${t.when} %}${row(t.label, t.value, t.when === 'total')}{% endif %}`)
    .join('');
  return [
    `${discountAmount}{% if items.size > 0 or ${anyTotal} %}` +
      '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="width:100%;border-collapse:collapse;margin:0 0 16px;">' +
      `${lines}${sums}</table>{% endif %}`,
  ];
}

function emailHtml(chrome: EmailChrome, subject: string, copy: EmailCopy): string {
  const line = (label: string, value: string) => `${label}${chrome.colon}<strong>${value}</strong>`;
  const details = copy.details.map((d) => `{% if ${d.when} %}<br>${d.link ? htmlLink(chrome, d) : line(d.label, valueOf(d))}{% endif %}`).join('');
  return [
    '<!DOCTYPE html>',
    `<html lang="${chrome.lang}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${subject}</title></head>`,
    '<body style="margin:0;padding:0;background-color:#f4f4f5;">',
    `<div style="max-width:560px;margin:0 auto;padding:24px 16px;${FONT};font-size:16px;line-height:1.5;color:#18181b;">`,
    '<div style="background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;padding:24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3;">${subject}</h1>`,
    `<p style="margin:0 0 16px;">${chrome.greeting}</p>`,
    `<p style="margin:0 0 16px;">${copy.lead}</p>`,
    ...(copy.updates
      ? [
          '<ul style="margin:0 0 16px;padding-left:20px;">{% for update in updates %}' +
            `<li style="margin:0 0 8px;"><strong>{{ update.title }}</strong> <span style="${MUTED}">{{ update.occurredAt | datetime: 'short' }}</span><br>{{ update.body }}</li>` +
            '{% endfor %}</ul>',
        ]
      : []),
    `<p style="margin:0 0 16px;padding:12px 16px;background-color:#f4f4f5;border-radius:6px;">${line(chrome.orderLabel, '{{ orderId }}')}${details}</p>`,
    ...itemsHtml(chrome, copy.items),
    ...(copy.next ? [`<p style="margin:0 0 16px;">${copy.next}</p>`] : []),
    '</div>',
    `<p style="margin:16px 0 0;font-size:12px;${MUTED}text-align:center;">${chrome.footer}</p>`,
    '</div>',
    '</body>',
    '</html>',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// SMS: one GSM-7 segment (160 characters) with typical data. The copy keeps to the GSM-7 alphabet
// (straight apostrophes, no ê/ç/’, no accented capitals but É), since one other character makes it
// UCS-2 with 70 per segment. Links come last, with no full stop after them. A failed delivery names
// the next attempt, or else where to collect the parcel: both would not fit.

const enSms: Record<OrderStatus, string> = {
  confirmed: 'Thanks{% if customerName %} {{ customerName }}{% endif %}! Order {{ orderId }} is confirmed.',
  payment_failed: 'Payment for order {{ orderId }} failed{% if reason %} ({{ reason }}){% endif %}. Please update your payment details.',
  backordered: "Sorry, part of order {{ orderId }} is backordered{% if reason %} ({{ reason }}){% endif %}.{% if expectedDate %} Expected to ship: {{ expectedDate | local_date: 'short' }}.{% endif %}",
  packed: 'Order {{ orderId }} is packed and waiting for the carrier.',
  partially_shipped:
    "Part of order {{ orderId }} has shipped{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking: {{ trackingNumber }}.{% endif %}{% if remainingItemCount %} {{ remainingItemCount | pluralize: 'item', 'items' }} to follow.{% endif %}",
  shipped: "Order {{ orderId }} has shipped{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking: {{ trackingNumber }}.{% endif %}{% if eta %} ETA: {{ eta | local_date: 'short' }}.{% endif %}",
  out_for_delivery: 'Order {{ orderId }} is out for delivery and arrives today{% if eta %} around {{ eta | local_time }}{% endif %}.',
  delivery_attempted:
    "{% if carrier %}{{ carrier }}{% else %}The carrier{% endif %} could not deliver order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Next try: {{ nextAttemptAt | local_date: 'short' }}." +
    "{% elsif pickupLocation %} Collect it at {{ pickupLocation }}{% if pickupBy %} by {{ pickupBy | local_date: 'short' }}{% endif %}.{% endif %}",
  delayed: "Sorry, order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta | local_date: 'short' }}.{% endif %}{% if restockDate %} Back in stock: {{ restockDate | local_date: 'short' }}.{% endif %}",
  ready_for_pickup:
    "Order {{ orderId }} is ready for pickup{% if pickupLocation %} at {{ pickupLocation }}{% endif %}.{% if pickupCode %} Code: {{ pickupCode }}.{% endif %}{% if pickupBy %} Collect by {{ pickupBy | local_date: 'short' }}.{% endif %}",
  delivered: 'Order {{ orderId }} has been delivered. Enjoy!',
  picked_up: 'You have collected order {{ orderId }}. Enjoy!',
  cancelled: 'Order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.',
  returned: "Return for order {{ orderId }} registered.{% if returnBy %} Please send it back by {{ returnBy | local_date: 'short' }}.{% endif %}{% if returnLabelUrl %} Label: {{ returnLabelUrl }}{% endif %}",
  return_received: 'We have received your return for order {{ orderId }}.{% if amount %} Refund to come: ' + amountValue + '.{% endif %}',
  refunded: 'We have refunded {% if amount %}' + amountValue + ' for {% endif %}order {{ orderId }}.',
};

const frSms: Record<OrderStatus, string> = {
  confirmed: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Commande {{ orderId }} confirmée.',
  payment_failed: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.',
  backordered: "Désolés, une partie de la commande {{ orderId }} est en rupture de stock{% if reason %} ({{ reason }}){% endif %}.{% if expectedDate %} Expédition prévue : {{ expectedDate | local_date: 'short' }}.{% endif %}",
  packed: 'Commande {{ orderId }} emballée, elle attend le transporteur.',
  partially_shipped:
    "Une partie de la commande {{ orderId }} est expédiée{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Suivi : {{ trackingNumber }}.{% endif %}{% if remainingItemCount %} Reste à venir : {{ remainingItemCount | pluralize: 'article', 'articles' }}.{% endif %}",
  shipped: "Commande {{ orderId }} expédiée{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Suivi : {{ trackingNumber }}.{% endif %}{% if eta %} Livraison prévue : {{ eta | local_date: 'short' }}.{% endif %}",
  out_for_delivery: "Commande {{ orderId }} en cours de livraison, arrivée aujourd'hui{% if eta %} vers {{ eta | local_time }}{% endif %}.",
  delivery_attempted:
    "{% if carrier %}{{ carrier }}{% else %}Le transporteur{% endif %} n'a pas pu livrer la commande {{ orderId }}{% if reason %} ({{ reason }}){% endif %}.{% if nextAttemptAt %} Nouveau passage : {{ nextAttemptAt | local_date: 'short' }}." +
    "{% elsif pickupLocation %} Retrait : {{ pickupLocation }}{% if pickupBy %} jusqu'au {{ pickupBy | local_date: 'short' }}{% endif %}.{% endif %}",
  delayed: "Désolés, la commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta | local_date: 'short' }}.{% endif %}{% if restockDate %} Retour en stock : {{ restockDate | local_date: 'short' }}.{% endif %}",
  ready_for_pickup:
    "Commande {{ orderId }} disponible au retrait{% if pickupLocation %} : {{ pickupLocation }}{% endif %}.{% if pickupCode %} Code : {{ pickupCode }}.{% endif %}{% if pickupBy %} Retrait jusqu'au {{ pickupBy | local_date: 'short' }}.{% endif %}",
  delivered: 'Commande {{ orderId }} livrée. Bonne journée !',
  picked_up: 'Commande {{ orderId }} retirée. Bonne journée !',
  cancelled: 'Commande {{ orderId }} annulée{% if reason %} : {{ reason }}{% endif %}.',
  returned: "Retour de la commande {{ orderId }} enregistré.{% if returnBy %} Renvoi avant le {{ returnBy | local_date: 'short' }}.{% endif %}{% if returnLabelUrl %} Étiquette : {{ returnLabelUrl }}{% endif %}",
  return_received: 'Retour de la commande {{ orderId }} réceptionné.{% if amount %} Remboursement à venir : ' + amountValue + '.{% endif %}',
  refunded: 'Nous avons remboursé {% if amount %}' + amountValue + ' pour {% endif %}la commande {{ orderId }}.',
};

// ---------------------------------------------------------------------------
// Digest (order.digest): routine updates of one order merged into one message. `updates` lists them,
// oldest first, each with the push title and body it would have had on its own.

interface DigestCopy {
  push: TitledCopy;
  inapp: TitledCopy;
  email: EmailCopy;
  sms: string;
  /** The push's deep link (Liquid). */
  pushLink?: string;
}

/** Liquid that names an update's status in words (an unknown status shows as it is). */
const statusWords = (words: Record<OrderStatus, string>) =>
  `{% case update.status %}${Object.entries(words).map(([status, word]) => `{% when '${status}' %}${word}`).join('')}{% else %}{{ update.status }}{% endcase %}`;

const listed = (item: string, separator: string) => `{% for update in updates %}${item}{% unless forloop.last %}${separator}{% endunless %}{% endfor %}`;

const enDigestSubject = "Order {{ orderId }}: {{ updates | size | pluralize: 'update', 'updates' }}";

const enDigest: DigestCopy = {
  push: { subject: enDigestSubject, body: listed('{{ update.body }}', ' ') },
  // The inbox keeps one line per update, with its time.
  inapp: { subject: enDigestSubject, body: listed("{{ update.occurredAt | datetime: 'short' }}: {{ update.body }}", '\n') },
  email: { lead: 'Here is what happened with your order {{ orderId }}:', details: [], updates: true },
  sms:
    'Order {{ orderId }}: ' +
    listed(
      statusWords({
        confirmed: 'confirmed',
        payment_failed: 'payment failed',
        backordered: 'backordered',
        packed: 'packed',
        partially_shipped: 'partly shipped',
        shipped: 'shipped',
        out_for_delivery: 'out for delivery',
        delivery_attempted: 'delivery attempted',
        delayed: 'delayed',
        ready_for_pickup: 'ready for pickup',
        delivered: 'delivered',
        picked_up: 'collected',
        cancelled: 'cancelled',
        returned: 'return started',
        return_received: 'return received',
        refunded: 'refunded',
      }),
      ', ',
    ) +
    '.',
};

const frDigestSubject = "Commande {{ orderId }} : {{ updates | size | pluralize: 'mise à jour', 'mises à jour' }}";

const frDigest: DigestCopy = {
  push: { subject: frDigestSubject, body: listed('{{ update.body }}', ' ') },
  inapp: { subject: frDigestSubject, body: listed("{{ update.occurredAt | datetime: 'short' }} : {{ update.body }}", '\n') },
  email: { lead: 'Voici les dernières nouvelles de votre commande {{ orderId }} :', details: [], updates: true },
  sms:
    'Commande {{ orderId }} : ' +
    listed(
      statusWords({
        confirmed: 'confirmée',
        payment_failed: 'paiement refusé',
        backordered: 'en rupture de stock',
        packed: 'préparée',
        partially_shipped: 'expédiée en partie',
        shipped: 'expédiée',
        out_for_delivery: 'en cours de livraison',
        delivery_attempted: 'livraison manquée',
        delayed: 'retardée',
        ready_for_pickup: 'disponible au retrait',
        delivered: 'livrée',
        picked_up: 'retirée',
        cancelled: 'annulée',
        returned: 'retour enregistré',
        return_received: 'retour réceptionné',
        refunded: 'remboursée',
      }),
      ', ',
    ) +
    '.',
};

// ---------------------------------------------------------------------------
// The cart reminder (marketing, topic cart-reminders): the items as the cart's last update left them,
// their pictures and links in the HTML part (http(s) only, as for the order emails), and the recovery link.

interface CartCopy {
  push: TitledCopy;
  inapp: TitledCopy;
  email: { subject: string; lead: string; each: string; total: string; cta: string; footer: string; greeting: string; lang: string };
  sms: string;
}

const cartItemLine = '{{ item.quantity }} × {{ item.name }}';
const cartLinePrice = '{{ item.unitPrice | times: item.quantity | money: currency }}';
const httpOnly = (variable: string, link: string, otherwise = '') =>
  `{% assign linkScheme = ${variable} | slice: 0, 4 | downcase %}{% if linkScheme == 'http' %}${link}{% else %}${otherwise}{% endif %}`;

function cartEmailText(c: CartCopy['email']): string {
  return [
    c.greeting,
    '',
    c.lead,
    `{% for item in items %}\n- ${cartItemLine}{% if item.unitPrice %}: ${cartLinePrice}{% endif %}{% if item.url %}\n  {{ item.url }}{% endif %}{% endfor %}`,
    '',
    `{% if total %}${c.total}: {{ total | money: currency }}{% endif %}`,
    `{% if recoveryUrl %}\n${c.cta}: {{ recoveryUrl }}{% endif %}`,
    '',
    '--',
    c.footer,
  ].join('\n');
}

function cartEmailHtml(c: CartCopy['email']): string {
  const image = httpOnly('item.imageUrl', `<img src="{{ item.imageUrl }}" alt="{{ item.name }}" width="64" height="64" style="display:block;width:64px;height:64px;object-fit:cover;border-radius:4px;">`);
  const name = httpOnly('item.url', `<a href="{{ item.url }}" style="${LINK}">{{ item.name }}</a>`, '{{ item.name }}');
  const rows =
    '{% for item in items %}' +
    `<tr><td style="${CELL}width:72px;">{% if item.imageUrl %}${image}{% endif %}</td>` +
    `<td style="${CELL}">{{ item.quantity }} × {% if item.url %}${name}{% else %}{{ item.name }}{% endif %}</td>` +
    `<td style="${AMOUNT_CELL}">{% if item.unitPrice %}${cartLinePrice}{% if item.quantity > 1 %}<br><span style="font-size:13px;${MUTED}">{{ item.unitPrice | money: currency }} ${c.each}</span>{% endif %}{% endif %}</td></tr>` +
    '{% endfor %}' +
    `{% if total %}<tr><td></td><td style="${TOTAL_CELL}font-weight:bold;">${c.total}</td><td style="${TOTAL_AMOUNT_CELL}font-weight:bold;">{{ total | money: currency }}</td></tr>{% endif %}`;
  const button = httpOnly(
    'recoveryUrl',
    `<p style="margin:0 0 16px;"><a href="{{ recoveryUrl }}" style="display:inline-block;padding:10px 18px;background-color:#2563eb;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:bold;">${c.cta}</a></p>`,
  );
  return [
    '<!DOCTYPE html>',
    `<html lang="${c.lang}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${c.subject}</title></head>`,
    '<body style="margin:0;padding:0;background-color:#f4f4f5;">',
    `<div style="max-width:560px;margin:0 auto;padding:24px 16px;${FONT};font-size:16px;line-height:1.5;color:#18181b;">`,
    '<div style="background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;padding:24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3;">${c.subject}</h1>`,
    `<p style="margin:0 0 16px;">${c.greeting}</p>`,
    `<p style="margin:0 0 16px;">${c.lead}</p>`,
    `{% if items.size > 0 %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="width:100%;border-collapse:collapse;margin:0 0 16px;">${rows}</table>{% endif %}`,
    `{% if recoveryUrl %}${button}{% endif %}`,
    '</div>',
    `<p style="margin:16px 0 0;font-size:12px;${MUTED}text-align:center;">${c.footer}</p>`,
    '</div>',
    '</body>',
    '</html>',
  ].join('\n');
}

const enCart: CartCopy = {
  push: {
    subject: 'Still thinking it over?',
    body: "Your cart is waiting: {% for item in items limit: 2 %}{{ item.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}{% if items.size > 2 %} and more{% endif %}.{% if total %} {{ total | money: currency }}.{% endif %}",
  },
  inapp: {
    subject: 'Still thinking it over?',
    body: "{{ itemCount | pluralize: 'item is', 'items are' }} waiting in your cart{% if total %} ({{ total | money: currency }}){% endif %}.",
  },
  email: {
    lang: 'en',
    subject: 'You left something in your cart',
    greeting: 'Hello{% if customerName %} {{ customerName }}{% endif %},',
    lead: 'You left these in your cart. They are still there for you:',
    each: 'each',
    total: 'Total',
    cta: 'Return to your cart',
    footer: 'You are receiving this email because you asked for cart reminders. You can turn them off in your preferences.',
  },
  sms: "Your cart is waiting{% if total %} ({{ total | money: currency }}){% endif %}.{% if recoveryUrl %} {{ recoveryUrl }}{% endif %}",
};

const frCart: CartCopy = {
  push: {
    subject: 'Vous hésitez encore ?',
    body: "Votre panier vous attend : {% for item in items limit: 2 %}{{ item.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}{% if items.size > 2 %} et plus{% endif %}.{% if total %} {{ total | money: currency }}.{% endif %}",
  },
  inapp: {
    subject: 'Vous hésitez encore ?',
    body: "{{ itemCount | pluralize: 'article vous attend', 'articles vous attendent' }} dans votre panier{% if total %} ({{ total | money: currency }}){% endif %}.",
  },
  email: {
    lang: 'fr',
    subject: 'Vous avez oublié quelque chose dans votre panier',
    greeting: 'Bonjour{% if customerName %} {{ customerName }}{% endif %},',
    lead: 'Ces articles sont restés dans votre panier. Ils vous attendent toujours :',
    each: "l'unité",
    total: 'Total',
    cta: 'Retrouver mon panier',
    footer: 'Vous recevez cet e-mail parce que vous avez demandé des rappels de panier. Vous pouvez les désactiver dans vos préférences.',
  },
  sms: 'Votre panier vous attend{% if total %} ({{ total | money: currency }}){% endif %}.{% if recoveryUrl %} {{ recoveryUrl }}{% endif %}',
};

function cartTemplates(locale: string, copy: CartCopy): DefaultTemplate[] {
  const key = CART_REMINDER_TEMPLATE_KEY;
  return [
    // Rich push: the first item's picture, and a tap picks the cart up again (both dropped when empty).
    { key, channel: 'push', locale, ...copy.push, imageUrl: '{{ items.first.imageUrl }}', deepLink: '{{ recoveryUrl }}' },
    { key, channel: 'inapp', locale, ...copy.inapp },
    { key, channel: 'email', locale, subject: copy.email.subject, body: cartEmailText(copy.email), bodyHtml: cartEmailHtml(copy.email) },
    { key, channel: 'sms', locale, subject: copy.push.subject, body: copy.sms },
  ];
}

// ---------------------------------------------------------------------------

export const DEFAULT_LOCALE = 'en';

const LOCALES = [
  { locale: 'en', push: en, inapp: enInapp, email: enEmail, emailChrome: enEmailChrome, sms: enSms, digest: enDigest, cart: enCart },
  { locale: 'fr', push: fr, inapp: frInapp, email: frEmail, emailChrome: frEmailChrome, sms: frSms, digest: frDigest, cart: frCart },
];

interface KeyCopy {
  push: TitledCopy;
  inapp: TitledCopy;
  email: EmailCopy;
  sms: string;
  /** The push's deep link (Liquid). */
  pushLink?: string;
}

/** One template per channel for a key: push, in-app, email (text and HTML) and SMS. */
function channelTemplates(key: string, locale: string, chrome: EmailChrome, copy: KeyCopy): DefaultTemplate[] {
  const subject = copy.push.subject;
  return [
    { key, channel: 'push', locale, ...copy.push, ...(copy.pushLink ? { deepLink: copy.pushLink } : {}) },
    { key, channel: 'inapp', locale, ...copy.inapp },
    { key, channel: 'email', locale, subject, body: emailText(chrome, copy.email), bodyHtml: emailHtml(chrome, subject, copy.email) },
    // The subject is never sent by SMS; it labels the message in the delivery history.
    { key, channel: 'sms', locale, subject, body: copy.sms },
  ];
}

// ------------------------------------------------------------------------- back in stock and price drops

/** One alert's copy: the push (and in-app) title and text, the email's lead and call to action, the SMS. */
interface ProductCopy {
  title: string;
  body: string;
  lead: string;
  action: string;
  footer: string;
  sms: string;
}

const productPrice = '{% if price %}{{ price | money: currency }}{% endif %}';

const PRODUCT_COPY: Record<string, Record<string, ProductCopy>> = {
  en: {
    'product.restock': {
      title: '{{ name }} is back in stock',
      body: `{{ name }} is available again{% if price %} at ${productPrice}{% endif %}.`,
      lead: `Good news: {{ name }}, which you asked us to watch, is back in stock{% if price %} at ${productPrice}{% endif %}.`,
      action: 'See it in the shop',
      footer: 'You are receiving this email because you asked us to watch this product.',
      sms: `{{ name }} is back in stock{% if price %} at ${productPrice}{% endif %}.{% if url %} {{ url }}{% endif %}`,
    },
    'product.price_drop': {
      title: 'Price drop: {{ name }}',
      body: `{{ name }} is now ${productPrice}{% if previousPrice %} (was {{ previousPrice | money: currency }}){% endif %}.`,
      lead: `The price of {{ name }}, which you are watching, has dropped to ${productPrice}{% if previousPrice %} (it was {{ previousPrice | money: currency }}){% endif %}.`,
      action: 'See it in the shop',
      footer: 'You are receiving this email because you asked us to watch this product.',
      sms: `{{ name }} is now ${productPrice}{% if previousPrice %} (was {{ previousPrice | money: currency }}){% endif %}.{% if url %} {{ url }}{% endif %}`,
    },
  },
  fr: {
    'product.restock': {
      title: '{{ name }} est de retour en stock',
      body: `{{ name }} est de nouveau disponible{% if price %} à ${productPrice}{% endif %}.`,
      lead: `Bonne nouvelle : {{ name }}, que vous suivez, est de retour en stock{% if price %} à ${productPrice}{% endif %}.`,
      action: 'Voir le produit',
      footer: 'Vous recevez cet e-mail car vous avez demandé à suivre ce produit.',
      sms: `{{ name }} est de retour en stock{% if price %} à ${productPrice}{% endif %}.{% if url %} {{ url }}{% endif %}`,
    },
    'product.price_drop': {
      title: 'Baisse de prix : {{ name }}',
      body: `{{ name }} est maintenant à ${productPrice}{% if previousPrice %} (au lieu de {{ previousPrice | money: currency }}){% endif %}.`,
      lead: `Le prix de {{ name }}, que vous suivez, est passé à ${productPrice}{% if previousPrice %} (au lieu de {{ previousPrice | money: currency }}){% endif %}.`,
      action: 'Voir le produit',
      footer: 'Vous recevez cet e-mail car vous avez demandé à suivre ce produit.',
      sms: `{{ name }} est maintenant à ${productPrice}{% if previousPrice %} (au lieu de {{ previousPrice | money: currency }}){% endif %}.{% if url %} {{ url }}{% endif %}`,
    },
  },
};

/** A product alert's templates on every channel; the email links the product page only when it is an http(s) URL. */
function productTemplates(key: string, locale: string, chrome: EmailChrome, copy: ProductCopy): DefaultTemplate[] {
  const link =
    "{% assign linkScheme = url | slice: 0, 4 | downcase %}{% if linkScheme == 'http' %}" +
    `<p style="margin:0 0 16px;"><a href="{{ url }}" style="${LINK}">${copy.action}</a></p>{% endif %}`;
  const image =
    "{% assign imageScheme = imageUrl | slice: 0, 4 | downcase %}{% if imageScheme == 'http' %}" +
    '<p style="margin:0 0 16px;"><img src="{{ imageUrl }}" alt="{{ name }}" style="max-width:100%;border-radius:6px;"></p>{% endif %}';
  const text = [chrome.greeting, '', copy.lead, `{% if url %}\n${copy.action}${chrome.colon}{{ url }}{% endif %}`, '', '--', copy.footer].join('\n');
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${chrome.lang}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${copy.title}</title></head>`,
    '<body style="margin:0;padding:0;background-color:#f4f4f5;">',
    `<div style="max-width:560px;margin:0 auto;padding:24px 16px;${FONT};font-size:16px;line-height:1.5;color:#18181b;">`,
    '<div style="background-color:#ffffff;border:1px solid #e4e4e7;border-radius:8px;padding:24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3;">${copy.title}</h1>`,
    `<p style="margin:0 0 16px;">${chrome.greeting}</p>`,
    image,
    `<p style="margin:0 0 16px;">${copy.lead}</p>`,
    link,
    '</div>',
    `<p style="margin:16px 0 0;font-size:12px;${MUTED}text-align:center;">${copy.footer}</p>`,
    '</div>',
    '</body>',
    '</html>',
  ].join('\n');
  return [
    // Rich push: the product's picture and page (the alert sends the product event's own; the template says the same).
    { key, channel: 'push', locale, subject: copy.title, body: copy.body, imageUrl: '{{ imageUrl }}', deepLink: '{{ url }}' },
    { key, channel: 'inapp', locale, subject: copy.title, body: copy.body },
    { key, channel: 'email', locale, subject: copy.title, body: text, bodyHtml: html },
    { key, channel: 'sms', locale, subject: copy.title, body: copy.sms },
  ];
}

/** A backordered order's item back in stock (`order.item_restocked`): the order's own chrome, by locale. */
const ITEM_RESTOCKED_COPY: Record<string, KeyCopy> = {
  en: {
    push: { subject: 'Back in stock for order {{ orderId }}', body: '{{ name }}, backordered in your order {{ orderId }}, is back in stock. We will let you know when it ships.' },
    inapp: { subject: 'Back in stock for order {{ orderId }}', body: '{{ name }}, backordered in your order {{ orderId }}, is back in stock. We will let you know when it ships.' },
    email: { lead: 'Good news: {{ name }}, which was backordered in your order {{ orderId }}, is back in stock. We will let you know when it ships.', details: [{ label: 'Item', when: 'name' }] },
    sms: '{{ name }} from order {{ orderId }} is back in stock. We will let you know when it ships.',
  },
  fr: {
    push: { subject: 'De retour en stock pour la commande {{ orderId }}', body: '{{ name }}, en rupture dans votre commande {{ orderId }}, est de retour en stock. Nous vous préviendrons dès son expédition.' },
    inapp: { subject: 'De retour en stock pour la commande {{ orderId }}', body: '{{ name }}, en rupture dans votre commande {{ orderId }}, est de retour en stock. Nous vous préviendrons dès son expédition.' },
    email: { lead: 'Bonne nouvelle : {{ name }}, en rupture dans votre commande {{ orderId }}, est de retour en stock. Nous vous préviendrons dès son expédition.', details: [{ label: 'Article', when: 'name' }] },
    sms: '{{ name }} de la commande {{ orderId }} est de retour en stock. Nous vous previendrons des son expedition.',
  },
};

export const DEFAULT_TEMPLATES: DefaultTemplate[] = LOCALES.flatMap(({ locale, push, inapp, email, emailChrome, sms, digest, cart }) => [
  ...ORDER_STATUSES.flatMap((status) =>
    channelTemplates(`order.${status}`, locale, emailChrome, {
      push: push[status],
      inapp: inapp[status],
      email: email[status],
      sms: sms[status],
      ...(TRACKING_LINK_STATUSES.includes(status) ? { pushLink: TRACKING_LINK } : {}),
    }),
  ),
  ...channelTemplates(DIGEST_TEMPLATE_KEY, locale, emailChrome, digest),
  ...Object.entries(PRODUCT_COPY[locale]!).flatMap(([key, copy]) => productTemplates(key, locale, emailChrome, copy)),
  ...channelTemplates(ITEM_RESTOCKED_TEMPLATE_KEY, locale, emailChrome, ITEM_RESTOCKED_COPY[locale]!),
  ...cartTemplates(locale, cart),
]);
