/**
 * L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least
 * squares) on the full batch. Deterministic: the same rows give the same coefficients, bit for bit,
 * because there is no sampling and the linear algebra runs in a fixed order.
 *
 * Newton rather than gradient descent because the feature counts here are small (tens to a few
 * hundred) and Newton converges in ~10 iterations without a learning rate to tune.
 */

/** A fitted model: `P(y=1 | x) = sigmoid(intercept + Σ weights[j] · x[j])`. */
export interface LogisticModel {
  intercept: number;
  weights: number[];
}

/** Fitting options. */
export interface LogisticOptions {
  /** L2 penalty λ on the weights (not the intercept), in the units of the summed log-likelihood. Default 1. */
  l2?: number;
  /** Newton iterations at most. Default 50. */
  maxIterations?: number;
  /** Stop when the largest coefficient step is below this. Default 1e-8. */
  tolerance?: number;
  /**
   * Per-weight multipliers of `l2` (e.g. a heavier penalty on action × feature interactions, so
   * per-customer differences between actions must earn their place against the common effect).
   * Default all 1.
   */
  penalties?: readonly number[];
  /** Per-row weights (e.g. to balance classes); default all 1. */
  rowWeights?: readonly number[];
}

/** The logistic function, written to avoid overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The model's probability for one feature vector. */
export function predictLogistic(model: LogisticModel, x: readonly number[]): number {
  let z = model.intercept;
  for (let j = 0; j < model.weights.length; j++) z += (model.weights[j] ?? 0) * (x[j] ?? 0);
  return sigmoid(z);
}

/**
 * Fits the model to rows `x` (each of the same length) and labels `y` (0 or 1). The L2 penalty makes
 * the problem strictly convex, so a perfectly separable toy problem still has a finite answer.
 */
export function fitLogistic(
  x: readonly (readonly number[])[],
  y: readonly number[],
  options: LogisticOptions = {},
): LogisticModel {
  const n = x.length;
  const p = (x[0]?.length ?? 0) + 1; // column 0 is the intercept
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-8;
  const beta = new Float64Array(p);
  // Start the intercept at the base rate's log-odds: fewer iterations and no early overshoot.
  let positives = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = options.rowWeights?.[i] ?? 1;
    positives += w * (y[i] ?? 0);
    total += w;
  }
  const base = Math.min(Math.max(positives / Math.max(total, 1e-12), 1e-6), 1 - 1e-6);
  beta[0] = Math.log(base / (1 - base));

  const row = new Float64Array(p);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradient = new Float64Array(p);
    const hessian = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      const xi = x[i] ?? [];
      row[0] = 1;
      for (let j = 1; j < p; j++) row[j] = xi[j - 1] ?? 0;
      let z = 0;
      for (let j = 0; j < p; j++) z += (beta[j] ?? 0) * (row[j] ?? 0);
      const mu = sigmoid(z);
      const w = options.rowWeights?.[i] ?? 1;
      const residual = w * ((y[i] ?? 0) - mu);
      // A floor on the IRLS weight keeps the Hessian well conditioned when predictions saturate.
      const curvature = w * Math.max(mu * (1 - mu), 1e-10);
      for (let j = 0; j < p; j++) {
        const rj = row[j] ?? 0;
        if (rj === 0) continue; // one-hot rows are mostly zeros
        gradient[j] = (gradient[j] ?? 0) + residual * rj;
        const cj = curvature * rj;
        const offset = j * p;
        // Lower triangle only; mirrored below.
        for (let k = 0; k <= j; k++)
          hessian[offset + k] = (hessian[offset + k] ?? 0) + cj * (row[k] ?? 0);
      }
    }
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < j; k++) hessian[k * p + j] = hessian[j * p + k] ?? 0;
    }
    for (let j = 1; j < p; j++) {
      const penalty = l2 * (options.penalties?.[j - 1] ?? 1);
      gradient[j] = (gradient[j] ?? 0) - penalty * (beta[j] ?? 0);
      hessian[j * p + j] = (hessian[j * p + j] ?? 0) + penalty;
    }
    // The intercept is unpenalised; a tiny ridge keeps the system solvable for an all-zero column.
    hessian[0] = (hessian[0] ?? 0) + 1e-9;
    const step = solveSymmetric(hessian, gradient, p);
    let largest = 0;
    for (let j = 0; j < p; j++) {
      beta[j] = (beta[j] ?? 0) + (step[j] ?? 0);
      largest = Math.max(largest, Math.abs(step[j] ?? 0));
    }
    if (largest < tolerance) break;
  }
  return { intercept: beta[0], weights: Array.from(beta.subarray(1)) };
}

/**
 * Solves `A s = b` for a symmetric positive-definite `A` (row-major, p×p) by Cholesky
 * factorisation. The penalised Hessian is positive definite by construction, so no pivoting.
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j] ?? 0;
    for (let k = 0; k < j; k++) d -= (l[j * p + k] ?? 0) ** 2;
    const diag = Math.sqrt(Math.max(d, 1e-12));
    l[j * p + j] = diag;
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j] ?? 0;
      for (let k = 0; k < j; k++) s -= (l[i * p + k] ?? 0) * (l[j * p + k] ?? 0);
      l[i * p + j] = s / diag;
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i] ?? 0;
    for (let k = 0; k < i; k++) s -= (l[i * p + k] ?? 0) * (z[k] ?? 0);
    z[i] = s / (l[i * p + i] ?? 1);
  }
  const out = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i] ?? 0;
    for (let k = i + 1; k < p; k++) s -= (l[k * p + i] ?? 0) * (out[k] ?? 0);
    out[i] = s / (l[i * p + i] ?? 1);
  }
  return out;
}
