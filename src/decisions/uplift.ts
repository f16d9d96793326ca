/**
 * Lift of a treated group over a holdout group, with a confidence interval: what the journeys and
 * the global holdout bought, measured live.
 *
 * - **rate**: conversions / customers of a group.
 * - **absolute lift**: treated rate − holdout rate, with Newcombe's hybrid score interval (method
 *   10 of Newcombe 1998: Wilson intervals of each rate combined), which stays inside [−1, 1] and
 *   behaves with few conversions, unlike the plain Wald interval.
 * - **relative lift**: absolute lift / holdout rate (null when the holdout never converted).
 * - **p-value**: two-sided pooled two-proportion z-test of "no difference".
 */

/** Customers and conversions of one group. */
export interface GroupCounts {
  readonly customers: number;
  readonly conversions: number;
}

/** One group's rate, with its Wilson 95% interval. */
export interface GroupRate extends GroupCounts {
  readonly rate: number | null;
  readonly ci95: readonly [number, number] | null;
}

/** The comparison. */
export interface Lift {
  readonly treated: GroupRate;
  readonly holdout: GroupRate;
  readonly absolute: number | null;
  readonly ci95: readonly [number, number] | null;
  readonly relative: number | null;
  readonly pValue: number | null;
}

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** Compares `treated` with `holdout`. Null fields where a group is empty. */
export function liftOf(treated: GroupCounts, holdout: GroupCounts): Lift {
  const t = groupRate(treated);
  const h = groupRate(holdout);
  if (t.rate === null || h.rate === null || t.ci95 === null || h.ci95 === null) {
    return { treated: t, holdout: h, absolute: null, ci95: null, relative: null, pValue: null };
  }
  const d = t.rate - h.rate;
  const lower = d - Math.sqrt((t.rate - t.ci95[0]) ** 2 + (h.ci95[1] - h.rate) ** 2);
  const upper = d + Math.sqrt((t.ci95[1] - t.rate) ** 2 + (h.rate - h.ci95[0]) ** 2);
  return {
    treated: t,
    holdout: h,
    absolute: d,
    ci95: [lower, upper],
    relative: h.rate === 0 ? null : d / h.rate,
    pValue: twoProportionP(treated, holdout),
  };
}

function groupRate(g: GroupCounts): GroupRate {
  if (g.customers === 0) return { ...g, rate: null, ci95: null };
  return { ...g, rate: g.conversions / g.customers, ci95: wilson(g.conversions, g.customers) };
}

/** Wilson score interval of a proportion. */
export function wilson(successes: number, n: number, z = Z95): [number, number] {
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function twoProportionP(a: GroupCounts, b: GroupCounts): number | null {
  const pooled = (a.conversions + b.conversions) / (a.customers + b.customers);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.customers + 1 / b.customers));
  if (se === 0) return null;
  const z = (a.conversions / a.customers - b.conversions / b.customers) / se;
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf; error below 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
