import type { OrderStatus } from '../domain';
import { DIGEST_TEMPLATE_KEY } from '../domain/template-variables';

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

// Liquid: {{ orderId }}, {{ status }}, {{ customerName }} and the event's data ({{ trackingNumber }}, {{ carrier }}, {{ delayReason }}...);
// domain/template-variables.ts lists what each key may use. Dates and amounts go through Herald's filters
// (lib/liquid.ts), which show free text as given.
const en: Copy = {
  confirmed: { subject: 'Order {{ orderId }} confirmed', body: 'Thanks{% if customerName %}, {{ customerName }}{% endif %}! We have received your order {{ orderId }}.' },
  payment_failed: { subject: 'Payment failed for order {{ orderId }}', body: 'We could not take payment for order {{ orderId }}{% if reason %} ({{ reason }}){% endif %}. Please update your payment details.' },
  packed: { subject: 'Order {{ orderId }} is packed', body: 'Your order {{ orderId }} is packed and waiting for the carrier.' },
  shipped: { subject: 'Order {{ orderId }} has shipped', body: 'Your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Order {{ orderId }} is out for delivery', body: 'Your order {{ orderId }} arrives today{% if eta %} around {{ eta | local_time }}{% endif %}.' },
  delayed: { subject: 'Order {{ orderId }} is delayed', body: 'Sorry, your order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta | local_date }}.{% endif %}{% if restockDate %} Back in stock: {{ restockDate | local_date }}.{% endif %}' },
  delivered: { subject: 'Order {{ orderId }} delivered', body: 'Your order {{ orderId }} has been delivered. Enjoy!' },
  cancelled: { subject: 'Order {{ orderId }} cancelled', body: 'Your order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.' },
  refunded: { subject: 'Refund for order {{ orderId }}', body: 'We have refunded {% if amount %}{{ amount | money: currency }} for {% endif %}your order {{ orderId }}.' },
};

