// The arithmetic of the API's rate limits (lib/token-bucket.ts) on a clock the test moves, the client address a
// budget counts by, and the variables that set them (lib/config.ts). The limits at work are in test/attacks-abuse.test.ts.
import { addressBucket } from '../api/rate-limits';
import { ConfigError, DEFAULT_API_RATE_LIMITS, loadConfig } from '../lib/config';
import { LruMap } from '../lib/lru';
import { TokenBuckets } from '../lib/token-bucket';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('a bucket lets its burst through at once, then one request per 1/rate seconds, and says when to come back', () => {
  const time = clock();
  const buckets = new TokenBuckets({ perSecond: 2, burst: 3 }, 10, time.now);
  expect([1, 2, 3].map(() => buckets.take('k').allowed)).toEqual([true, true, true]);
  expect(buckets.take('k')).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1, fullInSeconds: 2 });
  time.advance(499);
  expect(buckets.take('k').allowed).toBe(false);
  time.advance(1);
  expect(buckets.take('k')).toMatchObject({ allowed: true, remaining: 0 });
  // Another id has a bucket of its own.
  expect(buckets.take('other')).toMatchObject({ allowed: true, remaining: 2 });
  // A slow refill: Retry-After is the whole seconds until the next token, never less than 1.
  const slow = new TokenBuckets({ perSecond: 0.1, burst: 1 }, 10, time.now);
  expect(slow.take('k').allowed).toBe(true);
  time.advance(2500);
  expect(slow.take('k')).toMatchObject({ allowed: false, retryAfterSeconds: 8 });
});

test('buckets are bounded: the least recently used goes first, and an idle one that would be full again is dropped', () => {
  const time = clock();
  const buckets = new TokenBuckets({ perSecond: 1, burst: 2 }, 3, time.now);
  for (const id of ['a', 'b', 'c', 'd']) buckets.take(id);
  expect(buckets.size).toBe(3);
  for (let i = 0; i < 10_000; i++) buckets.take(`random-${i}`);
  expect(buckets.size).toBe(3);
  time.advance(2000);
  buckets.take('e');
  expect(buckets.size).toBe(1);

  const lru = new LruMap<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.get('a');
  lru.set('c', 3);
  expect([...lru].map(([key]) => key)).toEqual(['a', 'c']);
});

test('an address counts as itself, an IPv4-mapped one as its IPv4 address, an IPv6 one by its /64', () => {
  expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
  expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
  expect(addressBucket('2001:db8:7:1::1')).toBe('2001:db8:7:1::/64');
  expect(addressBucket('2001:0DB8:0007:0001:ffff:ffff:ffff:9')).toBe('2001:db8:7:1::/64');
  expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
  expect(addressBucket('::1')).toBe('0:0:0:0::/64');
  expect(addressBucket('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  expect(addressBucket(undefined)).toBe('unknown');
});

test('HERALD_*_RATE_LIMIT are <per second>:<burst> or off, HERALD_TRUST_PROXY a hop count or addresses, never true', () => {
  const config = loadConfig({});
  expect(config.apiRateLimits).toEqual(DEFAULT_API_RATE_LIMITS);
  expect(config.trustProxy).toBe(false);
  expect(loadConfig({ HERALD_KEY_RATE_LIMIT: '0.5:20', HERALD_INTAKE_RATE_LIMIT: 'off', HERALD_ADDRESS_RATE_LIMIT: '0' }).apiRateLimits).toEqual({
    key: { perSecond: 0.5, burst: 20 },
    intake: null,
    address: null,
  });
  expect(loadConfig({ HERALD_TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(loadConfig({ HERALD_TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
  const refused = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error(`${JSON.stringify(env)} was accepted`);
  };
  expect(refused({ HERALD_KEY_RATE_LIMIT: '100' })).toEqual([expect.stringContaining("HERALD_KEY_RATE_LIMIT: must be <requests per second>:<burst> such as 100:1000, or off, got '100'")]);
  expect(refused({ HERALD_ADDRESS_RATE_LIMIT: '10:0' })).toEqual([expect.stringContaining('HERALD_ADDRESS_RATE_LIMIT: must be')]);
  expect(refused({ HERALD_TRUST_PROXY: 'true' })).toEqual([expect.stringContaining("'true' would trust any X-Forwarded-For a client sends")]);
  expect(refused({ HERALD_TRUST_PROXY: 'loopback,10.0.0.0/33' })).toEqual([expect.stringContaining("got '10.0.0.0/33'")]);
});
