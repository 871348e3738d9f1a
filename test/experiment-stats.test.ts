// The experiment statistics and the assignment, as pure functions: a two-proportion z-test worked out by hand,
// the normal distribution against table values, and the hash assignment (stable, weighted, with a holdout).
import { assignVariant, assignmentBucket, compareProportions, fmix32, fnv1a32, HOLDOUT, normalCdf, normalQuantile, proportionInterval } from '../domain/experiments';
import { experimentSchema } from '../api/experiment-schemas';

describe('compareProportions', () => {
  test('matches a two-proportion z-test computed by hand', () => {
    // Control converted 200 of 2000 customers (10%), the variant 250 of 2000 (12.5%).
    //   difference      = 0.125 - 0.100 = 0.025;  lift = 0.025 / 0.100 = 0.25
    //   pooled p        = (200 + 250) / (2000 + 2000) = 450 / 4000 = 0.1125
    //   p (1 - p)       = 0.1125 * 0.8875 = 0.09984375
    //   se (pooled)     = sqrt(0.09984375 * (1/2000 + 1/2000)) = sqrt(0.09984375 * 0.001) = sqrt(0.00009984375) = 0.0099922
    //   z               = 0.025 / 0.0099922 = 2.50196
    //   p-value         = 2 (1 - Φ(2.50196)); from the table Φ(2.50) = 0.99379, Φ(2.51) = 0.99396, so
    //                     Φ(2.50196) ≈ 0.99379 + 0.196 * 0.00017 = 0.993823 and p ≈ 2 * 0.006177 = 0.01235
    //   se (unpooled)   = sqrt(0.125 * 0.875 / 2000 + 0.1 * 0.9 / 2000) = sqrt(0.0000546875 + 0.000045) = sqrt(0.0000996875) = 0.0099844
    //   95% interval    = 0.025 ± 1.95996 * 0.0099844 = 0.025 ± 0.019569 = [0.005431, 0.044569]
    const c = compareProportions(250, 2000, 200, 2000);
    expect(c.difference).toBeCloseTo(0.025, 10);
    expect(c.lift).toBeCloseTo(0.25, 10);
    expect(c.z).toBeCloseTo(2.50196, 4);
    expect(c.pValue).toBeCloseTo(0.01235, 4);
    expect(c.confidenceInterval![0]).toBeCloseTo(0.005431, 5);
    expect(c.confidenceInterval![1]).toBeCloseTo(0.044569, 5);
  });

  test('a second hand example: 30/100 against 20/100', () => {
    // pooled p = 50/200 = 0.25; se = sqrt(0.25 * 0.75 * (2/100)) = sqrt(0.00375) = 0.0612372; z = 0.1 / 0.0612372 = 1.63299
    // p = 2 (1 - Φ(1.63299)); Φ(1.63) = 0.94845, Φ(1.64) = 0.94950: Φ ≈ 0.94845 + 0.299 * 0.00105 = 0.948764, p ≈ 0.10247
    const c = compareProportions(30, 100, 20, 100);
    expect(c.z).toBeCloseTo(1.63299, 4);
    expect(c.pValue).toBeCloseTo(0.10247, 3);
    expect(c.lift).toBeCloseTo(0.5, 10);
  });

  test('is undefined where the test is: an empty group, no variance, a baseline that never converts', () => {
    expect(compareProportions(1, 10, 0, 0)).toEqual({ difference: 0, lift: null, z: null, pValue: null, confidenceInterval: null });
    const none = compareProportions(0, 50, 0, 50);
    expect(none.z).toBeNull();
    expect(none.pValue).toBeNull();
    expect(compareProportions(3, 50, 0, 50).lift).toBeNull();
  });
});

describe('proportionInterval (Wilson score)', () => {
  test('matches the interval computed by hand, and stays inside [0, 1]', () => {
    // 200 of 2000, z = 1.959964, z² = 3.841459:
    //   denominator = 1 + 3.841459 / 2000 = 1.00192073
    //   centre      = (0.1 + 3.841459 / 4000) / 1.00192073 = 0.10096036 / 1.00192073 = 0.10076682
    //   half width  = 1.959964 * sqrt(0.1 * 0.9 / 2000 + 3.841459 / (4 * 2000²)) / 1.00192073
    //               = 1.959964 * sqrt(0.000045 + 0.00000024009) / 1.00192073 = 1.959964 * 0.00672608 / 1.00192073 = 0.01315760
    //   interval    = [0.0876092, 0.1139244]
    const [low, high] = proportionInterval(200, 2000)!;
    expect(low).toBeCloseTo(0.0876092, 6);
    expect(high).toBeCloseTo(0.1139244, 6);
    // 0 of 10: the centre is (1.920729 / 10) / 1.3841459 = 0.138766 and the half width the same: [0, 0.277533].
    expect(proportionInterval(0, 10)![0]).toBe(0);
    expect(proportionInterval(0, 10)![1]).toBeCloseTo(0.277533, 5);
    expect(proportionInterval(10, 10)![1]).toBeLessThanOrEqual(1);
    expect(proportionInterval(0, 0)).toBeNull();
  });
});

