// Which Web Push endpoints Herald contacts. A subscription endpoint is a URL the browser (so, anyone calling the
// device API) hands us and the worker then POSTs to: without a check it reaches 127.0.0.1, the cloud metadata
// service at 169.254.169.254 or anything else inside the network. Only https URLs on the known push services
// are taken, at registration (api/routes/customers.ts) and again at connect time (activities/providers/web-push.ts),
// where every DNS answer is checked too and the connection goes to the address that was checked.
import net from 'node:net';

/** The push services browsers subscribe with: Chrome/Edge-on-Android (FCM), Firefox, Safari, Edge/Windows. */
export const DEFAULT_WEBPUSH_ALLOWED_HOSTS: readonly string[] = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  '*.push.services.mozilla.com',
  '*.push.apple.com',
  '*.notify.windows.com',
];

export interface PushEndpointPolicy {
  /** Exact host names, or `*.` suffix patterns (`*.push.apple.com` takes `web.push.apple.com`, not `push.apple.com`). */
  allowedHosts: readonly string[];
  /** Tests and local development only (HERALD_WEBPUSH_ALLOW_PRIVATE): loopback and private addresses are contacted too. */
  allowPrivate: boolean;
}

export const DEFAULT_PUSH_ENDPOINT_POLICY: PushEndpointPolicy = { allowedHosts: DEFAULT_WEBPUSH_ALLOWED_HOSTS, allowPrivate: false };

/** Why an endpoint is refused, as a field reason; the same words at registration and at send time. */
export const ENDPOINT_REFUSALS = {
  notHttps: 'must be an https URL',
  notAllowed: 'is not an allowed push service',
  privateAddress: 'is a private address',
} as const;

export type EndpointRefusal = keyof typeof ENDPOINT_REFUSALS;

/** A host pattern as HERALD_WEBPUSH_ALLOWED_HOSTS takes it: a DNS name or IP address, or `*.` and a DNS name. */
export function isHostPattern(pattern: string): boolean {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (!pattern.startsWith('*.') && net.isIP(name)) return true;
  return /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name);
}

/** The host of a URL as compared and resolved: lower case (URL does that), no IPv6 brackets, no trailing dot. */
export function endpointHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

export function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern));
}

// Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the metadata address, fe80::/10), unspecified,
// CGNAT, multicast and reserved ranges. net.BlockList also matches an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// against the IPv4 rules; NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::/96) are listed outright.
const PRIVATE_RANGES: Array<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 96, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const privateAddresses = new net.BlockList();
for (const [address, prefix, family] of PRIVATE_RANGES) privateAddresses.addSubnet(address, prefix, family);

/** Whether an IP address is one no push service has: loopback, private, link-local, CGNAT, multicast, reserved. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  return privateAddresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * What is wrong with a Web Push endpoint before any DNS lookup: not https, not on an allowed push service, or an
 * IP address that is private (which the connect-time check would never reach: Node connects to a literal directly).
 * Undefined when it may be contacted.
 */
export function endpointRefusal(endpoint: string | URL, policy: PushEndpointPolicy): EndpointRefusal | undefined {
  let url: URL;
  try {
    url = typeof endpoint === 'string' ? new URL(endpoint) : endpoint;
  } catch {
    return 'notHttps';
  }
  if (url.protocol !== 'https:') return 'notHttps';
  const host = endpointHost(url);
  if (!policy.allowPrivate && isPrivateAddress(host)) return 'privateAddress';
  if (!hostAllowed(host, policy.allowedHosts)) return 'notAllowed';
  return undefined;
}