const fr: Copy = {
  confirmed: { subject: 'Commande {{ orderId }} confirmée', body: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Nous avons bien reçu votre commande {{ orderId }}.' },
  payment_failed: { subject: 'Échec du paiement de la commande {{ orderId }}', body: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.' },
  packed: { subject: 'Commande {{ orderId }} préparée', body: 'Votre commande {{ orderId }} est emballée et attend le transporteur.' },
  shipped: { subject: 'Commande {{ orderId }} expédiée', body: 'Votre commande {{ orderId }} est en route{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Numéro de suivi : {{ trackingNumber }}.{% endif %}' },
  out_for_delivery: { subject: 'Commande {{ orderId }} en cours de livraison', body: 'Votre commande {{ orderId }} arrive aujourd’hui{% if eta %} vers {{ eta | local_time }}{% endif %}.' },
  delayed: { subject: 'Commande {{ orderId }} retardée', body: 'Désolés, votre commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta | local_date }}.{% endif %}{% if restockDate %} Retour en stock : {{ restockDate | local_date }}.{% endif %}' },
  delivered: { subject: 'Commande {{ orderId }} livrée', body: 'Votre commande {{ orderId }} a été livrée. Bonne journée !' },
  cancelled: { subject: 'Commande {{ orderId }} annulée', body: 'Votre commande {{ orderId }} a été annulée{% if reason %} : {{ reason }}{% endif %}.' },
  refunded: { subject: 'Remboursement de la commande {{ orderId }}', body: 'Nous avons remboursé {% if amount %}{{ amount | money: currency }} pour {% endif %}votre commande {{ orderId }}.' },
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
}

const amountValue = '{{ amount | money: currency }}';
const dateValue = (variable: string) => `{{ ${variable} | local_date }}`;
const timeValue = (variable: string) => `{{ ${variable} | local_time }}`;

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
    details: [
      { label: 'Items', when: 'itemCount', value: "{{ itemCount | pluralize: 'item', 'items' }}" },
      { label: 'Total', when: 'total', value: '{{ total | money: currency }}' },
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
    ],
  },
  payment_failed: {
    lead: 'We could not take payment for your order {{ orderId }}.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Amount', when: 'amount', value: amountValue },
      { label: 'Update your payment details at', when: 'paymentUrl' },
    ],
    next: 'Please update your payment details so that we can process your order.',
  },
  packed: {
    lead: 'Your order {{ orderId }} is packed and waiting for the carrier.',
    details: [
      { label: 'Items', when: 'itemCount', value: "{{ itemCount | pluralize: 'item', 'items' }}" },
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
    ],
  },
  shipped: {
    lead: 'Good news: your order {{ orderId }} is on its way.',
    details: [
      { label: 'Carrier', when: 'carrier' },
      { label: 'Tracking number', when: 'trackingNumber' },
      { label: 'Track your parcel', when: 'trackingUrl' },
      { label: 'Estimated delivery', when: 'eta', value: dateValue('eta') },
    ],
  },
  out_for_delivery: {
    lead: 'Your order {{ orderId }} is out for delivery and arrives today.',
    details: [
      { label: 'Expected around', when: 'eta', value: timeValue('eta') },
      { label: 'Carrier', when: 'carrier' },
      { label: 'Tracking number', when: 'trackingNumber' },
    ],
  },
  delayed: {
    lead: 'Sorry, your order {{ orderId }} is delayed.',
    details: [
      { label: 'Reason', when: 'delayReason' },
      { label: 'New estimated delivery', when: 'newEta', value: dateValue('newEta') },
      { label: 'Back in stock', when: 'restockDate', value: dateValue('restockDate') },
    ],
    next: 'We apologise for the wait.',
  },
  delivered: {
    lead: 'Your order {{ orderId }} has been delivered. Enjoy!',
    details: [
      { label: 'Delivered', when: 'deliveredAt', value: '{{ deliveredAt | datetime }}' },
      { label: 'Left at', when: 'deliveryLocation' },
    ],
  },
  cancelled: {
    lead: 'Your order {{ orderId }} has been cancelled.',
    details: [
      { label: 'Reason', when: 'reason' },
      { label: 'Refund', when: 'amount', value: amountValue },
    ],
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
    details: [
      { label: 'Articles', when: 'itemCount', value: "{{ itemCount | pluralize: 'article', 'articles' }}" },
      { label: 'Total', when: 'total', value: '{{ total | money: currency }}' },
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
    ],
  },
  payment_failed: {
    lead: 'Le paiement de votre commande {{ orderId }} a échoué.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Montant', when: 'amount', value: amountValue },
      { label: 'Mettez à jour vos informations de paiement sur', when: 'paymentUrl' },
    ],
    next: 'Merci de mettre à jour vos informations de paiement afin que nous puissions traiter votre commande.',
  },
  packed: {
    lead: 'Votre commande {{ orderId }} est emballée et attend le transporteur.',
    details: [
      { label: 'Articles', when: 'itemCount', value: "{{ itemCount | pluralize: 'article', 'articles' }}" },
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
    ],
  },
  shipped: {
    lead: 'Bonne nouvelle : votre commande {{ orderId }} est en route.',
    details: [
      { label: 'Transporteur', when: 'carrier' },
      { label: 'Numéro de suivi', when: 'trackingNumber' },
      { label: 'Suivre votre colis', when: 'trackingUrl' },
      { label: 'Livraison prévue', when: 'eta', value: dateValue('eta') },
    ],
  },
  out_for_delivery: {
    lead: 'Votre commande {{ orderId }} est en cours de livraison et arrive aujourd’hui.',
    details: [
      { label: 'Arrivée prévue vers', when: 'eta', value: timeValue('eta') },
      { label: 'Transporteur', when: 'carrier' },
      { label: 'Numéro de suivi', when: 'trackingNumber' },
    ],
  },
  delayed: {
    lead: 'Désolés, votre commande {{ orderId }} est retardée.',
    details: [
      { label: 'Motif', when: 'delayReason' },
      { label: 'Nouvelle livraison prévue', when: 'newEta', value: dateValue('newEta') },
      { label: 'Retour en stock prévu', when: 'restockDate', value: dateValue('restockDate') },
    ],
    next: 'Merci de votre patience.',
  },
  delivered: {
    lead: 'Votre commande {{ orderId }} a été livrée. Bonne journée !',
    details: [
      { label: 'Livrée le', when: 'deliveredAt', value: '{{ deliveredAt | datetime }}' },
      { label: 'Déposée', when: 'deliveryLocation' },
    ],
  },
  cancelled: {
    lead: 'Votre commande {{ orderId }} a été annulée.',
    details: [
      { label: 'Motif', when: 'reason' },
      { label: 'Remboursement', when: 'amount', value: amountValue },
    ],
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
    ...(copy.updates ? ["{% for update in updates %}\n- {{ update.title }} ({{ update.occurredAt | datetime: 'short' }})\n  {{ update.body }}{% endfor %}"] : []),
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
    ...(copy.updates
      ? [
          '<ul style="margin:0 0 16px;padding-left:20px;">{% for update in updates %}' +
            `<li style="margin:0 0 8px;"><strong>{{ update.title }}</strong> <span style="color:#71717a;">{{ update.occurredAt | datetime: 'short' }}</span><br>{{ update.body }}</li>` +
            '{% endfor %}</ul>',
        ]
      : []),
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
  shipped: "Order {{ orderId }} has shipped{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking: {{ trackingNumber }}.{% endif %}{% if eta %} ETA: {{ eta | local_date: 'short' }}.{% endif %}",
  out_for_delivery: 'Order {{ orderId }} is out for delivery and arrives today{% if eta %} around {{ eta | local_time }}{% endif %}.',
  delayed: "Sorry, order {{ orderId }} is delayed{% if delayReason %}: {{ delayReason }}{% endif %}.{% if newEta %} New estimate: {{ newEta | local_date: 'short' }}.{% endif %}{% if restockDate %} Back in stock: {{ restockDate | local_date: 'short' }}.{% endif %}",
  delivered: 'Order {{ orderId }} has been delivered. Enjoy!',
  cancelled: 'Order {{ orderId }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.',
  refunded: 'We have refunded {% if amount %}' + amountValue + ' for {% endif %}order {{ orderId }}.',
};