describe('the normal distribution', () => {
  test.each([
    [0, 0.5],
    [1, 0.841345],
    [-1, 0.158655],
    [1.644854, 0.95],
    [1.959964, 0.975],
    [2.575829, 0.995],
    [-3, 0.0013499],
  ])('Φ(%p) = %p', (z, p) => {
    expect(normalCdf(z)).toBeCloseTo(p, 6);
  });

  test.each([
    [0.5, 0],
    [0.975, 1.959964],
    [0.95, 1.644854],
    [0.995, 2.575829],
    [0.01, -2.326348],
    [0.001, -3.090232],
  ])('the %p quantile is %p', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 5);
  });

  test('the quantile needs a probability strictly inside (0, 1)', () => {
    expect(() => normalQuantile(0)).toThrow(/strictly between 0 and 1/);
    expect(() => normalQuantile(1)).toThrow(/strictly between 0 and 1/);
  });
});

describe('assignVariant', () => {
  const design = { id: 'exp-shipped-copy', variants: [{ id: 'control', weight: 1 }, { id: 'short', weight: 3 }], holdout: 0 };
  const ids = Array.from({ length: 100_000 }, (_, i) => `c-${i}`);
  const shares = (d: Parameters<typeof assignVariant>[0]) => {
    const counts = new Map<string, number>();
    for (const id of ids) {
      const v = assignVariant(d, id);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return Object.fromEntries([...counts].map(([v, n]) => [v, n / ids.length]));
  };

  test('is stable: the same customer gets the same variant every time, and FNV-1a is the published one', () => {
    // FNV-1a 32-bit test vectors.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    const first = ids.slice(0, 1000).map((id) => assignVariant(design, id));
    expect(ids.slice(0, 1000).map((id) => assignVariant({ ...design, variants: design.variants.map((v) => ({ ...v })) }, id))).toEqual(first);
    // Another experiment assigns independently.
    const other = ids.slice(0, 1000).map((id) => assignVariant({ ...design, id: 'exp-other' }, id));
    expect(other).not.toEqual(first);
    expect(assignmentBucket('exp-1', 'c-1')).toBe(assignmentBucket('exp-1', 'c-1'));
  });

  test('sequential customer ids are assigned independently: neighbours share a variant half the time, as coin flips do', () => {
    // FNV-1a alone put 95% of neighbouring ids (c-41, c-42) in the same half; the finaliser mixes every bit.
    const half = { id: 'exp-shipped-copy', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], holdout: 0 };
    const variants = ids.slice(0, 10_000).map((id) => assignVariant(half, id));
    const same = variants.slice(1).filter((v, i) => v === variants[i]).length / (variants.length - 1);
    expect(Math.abs(same - 0.5)).toBeLessThan(0.03);
    // Within 40 neighbours both variants are well represented (binomial(40, 0.5) is below 10 once in 1,000 draws).
    const first40 = variants.slice(0, 40).filter((v) => v === 'a').length;
    expect(first40).toBeGreaterThanOrEqual(10);
    expect(first40).toBeLessThanOrEqual(30);
    // MurmurHash3 fmix32 test values.
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
  });

  test('honours the weights over 100,000 customers', () => {
    const s = shares(design);
    expect(Object.keys(s).sort()).toEqual(['control', 'short']);
    expect(Math.abs(s.control! - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(s.short! - 0.75)).toBeLessThan(0.01);
  });

  test('takes the holdout share first, then the weights over the rest', () => {
    const s = shares({ id: 'exp-with-holdout', variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }, { id: 'c', weight: 2 }], holdout: 0.2 });
    expect(Math.abs(s[HOLDOUT]! - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(s.a! - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(s.b! - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(s.c! - 0.4)).toBeLessThan(0.01);
  });
});

describe('the experiment schema', () => {
  const valid = {
    name: 'Shipped copy',
    kind: 'content',
    variants: [
      { id: 'control', weight: 1, templates: { push: 'order.shipped' } },
      { id: 'short', weight: 1, templates: { push: 'order.shipped.short' } },
    ],
    control: 'control',
    notificationType: 'shipped',
  };
  const problems = (input: unknown) => {
    const r = experimentSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('takes an order-update experiment, with the 7-day window by default and durations as "48h" or seconds', () => {
    expect(problems(valid)).toEqual([]);
    expect(experimentSchema.parse(valid)).toMatchObject({ holdout: 0, status: 'active' });
    expect(experimentSchema.parse({ ...valid, attributionWindow: '48h' }).attributionWindow).toBe(172_800);
    expect(experimentSchema.parse({ ...valid, attributionWindow: 3600 }).attributionWindow).toBe(3600);
  });

  test('names each rule it breaks', () => {
    expect(problems({ ...valid, holdout: 0.1 })).toEqual([expect.stringMatching(/^holdout: order updates are transactional and never withheld/)]);
    expect(problems({ ...valid, variants: [valid.variants[0], { ...valid.variants[1], id: 'control' }] })).toEqual([
      expect.stringMatching(/^variants\.1\.id: is the id of variant 0 too/),
    ]);
    expect(problems({ ...valid, variants: [valid.variants[0], { ...valid.variants[1], id: 'holdout' }] })).toEqual([expect.stringMatching(/^variants\.1\.id: "holdout" is reserved/)]);
    expect(problems({ ...valid, control: 'missing' })).toEqual([expect.stringMatching(/^control: must be one of the variant ids \(control, short\)/)]);
    expect(problems({ ...valid, notificationType: null, control: 'holdout' })).toEqual([expect.stringMatching(/^control: is the holdout, but there is no holdout group/)]);
    expect(problems({ ...valid, variants: [valid.variants[0], { id: 'short', weight: 0, templates: { push: 'order.shipped.short' } }] })).toEqual(['variants.1.weight: must be more than 0']);
    expect(problems({ ...valid, variants: [valid.variants[0]] })).toEqual(['variants: must have at least 2 variants']);
    expect(problems({ ...valid, variants: [valid.variants[0], { id: 'short', weight: 1 }] })).toEqual(['variants.1.templates: is required for kind content']);
    expect(problems({ ...valid, variants: [valid.variants[0], { id: 'short', weight: 1, templates: { push: 'order.delivered.short' } }] })).toEqual([
      'variants.1.templates.push: must be order.shipped or a variant of it, order.shipped.<name>',
    ]);
    expect(problems({ ...valid, notificationType: 'posted' })).toEqual([expect.stringMatching(/^notificationType: must be an order status/)]);
    expect(problems({ ...valid, attributionWindow: 'a while' })).toEqual([expect.stringMatching(/^attributionWindow: must be a duration/)]);
    expect(problems({ ...valid, attributionWindow: '' })).toEqual([expect.stringMatching(/^attributionWindow: must be a duration/)]);
    expect(problems({ ...valid, attributionWindow: '365d' })).toEqual(['attributionWindow: must be between 1 minute and 90 days']);
  });

  test('each kind needs its own field on every variant, and no other kind\'s', () => {
    const sendTime = {
      name: 'Evening',
      kind: 'send_time',
      variants: [
        { id: 'now', weight: 1, sendAt: { type: 'schedule' } },
        { id: 'evening', weight: 1, sendAt: { type: 'local', localTime: '18:00' } },
      ],
      control: 'now',
      holdout: 0.1,
    };
    expect(problems(sendTime)).toEqual([]);
    expect(problems({ ...sendTime, control: 'holdout' })).toEqual([]);
    expect(problems({ ...sendTime, variants: [sendTime.variants[0], { id: 'evening', weight: 1, channel: 'email' }] })).toEqual([
      'variants.1.sendAt: is required for kind send_time',
      'variants.1.channel: only channel experiments have it (this one is send_time)',
    ]);
    expect(problems({ ...sendTime, notificationType: 'shipped', holdout: 0 })).toEqual(['kind: an order-update experiment varies the content: it must be kind content']);
    const channel = { name: 'Email or push', kind: 'channel', variants: [{ id: 'push', weight: 1, channel: 'push' }, { id: 'email', weight: 1, channel: 'email' }], control: 'push' };
    expect(problems(channel)).toEqual([]);
  });
});
