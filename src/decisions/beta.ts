/**
 * Beta-Bernoulli arithmetic shared by the bandits (send time, channel, content): draws from a Beta
 * posterior for Thompson sampling, the probability that each arm is the best, and seeded random
 * streams derived from text keys so every decision is reproducible.
 *
 * Glossary
 * - arm: one thing a bandit can choose (an hour, a channel, a template variant).
 * - posterior: Beta(alpha, beta) over an arm's engagement rate; alpha counts engagements plus the
 *   prior's pseudo-engagements, beta the sends without engagement plus pseudo-misses.
 * - Thompson sampling: draw one rate from each arm's posterior and take the largest; an arm is
 *   chosen with the probability that it is the best, so uncertain arms still get tried.
 */
import { seededRandom } from './metrics.js';

/** A Beta distribution's two shape parameters (both > 0). */
export interface BetaPosterior {
  readonly alpha: number;
  readonly beta: number;
}

/** The posterior's mean, the expected engagement rate. */
export function betaMean(p: BetaPosterior): number {
  return p.alpha / (p.alpha + p.beta);
}

/**
 * A 32-bit seed from text (FNV-1a): decisions seed their generator from what they decide about
 * (installation seed, customer, message key), so replaying an input replays its choices.
 */
export function seedOf(...parts: readonly string[]): number {
  let hash = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A seeded uniform generator in [0, 1) for a text key (see `seedOf`). */
export function randomFor(...parts: readonly string[]): () => number {
  return seededRandom(seedOf(...parts));
}

/** A standard normal deviate (Box–Muller; the second value is dropped for simplicity). */
function normal(random: () => number): number {
  // 1 - u keeps the logarithm's argument in (0, 1].
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A Gamma(shape, 1) draw (Marsaglia–Tsang). Shapes below 1 use the boost
 * Gamma(a) = Gamma(a + 1) · U^(1/a), which keeps the squeeze method valid.
 */
export function sampleGamma(shape: number, random: () => number): number {
  if (shape < 1) {
    const boost = Math.pow(1 - random(), 1 / shape);
    return sampleGamma(shape + 1, random) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One draw from Beta(alpha, beta), as X / (X + Y) of two Gamma draws. */
export function sampleBeta(p: BetaPosterior, random: () => number): number {
  const x = sampleGamma(p.alpha, random);
  const y = sampleGamma(p.beta, random);
  const sum = x + y;
  // Both shapes tiny can underflow to 0 + 0; the mean is the honest answer then.
  return sum > 0 ? x / sum : betaMean(p);
}

/** log Γ(x) for x > 0 (Lanczos, g = 7); accurate to ~1e-13, plenty for densities on a grid. */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0] ?? 0;
  const t = z + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += (c[i] ?? 0) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Grid points for `probabilityBest`: agrees with 40,000 Thompson draws to 0.01 (tested). */
const GRID_POINTS = 1_000;

/**
 * The probability that each arm has the highest rate, P(θ_i > θ_j for all j ≠ i), by numerical
 * integration on a grid over the region where the posteriors have mass:
 * ∫ f_i(x) Π_{j≠i} F_j(x) dx. Deterministic (no sampling), so a choice that depends on it repeats
 * exactly; the values sum to 1.
 */
export function probabilityBest(arms: readonly BetaPosterior[]): number[] {
  if (arms.length === 0) return [];
  if (arms.length === 1) return [1];
  // The same counts come back for every message until an engagement changes them: remember the
  // last few answers (a cache of a pure function, so it changes no result).
  const key = arms.map((a) => `${a.alpha},${a.beta}`).join(';');
  const known = RECENT.get(key);
  if (known !== undefined) return [...known];
  const result = integrateBest(arms);
  RECENT.set(key, result);
  if (RECENT.size > RECENT_LIMIT) {
    const oldest = RECENT.keys().next();
    if (oldest.done !== true) RECENT.delete(oldest.value);
  }
  return [...result];
}

const RECENT_LIMIT = 256;
const RECENT = new Map<string, number[]>();

function integrateBest(arms: readonly BetaPosterior[]): number[] {
  // Only where some posterior has mass matters; a fixed [0, 1] grid would put a concentrated
  // posterior (thousands of sends) between two grid points.
  let lo = 1;
  let hi = 0;
  for (const arm of arms) {
    const n = arm.alpha + arm.beta;
    const mean = arm.alpha / n;
    const sd = Math.sqrt((arm.alpha * arm.beta) / (n * n * (n + 1)));
    lo = Math.min(lo, mean - 10 * sd);
    hi = Math.max(hi, mean + 10 * sd);
  }
  lo = Math.max(lo, 0);
  hi = Math.min(hi, 1);
  const step = (hi - lo) / GRID_POINTS;
  const densities = arms.map((arm) => {
    const norm = logGamma(arm.alpha + arm.beta) - logGamma(arm.alpha) - logGamma(arm.beta);
    const values = new Float64Array(GRID_POINTS);
    let total = 0;
    for (let k = 0; k < GRID_POINTS; k++) {
      const x = lo + (k + 0.5) * step;
      const log = norm + (arm.alpha - 1) * Math.log(x) + (arm.beta - 1) * Math.log1p(-x);
      const value = Number.isFinite(log) ? Math.exp(log) : 0;
      values[k] = value;
      total += value;
    }
    // Normalised on the grid, so truncation and rounding do not leak into the comparison.
    if (total > 0) for (let k = 0; k < GRID_POINTS; k++) values[k] = (values[k] ?? 0) / total;
    return values;
  });
  const cdfs = densities.map((values) => {
    const cdf = new Float64Array(GRID_POINTS);
    let sum = 0;
    for (let k = 0; k < GRID_POINTS; k++) {
      const v = values[k] ?? 0;
      // Midpoint of the cell: half of the cell's own mass lies below x.
      cdf[k] = sum + v / 2;
      sum += v;
    }
    return cdf;
  });
  const result = arms.map((_, i) => {
    const own = densities[i] ?? new Float64Array(0);
    let p = 0;
    for (let k = 0; k < GRID_POINTS; k++) {
      let below = own[k] ?? 0;
      if (below === 0) continue;
      for (let j = 0; j < arms.length; j++) if (j !== i) below *= cdfs[j]?.[k] ?? 0;
      p += below;
    }
    return p;
  });
  const total = result.reduce((a, b) => a + b, 0);
  return total > 0 ? result.map((p) => p / total) : arms.map(() => 1 / arms.length);
}
