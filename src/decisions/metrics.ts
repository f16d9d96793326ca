/**
 * Evaluation: ranking and probability metrics, a seeded random generator, stratified folds and
 * inverse propensity scoring. Everything random here takes a seed, so a report can be reproduced.
 */

/**
 * ROC-AUC: the probability that a random positive scores above a random negative, ties counting
 * one half (the Mann–Whitney statistic, from average ranks). NaN when one class is absent, because
 * the ranking is then undefined rather than perfect or useless.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((s, i) => ({ s, y: labels[i] ?? 0 })).sort((a, b) => a.s - b.s);
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]?.s === order[i]?.s) j++;
    const averageRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (order[k]?.y === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood, with probabilities clipped to [1e-15, 1 − 1e-15] as is usual. */
export function logLoss(probabilities: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  probabilities.forEach((raw, i) => {
    const p = Math.min(Math.max(raw, 1e-15), 1 - 1e-15);
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  });
  return sum / Math.max(probabilities.length, 1);
}

/** Mean squared difference between probability and outcome. */
export function brierScore(probabilities: readonly number[], labels: readonly number[]): number {
  let sum = 0;
  probabilities.forEach((p, i) => {
    sum += (p - (labels[i] ?? 0)) ** 2;
  });
  return sum / Math.max(probabilities.length, 1);
}

/** One bin of a reliability table: what the model said on average, and what happened. */
export interface CalibrationBin {
  /** Predictions in [from, to). */
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observedRate: number;
}

/**
 * Calibration of probabilities: a reliability table over `bins` equal-width bins and the expected
 * calibration error (the count-weighted mean gap between predicted and observed rates). A churn
 * score read as "risk 0-100" must mean what it says: 0.3 should churn about 30% of the time.
 */
export function calibration(
  probabilities: readonly number[],
  labels: readonly number[],
  bins = 10,
): { ece: number; bins: CalibrationBin[] } {
  const table = Array.from({ length: bins }, (_, i) => ({
    from: i / bins,
    to: (i + 1) / bins,
    count: 0,
    predicted: 0,
    observed: 0,
  }));
  probabilities.forEach((p, i) => {
    const bin = table[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))];
    if (bin === undefined) return;
    bin.count++;
    bin.predicted += p;
    bin.observed += labels[i] ?? 0;
  });
  const total = probabilities.length;
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (const bin of table) {
    if (bin.count === 0) continue;
    const meanPredicted = bin.predicted / bin.count;
    const observedRate = bin.observed / bin.count;
    ece += (bin.count / total) * Math.abs(meanPredicted - observedRate);
    out.push({ from: bin.from, to: bin.to, count: bin.count, meanPredicted, observedRate });
  }
  return { ece, bins: out };
}

/** Mean and sample standard deviation. */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

/** A small seeded generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/**
 * Assigns each row to one of `k` folds so every fold has (to within one row) the same share of each
 * class: each class is shuffled with the seed and dealt round-robin.
 */
export function stratifiedFolds(labels: readonly number[], k: number, seed: number): number[] {
  const random = seededRandom(seed);
  const fold = new Array<number>(labels.length).fill(0);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  let next = 0;
  for (const c of classes) {
    const members = labels.flatMap((y, i) => (y === c ? [i] : []));
    for (const i of shuffled(members, random)) {
      fold[i] = next % k;
      next++;
    }
  }
  return fold;
}

/**
 * Inverse propensity scoring: the estimated mean reward had every row received `chosen[i]`, from
 * rows that actually received it. `propensity(a)` is the logging policy's probability of action
 * `a` (known for a randomised experiment). Unbiased for any policy that depends only on the row.
 */
export function ipsValue(
  logged: readonly string[],
  rewards: readonly number[],
  chosen: readonly string[],
  propensity: (action: string) => number,
): number {
  let sum = 0;
  logged.forEach((action, i) => {
    if (chosen[i] === action) sum += (rewards[i] ?? 0) / propensity(action);
  });
  return sum / Math.max(logged.length, 1);
}