const frSms: Record<OrderStatus, string> = {
  confirmed: 'Merci{% if customerName %} {{ customerName }}{% endif %} ! Commande {{ orderId }} confirmée.',
  payment_failed: 'Le paiement de la commande {{ orderId }} a échoué{% if reason %} ({{ reason }}){% endif %}. Merci de mettre à jour vos informations de paiement.',
  packed: 'Commande {{ orderId }} emballée, elle attend le transporteur.',
  shipped: "Commande {{ orderId }} expédiée{% if carrier %} avec {{ carrier }}{% endif %}.{% if trackingNumber %} Suivi : {{ trackingNumber }}.{% endif %}{% if eta %} Livraison prévue : {{ eta | local_date: 'short' }}.{% endif %}",
  out_for_delivery: "Commande {{ orderId }} en cours de livraison, arrivée aujourd'hui{% if eta %} vers {{ eta | local_time }}{% endif %}.",
  delayed: "Désolés, la commande {{ orderId }} est retardée{% if delayReason %} : {{ delayReason }}{% endif %}.{% if newEta %} Nouvelle estimation : {{ newEta | local_date: 'short' }}.{% endif %}{% if restockDate %} Retour en stock : {{ restockDate | local_date: 'short' }}.{% endif %}",
  delivered: 'Commande {{ orderId }} livrée. Bonne journée !',
  cancelled: 'Commande {{ orderId }} annulée{% if reason %} : {{ reason }}{% endif %}.',
  refunded: 'Nous avons remboursé {% if amount %}' + amountValue + ' pour {% endif %}la commande {{ orderId }}.',
};

