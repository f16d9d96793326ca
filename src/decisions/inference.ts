/**
 * Choosing the feature columns of a training file and reporting, one line per column, what was
 * inferred about each — so a person can see at a glance that `TotalCharges` was read as a number
 * with blanks, not as a category with 6,000 levels.
 */
import { columnCells, inferColumn, type ColumnInfo, type Table } from './table.js';

/** One line of the inference report. */
export interface ColumnReport {
  column: string;
  /** `numeric`, `categorical`, `empty`, or the role the command gave it (`id`, `label`, ...). */
  kind: string;
  /** Human-readable detail, e.g. `11 blanks → imputed with the median (1394.55) + missing-indicator`. */
  detail: string;
  /** False when the column is not a model input (a role, an empty or identifier-like column). */
  used: boolean;
}

/**
 * A categorical column with more levels than this (or with a distinct value on most rows) looks
 * like an identifier or free text: one-hot encoding it would memorise rows, not learn, so it is
 * left out and the report says why.
 */
export const MAX_LEVELS = 100;

/**
 * Infers every column not in `roles` and decides which are features. `roles` maps a column the
 * command names (id, label, action, reward, excluded outcomes) to the word the report shows;
 * `notes` replaces a role column's detail (e.g. the label's class counts).
 */
export function selectFeatures(
  table: Table,
  roles: ReadonlyMap<string, string>,
  notes: ReadonlyMap<string, string> = new Map(),
): { features: ColumnInfo[]; report: ColumnReport[] } {
  const features: ColumnInfo[] = [];
  const report: ColumnReport[] = [];
  table.header.forEach((name, index) => {
    const role = roles.get(name);
    if (role !== undefined) {
      report.push({
        column: name,
        kind: role,
        detail: notes.get(name) ?? 'not a model input',
        used: false,
      });
      return;
    }
    const info = inferColumn(name, columnCells(table, index));
    const blanks = info.blanks;
    switch (info.kind) {
      case 'empty':
        report.push({
          column: name,
          kind: 'empty',
          detail: 'every cell blank, ignored',
          used: false,
        });
        return;
      case 'numeric': {
        const cells = columnCells(table, index);
        const values = cells.map(Number).filter((_, i) => (cells[i] ?? '').trim() !== '');
        const sorted = [...values].sort((a, b) => a - b);
        const median = medianOf(sorted);
        const detail =
          blanks === 0
            ? `no blanks, range ${fmt(sorted[0] ?? 0)}..${fmt(sorted.at(-1) ?? 0)}`
            : `${blanks} blank${blanks === 1 ? '' : 's'} → imputed with the median (${fmt(median)}) + missing-indicator`;
        report.push({ column: name, kind: 'numeric', detail, used: true });
        features.push(info);
        return;
      }
      case 'categorical': {
        if (info.distinct > MAX_LEVELS || info.distinct > table.rows.length / 2) {
          report.push({
            column: name,
            kind: 'categorical',
            detail: `${info.distinct} levels, ignored (looks like an identifier or free text)`,
            used: false,
          });
          return;
        }
        const blankNote =
          blanks === 0 ? '' : `, ${blanks} blank${blanks === 1 ? '' : 's'} → no level`;
        report.push({
          column: name,
          kind: 'categorical',
          detail: `${info.distinct} level${info.distinct === 1 ? '' : 's'}${blankNote}`,
          used: true,
        });
        features.push(info);
        return;
      }
    }
  });
  return { features, report };
}

/** The report as aligned text lines, e.g. `  TotalCharges     numeric      11 blanks → ...`. */
export function formatReport(report: readonly ColumnReport[]): string {
  const width = Math.max(...report.map((r) => r.column.length), 6);
  const kindWidth = Math.max(...report.map((r) => r.kind.length), 4);
  return report
    .map((r) => `  ${r.column.padEnd(width)}  ${r.kind.padEnd(kindWidth)}  ${r.detail}\n`)
    .join('');
}

function medianOf(sorted: readonly number[]): number {
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A number short enough for a report line. */
export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}
