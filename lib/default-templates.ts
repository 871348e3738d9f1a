import type { OrderStatus } from '../domain';

export type TemplateChannel = 'push' | 'email' | 'sms';

export interface DefaultTemplate {
  key: string;
  channel: TemplateChannel;
  locale: string;
  /** Push title, email subject, or a short label for SMS (the SMS itself is the body alone). */
  subject: string;
  /** Push text, plain-text email part, or the SMS. */
  body: string;
  /** HTML email part; email only. */
  bodyHtml?: string;
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
}

interface EmailCopy {
  /** First paragraph after the greeting. */
  lead: string;
  /** Labelled lines under the order number, each shown when its variable is present. */
  details: EmailDetail[];
  /** Closing paragraph. */
  next?: string;
}

interface EmailChrome {
  lang: string;
  greeting: string;
  orderLabel: string;
  /** Between a label and its value (French typography puts a space before the colon). */
  colon: string;
  footer: string;
}

const amountValue = '{{ amount }}{% if currency %} {{ currency }}{% endif %}';

const enEmailChrome: EmailChrome = {
  lang: 'en',
  greeting: 'Hello{% if customerName %} {{ customerName }}{% endif %},',
  orderLabel: 'Order number',
  colon: ': ',
  footer: 'You are receiving this email because you placed order {{ orderId }}.',
};

const enEmail: Record<OrderStatus, EmailCopy> = {
  confirmed: {
    lead: 'Thank you for your order. We have received order {{ orderId }} and will let you know when it ships.',
    details: [{ label: 'Estimated delivery', when: 'eta' }],
  },
  payment_failed: {
    lead: 'We could not take payment for your order {{ orderId }}.',
    details: [{ label: 'Reason', when: 'reason' }],
    next: 'Please update your payment details so that we can process your order.',
  },
  packed: {
    lead: 'Your order {{ orderId }} is packed and waiting for the carrier.',
    details: [{ label: 'Estimated delivery', when: 'eta' }],
  },
  shipped: {
    lead: 'Good news: your order {{ orderId }} is on its way.',
    details: [
      { label: 'Carrier', when: 'carrier' },
      { label: 'Tracking number', when: 'trackingNumber' },
      { label: 'Estimated delivery', when: 'eta' },
    ],
  },
  out_for_delivery: {
    lead: 'Your order {{ orderId }} is out for delivery and arrives today.',
    details: [
      { label: 'Expected around', when: 'eta' },
      { label: 'Carrier', when: 'carrier' },
      { label: 'Tracking number', when: 'trackingNumber' },
    ],
  },
  delayed: {
    lead: 'Sorry, your order {{ orderId }} is delayed.',
    details: [
      { label: 'Reason', when: 'delayReason' },
      { label: 'New estimated delivery', when: 'newEta' },
    ],
    next: 'We apologise for the wait.',
  },
  delivered: {
    lead: 'Your order {{ orderId }} has been delivered. Enjoy!',
    details: [],
  },
  cancelled: {
    lead: 'Your order {{ orderId }} has been cancelled.',
    details: [{ label: 'Reason', when: 'reason' }],
  },
  refunded: {
    lead: 'We have refunded your order {{ orderId }}.',
    details: [{ label: 'Amount refunded', when: 'amount', value: amountValue }],
    next: 'The refund may take a few business days to appear on your statement.',
  },
};

const frEmailChrome: EmailChrome = {
  lang: 'fr',
  greeting: 'Bonjour{% if customerName %} {{ customerName }}{% endif %},',
  orderLabel: 'Numéro de commande',
  colon: ' : ',
  footer: 'Vous recevez cet e-mail car vous avez passé la commande {{ orderId }}.',
};

const frEmail: Record<OrderStatus, EmailCopy> = {
  confirmed: {
    lead: 'Merci pour votre commande. Nous avons bien reçu la commande {{ orderId }} et vous préviendrons dès son expédition.',
    details: [{ label: 'Livraison prévue', when: 'eta' }],
  },
  payment_failed: {
    lead: 'Le paiement de votre commande {{ orderId }} a échoué.',
    details: [{ label: 'Motif', when: 'reason' }],
    next: 'Merci de mettre à jour vos informations de paiement afin que nous puissions traiter votre commande.',
  },
  packed: {
    lead: 'Votre commande {{ orderId }} est emballée et attend le transporteur.',
    details: [{ label: 'Livraison prévue', when: 'eta' }],
  },
  shipped: {
    lead: 'Bonne nouvelle : votre commande {{ orderId }} est en route.',
    details: [
      { label: 'Transporteur', when: 'carrier' },
      { label: 'Numéro de suivi', when: 'trackingNumber' },
      { label: 'Livraison prévue', when: 'eta' },
    ],
  },
  out_for_delivery: {
    lead: 'Votre commande {{ orderId }} est en cours de livraison et arrive aujourd’hui.',
    details: [
      { label: 'Arrivée prévue vers', when: 'eta' },
      { label: 'Transporteur', when: 'carrier' },
      { label: 'Numéro de suivi', when: 'trackingNumber' },
    ],
  },
  delayed: {
    lead: 'Désolés, votre commande {{ orderId }} est retardée.',
    details: [
      { label: 'Motif', when: 'delayReason' },
      { label: 'Nouvelle livraison prévue', when: 'newEta' },
    ],
    next: 'Merci de votre patience.',
  },
  delivered: {
    lead: 'Votre commande {{ orderId }} a été livrée. Bonne journée !',
    details: [],
  },
  cancelled: {
    lead: 'Votre commande {{ orderId }} a été annulée.',
    details: [{ label: 'Motif', when: 'reason' }],
  },
  refunded: {
    lead: 'Nous avons remboursé votre commande {{ orderId }}.',
    details: [{ label: 'Montant remboursé', when: 'amount', value: amountValue }],
    next: 'Le remboursement peut prendre quelques jours ouvrés avant d’apparaître sur votre relevé.',
  },
};

