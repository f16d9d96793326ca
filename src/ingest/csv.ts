/**
 * CSV reading (RFC 4180: quoted fields, doubled quotes, CRLF or LF, line breaks inside quotes) and
 * column typing. Written here rather than taken from a library because every entry point must
 * report bad rows with their line number and the typing rules are part of Waymark's contract.
 */

/** A located CSV problem; `line` is 1-based in the file. */
export interface CsvProblem {
  line: number;
  column?: string | undefined;
  message: string;
}

/** One parsed record with the line it started on. */
export interface CsvRow {
  line: number;
  cells: string[];
}

/** Splits CSV text into rows of cells. Unterminated quotes are reported, not guessed at. */
export function parseCsv(text: string): { rows: CsvRow[]; problems: CsvProblem[] } {
  const rows: CsvRow[] = [];
  const problems: CsvProblem[] = [];
  let cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    if (inQuotes) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') {
      inQuotes = true;
      quoteLine = line;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && source[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
  }
  if (inQuotes) {
    problems.push({ line: quoteLine, message: 'a quoted field is never closed' });
  } else if (cell !== '' || cells.length > 0) {
    endRow();
  }
  return { rows, problems };
}

/** The type inferred for a column. */
export type ColumnType = 'number' | 'boolean' | 'string' | 'empty';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/u;

/**
 * Infers a column's type from its non-blank values: all numeric → number; all true/false (any
 * case) → boolean; otherwise string. Blank cells are absent values whatever the type.
 */
export function inferColumnType(values: readonly string[]): ColumnType {
  let numbers = 0;
  let booleans = 0;
  let present = 0;
  for (const raw of values) {
    const v = raw.trim();
    if (v === '') continue;
    present++;
    if (NUMBER.test(v) && Number.isFinite(Number(v))) numbers++;
    else if (/^(true|false)$/iu.test(v)) booleans++;
  }
  if (present === 0) return 'empty';
  if (numbers === present) return 'number';
  if (booleans === present) return 'boolean';
  return 'string';
}

/** Converts one cell by its column type; undefined for a blank cell. */
export function convertCell(raw: string, type: ColumnType): string | number | boolean | undefined {
  const v = raw.trim();
  if (v === '') return undefined;
  switch (type) {
    case 'number':
      return Number(v);
    case 'boolean':
      return v.toLowerCase() === 'true';
    case 'string':
      return raw;
    case 'empty':
      return undefined;
  }
}
