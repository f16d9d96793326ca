/**
 * Turning table rows into numeric feature vectors, learned on the training rows and saved in the
 * model so scoring encodes exactly as training did.
 *
 * Glossary:
 * - **numeric column** → its value (blank → the training median), optional hinge terms
 *   `max(0, x − knot)` at training quantiles (a piecewise-linear curve, so e.g. churn can fall
 *   steeply over the first months of tenure and flatten after), and a missing-indicator when the
 *   training data had blanks.
 * - **categorical column** → one-hot, one feature per training level; a level never seen in
 *   training (or a blank, unless blanks were seen) encodes as all zeros — "no information".
 * - **interaction** of two columns → the products of their base features (level indicators and
 *   imputed values), so a slope can differ by level (e.g. monthly charges by internet service).
 * - **standardised**: every feature is centred and scaled by its training mean and standard
 *   deviation, so one L2 penalty treats all features alike and `coefficient × value` measures how
 *   far this row pushes the prediction away from the average training row.
 */
import { located, parseNumber, type Table, type ColumnInfo, isBlank } from './table.js';

/** How one source column is encoded. */
export type ColumnEncoding =
  | {
      kind: 'numeric';
      column: string;
      median: number;
      missingIndicator: boolean;
      /** Hinge knots in the column's own units; empty for a plain linear term. */
      knots: number[];
      /** Adds `log(1 + x)` (only for columns never negative in training). */
      log: boolean;
    }
  | { kind: 'categorical'; column: string; levels: string[] };

/** One encoded feature with its training statistics. */
export interface FeatureSpec {
  /** Readable name, e.g. `tenure`, `tenure>12`, `Contract=Two year`, `TotalCharges (blank)`. */
  name: string;
  /** The source column(s) it belongs to, for explanations: `tenure` or `InternetService×MonthlyCharges`. */
  group: string;
  mean: number;
  sd: number;
}

/** Everything needed to encode a row, as saved in the model file. */
export interface EncoderSpec {
  columns: ColumnEncoding[];
  /** Pairs of column names whose base features are multiplied. */
  interactions: [string, string][];
  features: FeatureSpec[];
}

/** Options for learning an encoder. */
export interface EncoderOptions {
  /** Hinge knots per numeric column with at least 10 distinct values. Default 0. */
  knots?: number;
  /** Adds `log(1 + x)` for non-negative numeric columns with at least 10 distinct values. Default false. */
  log?: boolean;
  /** Column pairs to interact. Default none. */
  interactions?: readonly [string, string][];
}

/** A numeric column's base value, or a level indicator, before interactions. */
interface BaseFeature {
  name: string;
  value: (cells: readonly string[]) => number;
}

/**
 * Learns the encoding of `columns` (by name, with their inferred kinds) from the table's rows.
 * `rows` restricts learning to a subset (the training folds in cross-validation).
 */
export function learnEncoder(
  table: Table,
  columns: readonly ColumnInfo[],
  options: EncoderOptions = {},
  rows: readonly number[] = table.rows.map((_, i) => i),
): EncoderSpec {
  const encodings: ColumnEncoding[] = [];
  for (const info of columns) {
    const index = table.header.indexOf(info.name);
    const cells = rows.map((r) => table.rows[r]?.cells[index] ?? '');
    if (info.kind === 'numeric') {
      const values = cells
        .map(parseNumber)
        .filter((v): v is number => v !== undefined)
        .sort((a, b) => a - b);
      const median = quantile(values, 0.5);
      const knots: number[] = [];
      const wanted = options.knots ?? 0;
      if (wanted > 0 && new Set(values).size >= 10) {
        for (let k = 1; k <= wanted; k++) {
          const knot = quantile(values, k / (wanted + 1));
          if (knot > (values[0] ?? 0) && knot < (values.at(-1) ?? 0) && !knots.includes(knot)) {
            knots.push(knot);
          }
        }
      }
      const blanks = cells.length - values.length;
      encodings.push({
        kind: 'numeric',
        column: info.name,
        median,
        missingIndicator: blanks > 0,
        knots,
        log: (options.log ?? false) && new Set(values).size >= 10 && (values[0] ?? -1) >= 0,
      });
    } else if (info.kind === 'categorical') {
      // Levels in order of first appearance would depend on row order; sorted is reproducible.
      const levels = [...new Set(cells.filter((c) => !isBlank(c)).map((c) => c.trim()))].sort();
      encodings.push({ kind: 'categorical', column: info.name, levels });
    }
  }
  const spec: EncoderSpec = {
    columns: encodings,
    interactions: (options.interactions ?? [])
      .filter(
        ([a, b]) => encodings.some((e) => e.column === a) && encodings.some((e) => e.column === b),
      )
      .map(([a, b]): [string, string] => [a, b]),
    features: [],
  };
  // Statistics for standardising, from the same training rows.
  const compiled = compileRaw(spec, table.header);
  const raw = rows.map((r) => compiled(table.rows[r]?.cells ?? []));
  const names = featureNames(spec);
  spec.features = names.map(({ name, group }, j) => {
    const column = raw.map((v) => v[j] ?? 0);
    const mean = column.reduce((a, b) => a + b, 0) / Math.max(column.length, 1);
    const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(column.length, 1);
    return { name, group, mean, sd: Math.sqrt(variance) };
  });
  return spec;
}