const valueOf = (d: EmailDetail) => d.value ?? `{{ ${d.when} }}`;

function emailText(chrome: EmailChrome, copy: EmailCopy): string {
  // Each optional line starts inside its `if`, so an absent value leaves no blank line.
  const details = copy.details.map((d) => `{% if ${d.when} %}\n${d.label}${chrome.colon}${valueOf(d)}{% endif %}`).join('');
  return [
    chrome.greeting,
    '',
    copy.lead,
    '',
    `${chrome.orderLabel}${chrome.colon}{{ orderId }}${details}`,
    ...(copy.next ? ['', copy.next] : []),
    '',
    '--',
    chrome.footer,
  ].join('\n');
}

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";

function emailHtml(chrome: EmailChrome, subject: string, copy: EmailCopy): string {
  const line = (label: string, value: string) => `${label}${chrome.colon}<strong>${value}</strong>`;
  const details = copy.details.map((d) => `{% if ${d.when} %}<br>${line(d.label, valueOf(d))}{% endif %}`).join('');
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
    `<p style="margin:0 0 16px;padding:12px 16px;background-color:#f4f4f5;border-radius:6px;">${line(chrome.orderLabel, '{{ orderId }}')}${details}</p>`,
    ...(copy.next ? [`<p style="margin:0 0 16px;">${copy.next}</p>`] : []),
    '</div>',
    `<p style="margin:16px 0 0;font-size:12px;color:#71717a;text-align:center;">${chrome.footer}</p>`,
    '</div>',
    '</body>',
    '</html>',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// SMS: one GSM-7 segment (160 characters) with typical data. The copy keeps to the GSM-7 alphabet
// (straight apostrophes, no ê/ç/’), since one other character makes it UCS-2 with 70 per segment.

const enSms: Record<OrderStatus, string> = {
  confirmed: 'Thanks{% if customerName %} {{ customerName }}{% endif %}! Order {{ orderId }} is confirmed.',
  payment_failed: 'Payment for order {{ orderId }} failed{% if reason %} ({{ reason }}){% endif %}. Please update your payment details.',
  packed: 'Order {{ orderId }} is packed and waiting for the carrier.',
  shipped: 'Order {{ orderId }} has shipped{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking: {{ trackingNumber }}.{% endif %}{% if eta %} ETA: {{ eta }}.{% endif %}',
  out_for_delivery: 'Order {{ orderId }} is out for delivery and arrives today{% if eta %} around {{ eta }}{% endif %}.',
  delayed: 'Sorry, order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta }}.{% endif %}',
  delivered: 'Order {{ orderId }} has been delivered. Enjoy!',
  cancelled: 'Order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.',
  refunded: 'We have refunded {% if amount %}' + amountValue + ' for {% endif %}order {{ orderId }}.',
};

const frSms: Record<OrderStatus, string> = {
  confirmed: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Commande {{ orderId }} confirmée.',
  payment_failed: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.',
  packed: 'Commande {{ orderId }} emballée, elle attend le transporteur.',
  shipped: 'Commande {{ orderId }} expédiée{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Suivi : {{ trackingNumber }}.{% endif %}{% if eta %} Livraison prévue : {{ eta }}.{% endif %}',
  out_for_delivery: "Commande {{ orderId }} en cours de livraison, arrivée aujourd'hui{% if eta %} vers {{ eta }}{% endif %}.",
  delayed: 'Désolés, la commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta }}.{% endif %}',
  delivered: 'Commande {{ orderId }} livrée. Bonne journée !',
  cancelled: 'Commande {{ orderId }} annulée{% if reason %} : {{ reason }}{% endif %}.',
  refunded: 'Nous avons remboursé {% if amount %}' + amountValue + ' pour {% endif %}la commande {{ orderId }}.',
};

// ---------------------------------------------------------------------------

export const DEFAULT_LOCALE = 'en';

const LOCALES = [
  { locale: 'en', push: en, email: enEmail, emailChrome: enEmailChrome, sms: enSms },
  { locale: 'fr', push: fr, email: frEmail, emailChrome: frEmailChrome, sms: frSms },
];

export const DEFAULT_TEMPLATES: DefaultTemplate[] = LOCALES.flatMap(({ locale, push, email, emailChrome, sms }) =>
  (Object.keys(push) as OrderStatus[]).flatMap((status): DefaultTemplate[] => {
    const key = `order.${status}`;
    const subject = push[status].subject;
    return [
      { key, channel: 'push', locale, ...push[status] },
      { key, channel: 'email', locale, subject, body: emailText(emailChrome, email[status]), bodyHtml: emailHtml(emailChrome, subject, email[status]) },
      // The subject is never sent by SMS; it labels the message in the delivery history.
      { key, channel: 'sms', locale, subject, body: sms[status] },
    ];
  }),
);
