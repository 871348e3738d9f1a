// Experiments: variants with weights and an optional holdout, a deterministic assignment (a hash of the
// experiment id and the customer id, so a re-run assigns everyone the same), and the statistics the results
// report (conversion rate, lift, a two-proportion z-test and a confidence interval). Pure: no I/O, no clock.
import type { Channel } from './delivery';

export const EXPERIMENT_KINDS = ['content', 'send_time', 'channel'] as const;
export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

/** The variant name of the holdout group: recipients who get nothing, the baseline of every lift. */
export const HOLDOUT = 'holdout';

/** When a send-time variant's recipients are due, relative to the campaign's own schedule. */
export type VariantSendTime =
  /** As the campaign's schedule says. */
  | { type: 'schedule' }
  /** At this local time in each recipient's zone (the first one after the campaign is due). */
  | { type: 'local'; localTime: string }
  /** This many minutes after the campaign's schedule. */
  | { type: 'delay'; minutes: number };

export interface ExperimentVariant {
  /** A short name: control, b, evening... ("holdout" is reserved). */
  id: string;
  /** Relative weight among the variants (the holdout's share is taken first). */
  weight: number;
  /** content: the template key per channel this variant sends instead of the campaign's (or the order update's). */
  templates?: Partial<Record<Channel, string>>;
  /** send_time: when this variant's recipients are due. */
  sendAt?: VariantSendTime;
  /** channel: the channel (first choice) this variant sends on. */
  channel?: Channel;
}

export interface ExperimentDesign {
  id: string;
  variants: ExperimentVariant[];
  /** The share of recipients held out (0 to 0.5). */
  holdout: number;
}

/** 32-bit FNV-1a of a string, as an unsigned number: stable across processes, platforms and releases. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's 32-bit finaliser: every input bit moves every output bit (FNV-1a alone leaves the top bits to the first bytes). */
export function fmix32(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Where a customer falls in [0, 1) for an experiment: the same every time it is asked. FNV-1a then the finaliser: without
 * it, ids that differ only in their last characters (c-1000, c-1001...) land next to each other, so sequential customers
 * would share a variant.
 */
export function assignmentBucket(experimentId: string, customerId: string): number {
  return fmix32(fnv1a32(`${experimentId}\u0000${customerId}`)) / 2 ** 32;
}

/**
 * The customer's variant: the holdout if their bucket falls in its share, otherwise a variant chosen by weight over
 * the rest of the range. Deterministic (no randomness, no clock), so re-running a campaign assigns the same.
 */
export function assignVariant(design: ExperimentDesign, customerId: string): string {
  const bucket = assignmentBucket(design.id, customerId);
  if (bucket < design.holdout) return HOLDOUT;
  const total = design.variants.reduce((sum, v) => sum + v.weight, 0);
  if (total <= 0 || design.variants.length === 0) throw new Error(`experiment ${design.id} has no weighted variant`);
  // Rescale the rest of the range to [0, total).
  const point = ((bucket - design.holdout) / (1 - design.holdout)) * total;
  let upTo = 0;
  for (const v of design.variants) {
    upTo += v.weight;
    if (point < upTo) return v.id;
  }
  return design.variants.at(-1)!.id;
}

// ------------------------------------------------------------------------------------------- statistics

/** The standard normal cumulative distribution Φ(z), from erfc below (fractional error under 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The complementary error function (Numerical Recipes' erfc via Chebyshev fit, fractional error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface ProportionComparison {
  /** The variant's rate minus the baseline's. */
  difference: number;
  /** (rate - baseline rate) / baseline rate; null when the baseline rate is 0. */
  lift: number | null;
  /** The pooled two-proportion z statistic; null when it is undefined (no variance, or an empty group). */
  z: number | null;
  /** Two-sided p-value of the z-test; null with z. */
  pValue: number | null;
  /** The 95% confidence interval of the difference (Wald, unpooled); null when a group is empty. */
  confidenceInterval: [number, number] | null;
}

/**
 * Compares a variant's proportion x1/n1 with the baseline's x2/n2: the pooled two-proportion z-test
 * z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)) with p = (x1 + x2)/(n1 + n2), its two-sided p-value 2(1 - Φ(|z|)),
 * and the Wald interval (p1 - p2) ± z_{0.975} sqrt(p1(1-p1)/n1 + p2(1-p2)/n2).
 */
export function compareProportions(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): ProportionComparison {
  if (n1 <= 0 || n2 <= 0) return { difference: 0, lift: null, z: null, pValue: null, confidenceInterval: null };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const difference = p1 - p2;
  const lift = p2 === 0 ? null : difference / p2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = se === 0 ? null : difference / se;
  const pValue = z === null ? null : Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
  const critical = normalQuantile(1 - (1 - confidence) / 2);
  const seDiff = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return { difference, lift, z, pValue, confidenceInterval: [difference - critical * seDiff, difference + critical * seDiff] };
}

/** The standard normal quantile (Acklam's algorithm, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new Error(`a probability strictly between 0 and 1, not ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * The confidence interval of one proportion x/n (Wilson score): unlike p ± z·sqrt(p(1-p)/n) it stays inside [0, 1]
 * and is not a point at 0 or n conversions. Null when n is 0.
 */
export function proportionInterval(x: number, n: number, confidence = 0.95): [number, number] | null {
  if (n <= 0) return null;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = x / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