/** Checks that `header` has every column the encoder reads, naming the first that is missing. */
export function checkColumns(spec: EncoderSpec, table: Table): void {
  for (const c of spec.columns) {
    if (!table.header.includes(c.column)) {
      throw located(table.file, 1, `the model needs column '${c.column}', which this file lacks`);
    }
  }
}

/**
 * Encodes rows (all by default) into standardised feature vectors. A numeric column holding a
 * non-number is an error located at its row, not a silent blank: it usually means the wrong file.
 */
export function encodeTable(
  spec: EncoderSpec,
  table: Table,
  rows: readonly number[] = table.rows.map((_, i) => i),
): number[][] {
  checkColumns(spec, table);
  const numeric = spec.columns
    .filter((c) => c.kind === 'numeric')
    .map((c) => ({ column: c.column, index: table.header.indexOf(c.column) }));
  const compiled = compileRaw(spec, table.header);
  const features = spec.features;
  return rows.map((row) => {
    const r = table.rows[row];
    if (r === undefined) return [];
    for (const { column, index } of numeric) {
      const cell = r.cells[index] ?? '';
      if (!isBlank(cell) && parseNumber(cell) === undefined) {
        throw located(table.file, r.line, `column '${column}' must be a number; got '${cell}'`);
      }
    }
    const raw = compiled(r.cells);
    return features.map((f, j) => (f.sd > 0 ? ((raw[j] ?? 0) - f.mean) / f.sd : 0));
  });
}

function baseFeatures(encoding: ColumnEncoding, header: readonly string[]): BaseFeature[] {
  const index = header.indexOf(encoding.column);
  if (encoding.kind === 'numeric') {
    const median = encoding.median;
    return [
      {
        name: encoding.column,
        value: (cells) => parseNumber(cells[index] ?? '') ?? median,
      },
    ];
  }
  return encoding.levels.map((level) => ({
    name: `${encoding.column}=${level}`,
    value: (cells) => ((cells[index] ?? '').trim() === level ? 1 : 0),
  }));
}

/** Names and groups in the same order as `compileRaw` produces values. */
function featureNames(spec: EncoderSpec): { name: string; group: string }[] {
  const out: { name: string; group: string }[] = [];
  for (const e of spec.columns) {
    for (const b of baseFeatures(e, [])) out.push({ name: b.name, group: e.column });
    if (e.kind === 'numeric') {
      for (const k of e.knots) out.push({ name: `${e.column}>${k}`, group: e.column });
      if (e.log) out.push({ name: `log(1+${e.column})`, group: e.column });
      if (e.missingIndicator) out.push({ name: `${e.column} (blank)`, group: e.column });
    }
  }
  for (const [a, b] of spec.interactions) {
    const ea = spec.columns.find((e) => e.column === a);
    const eb = spec.columns.find((e) => e.column === b);
    if (ea === undefined || eb === undefined) continue;
    for (const fa of baseFeatures(ea, [])) {
      for (const fb of baseFeatures(eb, [])) {
        out.push({ name: `${fa.name} × ${fb.name}`, group: `${a}×${b}` });
      }
    }
  }
  return out;
}

/**
 * Compiles the spec against a header into one function from cells to raw (unstandardised) values,
 * so the column lookups happen once per file rather than once per row.
 */
function compileRaw(
  spec: EncoderSpec,
  header: readonly string[],
): (cells: readonly string[]) => number[] {
  const parts: ((cells: readonly string[], out: number[]) => void)[] = [];
  for (const e of spec.columns) {
    const base = baseFeatures(e, header);
    parts.push((cells, out) => {
      for (const b of base) out.push(b.value(cells));
    });
    if (e.kind === 'numeric') {
      const index = header.indexOf(e.column);
      const { knots, median, log, missingIndicator } = e;
      parts.push((cells, out) => {
        const value = parseNumber(cells[index] ?? '');
        const x = value ?? median;
        for (const k of knots) out.push(Math.max(0, x - k));
        if (log) out.push(Math.log1p(Math.max(x, 0)));
        if (missingIndicator) out.push(value === undefined ? 1 : 0);
      });
    }
  }
  for (const [a, b] of spec.interactions) {
    const ea = spec.columns.find((e) => e.column === a);
    const eb = spec.columns.find((e) => e.column === b);
    if (ea === undefined || eb === undefined) continue;
    const fa = baseFeatures(ea, header);
    const fb = baseFeatures(eb, header);
    parts.push((cells, out) => {
      for (const f of fa) {
        const va = f.value(cells);
        for (const g of fb) out.push(va * g.value(cells));
      }
    });
  }
  return (cells) => {
    const out: number[] = [];
    for (const part of parts) part(cells, out);
    return out;
  };
}

/** Linear-interpolated quantile of sorted values; 0 for none. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const a = sorted[lower] ?? 0;
  const b = sorted[Math.min(lower + 1, sorted.length - 1)] ?? a;
  return a + (b - a) * (position - lower);
}