// ---------------------------------------------------------------------------
// Digest (order.digest): routine updates of one order merged into one message. `updates` lists them,
// oldest first, each with the push title and body it would have had on its own.

interface DigestCopy {
  push: { subject: string; body: string };
  email: EmailCopy;
  sms: string;
}

/** Liquid that names an update's status in words (an unknown status shows as it is). */
const statusWords = (words: Record<OrderStatus, string>) =>
  `{% case update.status %}${Object.entries(words).map(([status, word]) => `{% when '${status}' %}${word}`).join('')}{% else %}{{ update.status }}{% endcase %}`;

const listed = (item: string, separator: string) => `{% for update in updates %}${item}{% unless forloop.last %}${separator}{% endunless %}{% endfor %}`;

const enDigest: DigestCopy = {
  push: { subject: "Order {{ orderId }}: {{ updates | size | pluralize: 'update', 'updates' }}", body: listed('{{ update.body }}', ' ') },
  email: { lead: 'Here is what happened with your order {{ orderId }}:', details: [], updates: true },
  sms:
    'Order {{ orderId }}: ' +
    listed(
      statusWords({
        confirmed: 'confirmed',
        payment_failed: 'payment failed',
        packed: 'packed',
        shipped: 'shipped',
        out_for_delivery: 'out for delivery',
        delayed: 'delayed',
        delivered: 'delivered',
        cancelled: 'cancelled',
        refunded: 'refunded',
      }),
      ', ',
    ) +
    '.',
};

const frDigest: DigestCopy = {
  push: { subject: "Commande {{ orderId }} : {{ updates | size | pluralize: 'mise à jour', 'mises à jour' }}", body: listed('{{ update.body }}', ' ') },
  email: { lead: 'Voici les dernières nouvelles de votre commande {{ orderId }} :', details: [], updates: true },
  sms:
    'Commande {{ orderId }} : ' +
    listed(
      statusWords({
        confirmed: 'confirmée',
        payment_failed: 'paiement refusé',
        packed: 'préparée',
        shipped: 'expédiée',
        out_for_delivery: 'en cours de livraison',
        delayed: 'retardée',
        delivered: 'livrée',
        cancelled: 'annulée',
        refunded: 'remboursée',
      }),
      ', ',
    ) +
    '.',
};

// ---------------------------------------------------------------------------

export const DEFAULT_LOCALE = 'en';

const LOCALES = [
  { locale: 'en', push: en, email: enEmail, emailChrome: enEmailChrome, sms: enSms, digest: enDigest },
  { locale: 'fr', push: fr, email: frEmail, emailChrome: frEmailChrome, sms: frSms, digest: frDigest },
];

/** One template per channel for a key: push, email (text and HTML) and SMS. */
function channelTemplates(key: string, locale: string, chrome: EmailChrome, push: { subject: string; body: string }, email: EmailCopy, sms: string): DefaultTemplate[] {
  const subject = push.subject;
  return [
    { key, channel: 'push', locale, ...push },
    { key, channel: 'email', locale, subject, body: emailText(chrome, email), bodyHtml: emailHtml(chrome, subject, email) },
    // The subject is never sent by SMS; it labels the message in the delivery history.
    { key, channel: 'sms', locale, subject, body: sms },
  ];
}

export const DEFAULT_TEMPLATES: DefaultTemplate[] = LOCALES.flatMap(({ locale, push, email, emailChrome, sms, digest }) => [
  ...(Object.keys(push) as OrderStatus[]).flatMap((status) => channelTemplates(`order.${status}`, locale, emailChrome, push[status], email[status], sms[status])),
  ...channelTemplates(DIGEST_TEMPLATE_KEY, locale, emailChrome, digest.push, digest.email, digest.sms),
]);
