/**
 * CSV file → typed table for model training and scoring.
 *
 * Glossary:
 * - **table**: the header and the data rows of one CSV file, each row with the line it starts on,
 *   so every later problem can be reported as `file:line: message`.
 * - **column kind**: `numeric` when every non-blank cell parses as a finite number, otherwise
 *   `categorical`; a column that is blank everywhere is `empty` and carries no information.
 * - **blank**: an empty (or all-space) cell — an absent value, never a zero or a level.
 */
import { InvalidInputError } from '../core/index.js';
import { parseCsv } from '../ingest/index.js';

/** One data row: the cells in header order and the 1-based line the row starts on. */
export interface TableRow {
  line: number;
  cells: readonly string[];
}

/** A parsed CSV file: named columns and rows of exactly as many cells. */
export interface Table {
  /** The name used in error messages (the path as given on the command line). */
  file: string;
  header: readonly string[];
  rows: readonly TableRow[];
}

/** What was inferred about one column. */
export type ColumnKind = 'numeric' | 'categorical' | 'empty';

/** The inferred type of a column with the counts the report prints. */
export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
  /** Blank cells. */
  blanks: number;
  /** Distinct non-blank values (for a categorical column, its levels). */
  distinct: number;
}

/** Same rule as the ingest typing: a plain decimal or scientific number, nothing else. */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/u;

/** Parses a cell as a number; undefined for a blank or for anything that is not a finite number. */
export function parseNumber(raw: string): number | undefined {
  const v = raw.trim();
  if (v === '' || !NUMBER.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** True for a blank cell (empty or only spaces). */
export function isBlank(raw: string): boolean {
  return raw.trim() === '';
}

/**
 * Parses CSV text into a table. Rejects, with the file and line, what a model cannot use: an empty
 * file, a header without data rows, duplicate or blank column names, an unterminated quote and a
 * row whose cell count differs from the header's (a ragged row usually means an unquoted comma, and
 * silently shifting the columns would train on garbage).
 */
export function parseTable(text: string, file: string): Table {
  const { rows, problems } = parseCsv(text);
  const first = problems[0];
  if (first !== undefined) throw located(file, first.line, first.message);
  const head = rows[0];
  if (head === undefined) throw new InvalidInputError(`${file}: the file is empty`);
  const header = head.cells.map((c) => c.trim());
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') throw located(file, head.line, `column ${i + 1} has no name`);
    if (seen.has(name)) throw located(file, head.line, `column '${name}' appears twice`);
    seen.add(name);
  });
  const data = rows.slice(1);
  if (data.length === 0) throw located(file, head.line, 'a header but no data rows');
  for (const row of data) {
    if (row.cells.length !== header.length) {
      throw located(
        file,
        row.line,
        `${row.cells.length} cells but the header has ${header.length} columns`,
      );
    }
  }
  return { file, header, rows: data.map((r) => ({ line: r.line, cells: r.cells })) };
}

/** The error for a problem at one line of a file. */
export function located(file: string, line: number, message: string): InvalidInputError {
  return new InvalidInputError(`${file}:${line}: ${message}`, { file, line });
}

/** The index of a named column, or a clear error naming the columns that do exist. */
export function columnIndex(table: Table, name: string, role: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) {
    throw located(
      table.file,
      1,
      `no ${role} column '${name}' (columns: ${table.header.join(', ')})`,
    );
  }
  return i;
}

/** Infers one column's kind from its cells (see the glossary). Never throws. */
export function inferColumn(name: string, cells: readonly string[]): ColumnInfo {
  let blanks = 0;
  let numeric = true;
  const distinct = new Set<string>();
  for (const raw of cells) {
    if (isBlank(raw)) {
      blanks++;
      continue;
    }
    if (numeric && parseNumber(raw) === undefined) numeric = false;
    // Categorical levels keep their spelling; only surrounding spaces are dropped.
    distinct.add(raw.trim());
  }
  const kind: ColumnKind = distinct.size === 0 ? 'empty' : numeric ? 'numeric' : 'categorical';
  return { name, kind, blanks, distinct: distinct.size };
}

/** The cells of one column. */
export function columnCells(table: Table, index: number): string[] {
  return table.rows.map((r) => r.cells[index] ?? '');
}
