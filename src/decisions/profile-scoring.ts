/**
 * Scoring a live customer profile with a model trained on a CSV file.
 *
 * The profile is turned into a one-row table with the model's own column names and then encoded by
 * the same `encodeTable` that training and `waymark models score` use, so a customer scores the same
 * whether they arrive in a file or through the engine. A column is read from the profile by its
 * name (`tenure`), or as a dotted path (`contract.months`) when no attribute has that name. A value
 * the model cannot read (text in a numeric column, an object) is treated as missing — the training
 * median, exactly like a blank cell — and said so in the notes, never an error: a typo in one
 * profile must not stop that customer's journeys.
 */
import { readField } from '../journeys/index.js';
import { activityFeatures } from './activity.js';
import { topFactors } from './churn.js';
import { encodeTable } from './features.js';
import { predictLogistic, sigmoid } from './logistic.js';
import type { ChurnModelFile, NbaModelFile } from './model-file.js';
import { parseNumber, type Table } from './table.js';
import type { EncoderSpec } from './features.js';

/** A binary model's score of one profile. */
export interface ProfileScore {
  /** Probability of the model's positive label, 0–1. */
  probability: number;
  /** The same on the spec's 0–100 scale ("Risk score 0-100"), rounded. */
  score: number;
  /** The top factors by contribution, e.g. `Contract=Month-to-month (+0.82)`. */
  factors: string[];
  /** Columns the profile lacks or holds unreadable values for (scored as missing). */
  notes: string[];
}

/**
 * The profile as models see it at `now`: its attributes plus the activity features derived from
 * `attributes.activity` at that instant (see `activityFeatures`). Training and scoring both read
 * profiles through this, so their columns agree.
 */
export function modelView(
  attributes: Readonly<Record<string, unknown>>,
  now: number,
): Readonly<Record<string, unknown>> {
  if (attributes['activity'] === undefined) return attributes;
  return { ...attributes, ...activityFeatures(attributes['activity'], now) };
}

/** Scores a profile at `now` with a binary (`churn`-kind) model. */
export function scoreProfile(
  model: ChurnModelFile,
  attributes: Readonly<Record<string, unknown>>,
  now: number,
): ProfileScore {
  const { table, notes } = profileTable(model.encoder, modelView(attributes, now));
  const x = encodeTable(model.encoder, table)[0] ?? [];
  const { intercept, weights } = model.coefficients;
  const probability = predictLogistic({ intercept, weights }, x);
  const cells = table.rows[0]?.cells ?? [];
  return {
    probability,
    score: Math.round(probability * 100),
    factors: topFactors(model.encoder, weights, x, table.header, cells),
    notes,
  };
}

/** A next-best-action policy's reward probability for each of its actions, for one profile. */
export function actionProbabilities(
  model: NbaModelFile,
  attributes: Readonly<Record<string, unknown>>,
  now: number,
): { probabilities: Record<string, number>; notes: string[] } {
  const { table, notes } = profileTable(model.encoder, modelView(attributes, now));
  const x = encodeTable(model.encoder, table)[0] ?? [];
  let base = 0;
  model.shared.forEach((w, j) => (base += w * (x[j] ?? 0)));
  const probabilities: Record<string, number> = {};
  for (const action of model.actions) {
    let z = base + action.intercept;
    action.weights.forEach((w, j) => (z += w * (x[j] ?? 0)));
    probabilities[action.action] = sigmoid(z);
  }
  return { probabilities, notes };
}

/** The profile as a one-row table over the encoder's columns, with what could not be read. */
function profileTable(
  encoder: EncoderSpec,
  attributes: Readonly<Record<string, unknown>>,
): { table: Table; notes: string[] } {
  const notes: string[] = [];
  const header = encoder.columns.map((c) => c.column);
  const cells = encoder.columns.map((column) => {
    const value =
      column.column in attributes
        ? attributes[column.column]
        : readField(attributes, column.column);
    const cell = cellOf(value);
    if (cell === null) {
      notes.push(`${column.column}: missing`);
      return '';
    }
    if (column.kind === 'numeric' && parseNumber(cell) === undefined) {
      notes.push(`${column.column}: '${cell}' is not a number; scored as missing`);
      return '';
    }
    return cell;
  });
  return { table: { file: 'profile', header, rows: [{ line: 1, cells }] }, notes };
}

/** A profile value as a CSV cell would hold it; null when absent or not a plain value. */
function cellOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return null;
}

/** What `profilesTable` builds a training table from. */
export interface ProfileTableOptions {
  /** Profile field of the outcome. */
  readonly label: string;
  /** Inputs; default every top-level field holding a plain value (number, text, yes/no). */
  readonly features?: readonly string[] | undefined;
  /** Fields never used as inputs. */
  readonly exclude?: readonly string[] | undefined;
  /** The instant activity features are derived at (the training time). */
  readonly now: number;
}

/** The column of the customer id in a table built from profiles. */
export const PROFILE_ID_COLUMN = 'customer_id';

/**
 * Customer profiles as a training table: one row per customer whose label is set, the label and
 * input fields as columns, cells written exactly as `scoreProfile` reads them (so training and
 * live scoring see the same values). Customers without the label are left out: an unknown outcome
 * is not a negative.
 */
export function profilesTable(
  customers: readonly { id: string; attributes: Readonly<Record<string, unknown>> }[],
  options: ProfileTableOptions,
): Table {
  const label = options.label.replace(/^customer\./u, '');
  const excluded = new Set([label, PROFILE_ID_COLUMN, ...(options.exclude ?? [])].map(unprefix));
  const read = (attributes: Readonly<Record<string, unknown>>, field: string): unknown =>
    field in attributes ? attributes[field] : readField(attributes, field);
  const profiles = customers.map((c) => ({
    id: c.id,
    attributes: modelView(c.attributes, options.now),
  }));
  const labelled = profiles.filter((c) => cellOf(read(c.attributes, label)) !== null);
  let features = options.features?.map(unprefix);
  if (features === undefined) {
    const found = new Set<string>();
    for (const c of labelled) {
      for (const [key, value] of Object.entries(c.attributes)) {
        if (cellOf(value) !== null) found.add(key);
      }
    }
    features = [...found].sort();
  }
  features = features.filter((f) => !excluded.has(f));
  const header = [PROFILE_ID_COLUMN, ...features, label];
  const rows = labelled.map((c, i) => ({
    line: i + 2,
    cells: [
      c.id,
      ...features.map((f) => cellOf(read(c.attributes, f)) ?? ''),
      cellOf(read(c.attributes, label)) ?? '',
    ],
  }));
  return { file: 'customer profiles', header, rows };
}

function unprefix(field: string): string {
  return field.replace(/^customer\./u, '');
}

/** How a label value is written in a table built from profiles (`true` → `Yes`). */
export function labelCell(value: string | number | boolean): string {
  return cellOf(value) ?? '';
}
