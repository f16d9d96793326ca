/**
 * Next best action from a randomised experiment: learn P(reward | customer, action) for every
 * logged action, choose the action with the highest probability, and value that policy offline by
 * inverse propensity scoring on a seeded held-out part of the file.
 *
 * The model is one logistic regression with a shared part (customer → reward, whatever the action)
 * and a per-action part (action intercepts and action × feature slopes). The per-action slopes get
 * a much heavier L2 penalty than the shared ones: with 1/3 of the rows per action, separately
 * fitted models (a T-learner) mostly learn noise in the differences between actions, and on the
 * Hillstrom data that noise cost 1–3% of visits against simply sending everyone the best e-mail.
 * Shrinking the differences toward zero makes the policy fall back to the best single action
 * unless a segment's difference is large enough to survive the penalty.
 */
import { InvalidInputError } from '../core/index.js';
import { encodeTable, learnEncoder, type EncoderOptions } from './features.js';
import { formatReport, selectFeatures } from './inference.js';
import { fitLogistic, sigmoid } from './logistic.js';
import { ipsValue, seededRandom, shuffled } from './metrics.js';
import { MODEL_FORMAT_VERSION, type NbaModelFile } from './model-file.js';
import { columnIndex, isBlank, located, parseNumber, type Table } from './table.js';

/** NBA encoding: plain one-hot and linear numerics (hinges added nothing to the policy value). */
export const NBA_ENCODING: EncoderOptions = {};
/** L2 on the shared weights. */
export const NBA_L2_SHARED = 1;
/** L2 on the per-action slopes (see the module comment). */
export const NBA_L2_PER_ACTION = 1000;
/** Share of rows held out for the IPS evaluation. */
export const NBA_HOLDOUT = 0.3;

/** Options for `trainNba`. */
export interface NbaOptions {
  id: string;
  action: string;
  reward: string;
  /** Columns that are outcomes of the action and so must not be inputs (e.g. `conversion`). */
  exclude?: readonly string[];
  /** Seed of the held-out split. Default 1. */
  seed?: number;
  now: number;
}

/**
 * Trains the policy on a seeded 70% of the rows and values it on the other 30%. The saved model is
 * the one evaluated (not refitted on all rows), so its evaluation describes exactly what `decide`
 * runs.
 */
