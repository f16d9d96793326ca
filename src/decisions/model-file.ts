/**
 * The model file: one JSON document holding everything needed to score (the encoder and the
 * coefficients) and everything needed to judge the model (its evaluation, the training data's size
 * and the inference report). Validated on load, so a hand-edited or truncated file fails with a
 * clear message instead of producing NaN scores.
 */
import type { CalibrationBin } from './metrics.js';
import { z } from 'zod';
import { InvalidInputError } from '../core/index.js';
import type { EncoderSpec } from './features.js';
import type { ColumnReport } from './inference.js';

/** The model file format's version; bumped when a reader could misread an older file. */
export const MODEL_FORMAT_VERSION = 1;

/** Mean and standard deviation over the cross-validation folds. */
export interface Spread {
  mean: number;
  sd: number;
}

/** A churn model: a probability of the positive label and the features that drive it. */
export interface ChurnModelFile {
  format: 'waymark-model';
  version: number;
  kind: 'churn';
  /** ISO-8601 instant of training. */
  createdAt: string;
  training: { file: string; rows: number; positives: number };
  idColumn: string;
  label: { column: string; positive: string };
  columns: ColumnReport[];
  encoder: EncoderSpec;
  /** `weights[j]` multiplies the standardised `encoder.features[j]`. */
  coefficients: { intercept: number; weights: number[]; l2: number };
  metrics: {
    method: string;
    folds: number;
    seed: number;
    rocAuc: Spread;
    logLoss: Spread;
    brier: Spread;
    /** Out-of-fold reliability: expected calibration error and its table. */
    calibration?: { ece: number; bins: CalibrationBin[] } | undefined;
  };
}

/** One action's logistic model inside a next-best-action policy. */
export interface ActionModel {
  action: string;
  intercept: number;
  weights: number[];
}

/** A next-best-action policy: the action with the highest predicted reward probability. */
export interface NbaModelFile {
  format: 'waymark-model';
  version: number;
  kind: 'nba';
  createdAt: string;
  training: { file: string; rows: number };
  idColumn: string;
  actionColumn: string;
  rewardColumn: string;
  columns: ColumnReport[];
  encoder: EncoderSpec;
  /** Logging probability of each action (its share of the file, the experiment being randomised). */
  propensities: Record<string, number>;
  /**
   * Per action, P(reward | customer, action) = sigmoid(intercept + shared·x + own·x): a shared
   * part learned from every row and a per-action part penalised harder (see `docs/decisions.md`).
   */
  shared: number[];
  actions: ActionModel[];
  l2: { shared: number; perAction: number };
  evaluation: {
    method: string;
    seed: number;
    holdoutRows: number;
    policyValue: number;
    actionValues: Record<string, number>;
    bestSingleAction: string;
    bestSingleValue: number;
    ratio: number;
    /** Share of held-out rows the policy gives each action. */
    policyShares: Record<string, number>;
  };
}

/** Either kind of model file. */
export type ModelFile = ChurnModelFile | NbaModelFile;

const spread = z.object({ mean: z.number(), sd: z.number() });
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const encoder = z.object({
  columns: z.array(
    z.union([
      z.object({
        kind: z.literal('numeric'),
        column: z.string(),
        median: finite,
        missingIndicator: z.boolean(),
        knots: z.array(finite),
        log: z.boolean(),
      }),
      z.object({ kind: z.literal('categorical'), column: z.string(), levels: z.array(z.string()) }),
    ]),
  ),
  interactions: z.array(z.tuple([z.string(), z.string()])),
  features: z.array(z.object({ name: z.string(), group: z.string(), mean: finite, sd: finite })),
});
const report = z.array(
  z.object({ column: z.string(), kind: z.string(), detail: z.string(), used: z.boolean() }),
);
const common = {
  format: z.literal('waymark-model'),
  version: z.literal(MODEL_FORMAT_VERSION),
  createdAt: z.string(),
  idColumn: z.string(),
  columns: report,
  encoder,
};
const churnSchema = z.object({
  ...common,
  kind: z.literal('churn'),
  training: z.object({ file: z.string(), rows: z.number(), positives: z.number() }),
  label: z.object({ column: z.string(), positive: z.string() }),
  coefficients: z.object({ intercept: finite, weights: z.array(finite), l2: z.number() }),
  metrics: z.object({
    method: z.string(),
    folds: z.number(),
    seed: z.number(),
    rocAuc: spread,
    logLoss: spread,
    brier: spread,
    calibration: z
      .object({
        ece: z.number(),
        bins: z.array(
          z.object({
            from: z.number(),
            to: z.number(),
            count: z.number(),
            meanPredicted: z.number(),
            observedRate: z.number(),
          }),
        ),
      })
      .optional(),
  }),
});
const nbaSchema = z.object({
  ...common,
  kind: z.literal('nba'),
  training: z.object({ file: z.string(), rows: z.number() }),
  actionColumn: z.string(),
  rewardColumn: z.string(),
  propensities: z.record(z.string(), z.number()),
  shared: z.array(finite),
  actions: z
    .array(z.object({ action: z.string(), intercept: finite, weights: z.array(finite) }))
    .min(1),
  l2: z.object({ shared: z.number(), perAction: z.number() }),
  evaluation: z.object({
    method: z.string(),
    seed: z.number(),
    holdoutRows: z.number(),
    policyValue: z.number(),
    actionValues: z.record(z.string(), z.number()),
    bestSingleAction: z.string(),
    bestSingleValue: z.number(),
    ratio: z.number(),
    policyShares: z.record(z.string(), z.number()),
  }),
});
const modelSchema = z.discriminatedUnion('kind', [churnSchema, nbaSchema]);

/**
 * Parses and validates a model file's text. Errors name the file and the first offending field;
 * the weight vectors must match the encoder's feature count, or scoring would silently misalign.
 */
export function parseModelFile(text: string, file: string): ModelFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `${file}: not JSON (${(error as Error).message})`,
      undefined,
      'MODEL_INVALID',
    );
  }
  const parsed = modelSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new InvalidInputError(
      `${file}: not a Waymark model file (version ${MODEL_FORMAT_VERSION})${where}: ${issue?.message ?? 'invalid'}`,
      undefined,
      'MODEL_INVALID',
    );
  }
  const model: ModelFile = parsed.data;
  const features = model.encoder.features.length;
  const vectors =
    model.kind === 'churn'
      ? [model.coefficients.weights]
      : [model.shared, ...model.actions.map((a) => a.weights)];
  if (vectors.some((v) => v.length !== features)) {
    throw new InvalidInputError(
      `${file}: the coefficients do not match the ${features} encoded features`,
      undefined,
      'MODEL_INVALID',
    );
  }
  return model;
}
