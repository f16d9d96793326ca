import type { JsonObject, JsonValue } from '../core/index.js';
import { convertCell, inferColumnType, parseCsv, type ColumnType } from './csv.js';
import { MAX_IDENTIFIER_LENGTH } from './event-input.js';

/** A customer profile read from a file. */
export interface CustomerInput {
  id: string;
  attributes: JsonObject;
}

/** A located problem in a customers file. */
export interface FileProblem {
  file: string;
  line: number;
  message: string;
}

/** What reading a customers file gives: the profiles, the problems and, for CSV, the column types. */
export interface CustomerFile {
  customers: CustomerInput[];
  problems: FileProblem[];
  /** CSV only: the type inferred per column (a report for the user). */
  columns: Record<string, ColumnType>;
}

const ID_FIELDS = ['id', 'customer_id'];

/**
 * Reads customers from CSV (header row; `id` or `customer_id` column; dotted headers such as
 * `contract.end_date` make nested objects; columns typed automatically), NDJSON (one object per line)
 * or a JSON array, chosen by the file name's extension. Every bad row is reported with its line;
 * duplicate ids are an error (which profile would win is otherwise a guess).
 */
export function parseCustomerFile(text: string, file: string): CustomerFile {
  if (/\.csv$/iu.test(file)) return fromCsv(text, file);
  if (/\.json$/iu.test(file)) return fromJsonArray(text, file);
  return fromNdjson(text, file);
}

function fromCsv(text: string, file: string): CustomerFile {
  const { rows, problems: csvProblems } = parseCsv(text);
  const problems: FileProblem[] = csvProblems.map((p) => ({
    file,
    line: p.line,
    message: p.message,
  }));
  const [header, ...body] = rows;
  if (!header)
    return {
      customers: [],
      problems: [...problems, { file, line: 1, message: 'the file is empty' }],
      columns: {},
    };
  const names = header.cells.map((c) => c.trim());
  const idIndex = names.findIndex((n) => ID_FIELDS.includes(n));
  if (idIndex < 0) {
    problems.push({
      file,
      line: header.line,
      message: "the header needs an 'id' or 'customer_id' column",
    });
    return { customers: [], problems, columns: {} };
  }
  names.forEach((n, i) => {
    if (n === '')
      problems.push({ file, line: header.line, message: `column ${i + 1} has no name` });
    else if (names.indexOf(n) !== i)
      problems.push({ file, line: header.line, message: `column '${n}' appears twice` });
  });
  const columns: Record<string, ColumnType> = {};
  const types = names.map((name, i) => {
    const type = i === idIndex ? 'string' : inferColumnType(body.map((r) => r.cells[i] ?? ''));
    columns[name] = type;
    return type;
  });
  const customers: Located[] = [];
  for (const row of body) {
    if (row.cells.length !== names.length) {
      problems.push({
        file,
        line: row.line,
        message: `expected ${names.length} fields, found ${row.cells.length}`,
      });
      continue;
    }
    const attributes: JsonObject = {};
    row.cells.forEach((raw, i) => {
      if (i === idIndex) return;
      const value = convertCell(raw, types[i] ?? 'string');
      if (value !== undefined) setPath(attributes, names[i] ?? '', value);
    });
    pushCustomer(
      customers,
      problems,
      file,
      row.line,
      (row.cells[idIndex] ?? '').trim(),
      attributes,
    );
  }
  return finish(customers, problems, file, columns);
}

function fromNdjson(text: string, file: string): CustomerFile {
  const customers: Located[] = [];
  const problems: FileProblem[] = [];
  text.split(/\r?\n/u).forEach((raw, index) => {
    if (raw.trim() === '') return;
    readObject(raw, file, index + 1, customers, problems);
  });
  return finish(customers, problems, file, {});
}

function fromJsonArray(text: string, file: string): CustomerFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      customers: [],
      problems: [{ file, line: 1, message: `invalid JSON: ${(error as Error).message}` }],
      columns: {},
    };
  }
  if (!Array.isArray(value)) {
    return {
      customers: [],
      problems: [{ file, line: 1, message: 'expected a JSON array of customers' }],
      columns: {},
    };
  }
  const customers: Located[] = [];
  const problems: FileProblem[] = [];
  value.forEach((item, i) => {
    readObject(JSON.stringify(item), file, i + 1, customers, problems, `item ${i + 1}`);
  });
  return finish(customers, problems, file, {});
}

function readObject(
  raw: string,
  file: string,
  line: number,
  customers: Located[],
  problems: FileProblem[],
  where?: string,
): void {
  const prefix = where ? `${where}: ` : '';
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    problems.push({ file, line, message: `${prefix}invalid JSON: ${(error as Error).message}` });
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ file, line, message: `${prefix}expected a JSON object` });
    return;
  }
  const record = value as Record<string, JsonValue>;
  const idField = ID_FIELDS.find((f) => f in record);
  const id = idField === undefined ? undefined : record[idField];
  const nested = record['attributes'] ?? record['properties'];
  const attributes: JsonObject =
    typeof nested === 'object' && nested !== null && !Array.isArray(nested)
      ? nested
      : Object.fromEntries(Object.entries(record).filter(([k]) => !ID_FIELDS.includes(k)));
  if (typeof id !== 'string' && typeof id !== 'number') {
    problems.push({ file, line, message: `${prefix}expected an 'id' (or 'customer_id') string` });
    return;
  }
  pushCustomer(customers, problems, file, line, String(id), attributes);
}

function pushCustomer(
  customers: Located[],
  problems: FileProblem[],
  file: string,
  line: number,
  id: string,
  attributes: JsonObject,
): void {
  if (id === '') problems.push({ file, line, message: 'the customer id is empty' });
  else if (id.length > MAX_IDENTIFIER_LENGTH)
    problems.push({
      file,
      line,
      message: `the customer id is longer than ${MAX_IDENTIFIER_LENGTH} characters`,
    });
  else customers.push({ customer: { id, attributes }, line });
}

/** A customer with the line it was read from. */
interface Located {
  customer: CustomerInput;
  line: number;
}

/** Reports repeated ids and returns the result sorted by line. */
function finish(
  located: readonly Located[],
  problems: FileProblem[],
  file: string,
  columns: Record<string, ColumnType>,
): CustomerFile {
  const seen = new Map<string, number>();
  for (const { customer, line } of located) {
    const first = seen.get(customer.id);
    if (first !== undefined) {
      problems.push({
        file,
        line,
        message: `customer '${customer.id}' already appears on line ${first}`,
      });
    } else {
      seen.set(customer.id, line);
    }
  }
  return {
    customers: located.map((l) => l.customer),
    problems: problems.sort((a, b) => a.line - b.line),
    columns,
  };
}

/** Sets `a.b.c` in a nested object, creating objects on the way. */
function setPath(target: JsonObject, path: string, value: JsonValue): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next;
    else {
      const created: JsonObject = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts[parts.length - 1] ?? path] = value;
}
