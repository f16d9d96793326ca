/**
 * The content personalizer: which variant of a message template a customer gets, by a bandit over
 * each variant's engagement across the population, with the variant kept stable for a customer.
 *
 * Choice. Each variant v has a posterior Beta(1 + engaged_v, 1 + sent_v − engaged_v) from the
 * population's decayed counts (`EngagementLearning.variantCounts`) and P_v, the probability that it
 * is the best (exact, by integration). The variant's share of customers is
 * `weight_v · max(P_v, floor)` normalised — probability matching, which is what Thompson sampling
 * does in expectation — starting from the config's weights while nothing is known.
 *
 * Stability. A customer is not given a fresh random draw each time: the choice is weighted
 * rendezvous hashing of `point`, a number fixed per customer and message key (hash of the
 * installation seed, the customer and the template): the customer gets the variant v minimising
 * −ln(u_v) / share_v with u_v a hash of (point, v). So the same customer gets the same variant for
 * as long as the shares stand still, and when they move a customer changes from variant x to y
 * only when y's share grew relative to x's (rendezvous hashing moves no one else), so most
 * customers keep their variant while the bandit learns. Once one variant is a clear winner (P ≥ `winnerProbability`, default 0.95, with
 * at least `minSends` sends in all, default 200) every customer gets it: stickiness gives way to the
 * better message, once, and from then on everyone is stable on the winner.
 *
 * Pure and deterministic: no random source, only the hash point and the counts.
 */
import { betaMean, probabilityBest, randomFor } from './beta.js';
import type { VariantCounts } from './engagement-learning.js';

/** A template variant and its configured weight. */
export interface VariantOption {
  readonly name: string;
  /** Relative weight from the config (1 when not set). */
  readonly weight: number;
}

/** Tuning of the personalizer. */
export interface PersonalizerSettings {
  /** P(best) at which a variant wins for everyone. Default 0.95. */
  readonly winnerProbability?: number;
  /** Sends over all variants before a winner may be declared. Default 200. */
  readonly minSends?: number;
  /** Smallest share factor of a variant that is not the winner, so it keeps being measured. Default 0.05. */
  readonly floor?: number;
}

/** The personalizer's answer. */
export interface VariantChoice {
  readonly variant: string;
  /** `winner`: everyone gets it; `allocation`: the customer's stable share. */
  readonly basis: 'winner' | 'allocation';
  /** Each variant's share of customers now, by name. */
  readonly shares: Readonly<Record<string, number>>;
  /** Each variant's probability of being the best, by name. */
  readonly probabilityBest: Readonly<Record<string, number>>;
  readonly reasoning: string;
}

/**
 * Chooses a variant for the customer behind `point` (a number in [0, 1) fixed per customer and
 * message key); null without variants.
 */
export function chooseVariant(
  variants: readonly VariantOption[],
  counts: ReadonlyMap<string, VariantCounts>,
  point: number,
  settings: PersonalizerSettings = {},
): VariantChoice | null {
  if (variants.length === 0) return null;
  const winnerProbability = settings.winnerProbability ?? 0.95;
  const minSends = settings.minSends ?? 200;
  const floor = settings.floor ?? 0.05;
  const posteriors = variants.map((v) => {
    const c = counts.get(v.name) ?? { sent: 0, engaged: 0 };
    const engaged = Math.min(c.engaged, c.sent);
    return { alpha: 1 + engaged, beta: 1 + c.sent - engaged };
  });
  const best = probabilityBest(posteriors);
  const totalSends = variants.reduce((sum, v) => sum + (counts.get(v.name)?.sent ?? 0), 0);
  const probabilityByName = Object.fromEntries(variants.map((v, i) => [v.name, best[i] ?? 0]));
  let leader = 0;
  best.forEach((p, i) => {
    if (p > (best[leader] ?? 0)) leader = i;
  });
  const leaderName = variants[leader]?.name ?? '';
  const rates = posteriors.map((p) => betaMean(p));
  const describe = (i: number): string =>
    `${variants[i]?.name ?? '?'} ${pct(rates[i] ?? 0)} (P best ${(best[i] ?? 0).toFixed(2)})`;
  if (variants.length > 1 && totalSends >= minSends && (best[leader] ?? 0) >= winnerProbability) {
    return {
      variant: leaderName,
      basis: 'winner',
      shares: Object.fromEntries(variants.map((v, i) => [v.name, i === leader ? 1 : 0])),
      probabilityBest: probabilityByName,
      reasoning: `Variant ${leaderName} is the clear winner: ${variants.map((_, i) => describe(i)).join(', ')} over ${Math.round(totalSends)} sends`,
    };
  }
  const raw = variants.map((v, i) => v.weight * Math.max(best[i] ?? 0, floor));
  const sum = raw.reduce((a, b) => a + b, 0);
  const shares = raw.map((r) => (sum > 0 ? r / sum : 1 / variants.length));
  let chosen = 0;
  let lowest = Number.POSITIVE_INFINITY;
  variants.forEach((v, i) => {
    const u = 1 - randomFor(String(point), v.name)();
    const score = -Math.log(u) / (shares[i] ?? 1);
    if (score < lowest) {
      lowest = score;
      chosen = i;
    }
  });
  const name = variants[chosen]?.name ?? leaderName;
  return {
    variant: name,
    basis: 'allocation',
    shares: Object.fromEntries(variants.map((v, i) => [v.name, shares[i] ?? 0])),
    probabilityBest: probabilityByName,
    reasoning:
      totalSends === 0
        ? `Variant ${name}: no engagement data yet, shares follow the configured weights`
        : `Variant ${name} (share ${pct(shares[chosen] ?? 0)}, stable for this customer): ${variants.map((_, i) => describe(i)).join(', ')} over ${Math.round(totalSends)} sends`,
  };
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}