export function trainNba(
  table: Table,
  options: NbaOptions,
): { model: NbaModelFile; report: string } {
  const seed = options.seed ?? 1;
  columnIndex(table, options.id, 'id');
  const actionIndex = columnIndex(table, options.action, 'action');
  const rewardIndex = columnIndex(table, options.reward, 'reward');
  const logged = table.rows.map((r) => {
    const cell = r.cells[actionIndex] ?? '';
    if (isBlank(cell)) throw located(table.file, r.line, `the action '${options.action}' is blank`);
    return cell.trim();
  });
  const rewards = table.rows.map((r) => {
    const cell = r.cells[rewardIndex] ?? '';
    const value = parseNumber(cell);
    if (value !== 0 && value !== 1) {
      throw located(
        table.file,
        r.line,
        `the reward '${options.reward}' must be 0 or 1; got '${cell}'`,
      );
    }
    return value;
  });
  const actions = [...new Set(logged)].sort();
  if (actions.length < 2) {
    throw new InvalidInputError(
      `${table.file}: the action column '${options.action}' has ${actions.length} value; a policy needs at least 2`,
    );
  }
  const propensities: Record<string, number> = {};
  for (const a of actions) propensities[a] = logged.filter((l) => l === a).length / logged.length;

  const roles = new Map<string, string>([
    [options.id, 'id'],
    [options.action, 'action'],
    [options.reward, 'reward'],
  ]);
  for (const c of options.exclude ?? []) {
    columnIndex(table, c, 'excluded');
    roles.set(c, 'excluded');
  }
  const { features, report } = selectFeatures(table, roles);

  const order = shuffled(
    table.rows.map((_, i) => i),
    seededRandom(seed),
  );
  const holdoutCount = Math.round(order.length * NBA_HOLDOUT);
  const test = order.slice(0, holdoutCount).sort((a, b) => a - b);
  const train = order.slice(holdoutCount).sort((a, b) => a - b);
  if (test.length === 0 || train.length === 0) {
    throw new InvalidInputError(
      `${table.file}: too few rows to hold out ${NBA_HOLDOUT * 100}% for evaluation`,
    );
  }

  const encoder = learnEncoder(table, features, NBA_ENCODING, train);
  const x = encodeTable(encoder, table, train);
  const p = encoder.features.length;
  const A = actions.length;
  // Design: [shared x | action indicators | action-k block = x on rows of action k, else 0].
  const design = train.map((row, i) => {
    const xi = x[i] ?? [];
    const k = actions.indexOf(logged[row] ?? '');
    const out = new Array<number>(p + A + A * p).fill(0);
    for (let j = 0; j < p; j++) {
      out[j] = xi[j] ?? 0;
      out[p + A + k * p + j] = xi[j] ?? 0;
    }
    out[p + k] = 1;
    return out;
  });
  const penalties = [
    ...new Array<number>(p).fill(1),
    // Action main effects: effectively unpenalised, they are well estimated from a third of the rows.
    ...new Array<number>(A).fill(1e-3),
    ...new Array<number>(A * p).fill(NBA_L2_PER_ACTION / NBA_L2_SHARED),
  ];
  const fitted = fitLogistic(
    design,
    train.map((r) => rewards[r] ?? 0),
    { l2: NBA_L2_SHARED, penalties },
  );
  const shared = fitted.weights.slice(0, p);
  const actionModels = actions.map((action, k) => ({
    action,
    intercept: fitted.intercept + (fitted.weights[p + k] ?? 0),
    weights: fitted.weights.slice(p + A + k * p, p + A + (k + 1) * p),
  }));

  const model: NbaModelFile = {
    format: 'waymark-model',
    version: MODEL_FORMAT_VERSION,
    kind: 'nba',
    createdAt: new Date(options.now).toISOString(),
    training: { file: table.file, rows: train.length },
    idColumn: options.id,
    actionColumn: options.action,
    rewardColumn: options.reward,
    columns: report,
    encoder,
    propensities,
    shared,
    actions: actionModels,
    l2: { shared: NBA_L2_SHARED, perAction: NBA_L2_PER_ACTION },
    evaluation: {
      method: `inverse propensity scoring on a seeded ${NBA_HOLDOUT * 100}% hold-out (seed ${seed}); propensity = each action's share of the file`,
      seed,
      holdoutRows: test.length,
      policyValue: 0,
      actionValues: {},
      bestSingleAction: '',
      bestSingleValue: 0,
      ratio: 0,
      policyShares: {},
    },
  };
  const chosen = decide(model, table, test).map((d) => d.action);
  const testLogged = test.map((r) => logged[r] ?? '');
  const testRewards = test.map((r) => rewards[r] ?? 0);
  const propensity = (a: string): number => propensities[a] ?? 1;
  const evaluation = model.evaluation;
  evaluation.policyValue = ipsValue(testLogged, testRewards, chosen, propensity);
  for (const a of actions) {
    evaluation.actionValues[a] = ipsValue(
      testLogged,
      testRewards,
      test.map(() => a),
      propensity,
    );
    evaluation.policyShares[a] = chosen.filter((c) => c === a).length / chosen.length;
  }
  for (const a of actions) {
    const value = evaluation.actionValues[a] ?? 0;
    if (evaluation.bestSingleAction === '' || value > evaluation.bestSingleValue) {
      evaluation.bestSingleAction = a;
      evaluation.bestSingleValue = value;
    }
  }
  evaluation.ratio = evaluation.policyValue / evaluation.bestSingleValue;
  return { model, report: formatReport(report) };
}

/** One decision. */
export interface Decision {
  id: string;
  action: string;
  /** Predicted reward probability of the chosen action. */
  probability: number;
}

/**
 * The policy's action for each row (all rows by default): the highest predicted reward
 * probability, ties going to the action listed first (alphabetical), so decisions are reproducible.
 */
export function decide(
  model: NbaModelFile,
  table: Table,
  rows: readonly number[] = table.rows.map((_, i) => i),
): Decision[] {
  const idIndex = columnIndex(table, model.idColumn, 'id');
  const x = encodeTable(model.encoder, table, rows);
  return rows.map((row, i) => {
    const xi = x[i] ?? [];
    let base = 0;
    model.shared.forEach((w, j) => (base += w * (xi[j] ?? 0)));
    let best = { action: model.actions[0]?.action ?? '', probability: -1 };
    for (const a of model.actions) {
      let z = base + a.intercept;
      a.weights.forEach((w, j) => (z += w * (xi[j] ?? 0)));
      const probability = sigmoid(z);
      if (probability > best.probability) best = { action: a.action, probability };
    }
    return { id: (table.rows[row]?.cells[idIndex] ?? '').trim(), ...best };
  });
}
