import { InvalidInputError, type JsonObject, type NewEvent } from '../core/index.js';

/** Most events one request (or one NDJSON chunk) may carry; larger batches are refused whole. */
export const MAX_EVENTS_PER_BATCH = 1000;

/** Longest accepted `customer_id`, `type`, `id` or `idempotency_key`, in UTF-16 code units. */
export const MAX_IDENTIFIER_LENGTH = 256;

/** Deepest nesting accepted inside an event (objects and arrays); deeper payloads are refused. */
export const MAX_PAYLOAD_DEPTH = 64;

/** One problem with one incoming event, located by JSON path (`events[3].customer_id`). */
export interface EventProblem {
  path: string;
  message: string;
}

const RESERVED_FIELDS = new Set(['id', 'type', 'customer_id', 'timestamp', 'idempotency_key']);

/**
 * Turns one untrusted JSON value into a `NewEvent`, or lists what is wrong with it.
 *
 * Accepts the guide's `CustomerEvent`, `BehaviorEvent` and `ServiceEvent` shapes and any other
 * `type`: every field other than the reserved ones (`id`, `type`, `customer_id`, `timestamp`,
 * `idempotency_key`) is kept in the payload unchanged. `timestamp` may be an ISO-8601 string or epoch
 * milliseconds; without one the event happened when it was received.
 */
export function parseEventInput(
  value: unknown,
  receivedAt: number,
  path = '',
  headerIdempotencyKey?: string,
): { event: NewEvent; problems: [] } | { event: null; problems: EventProblem[] } {
  const at = (field: string) => (path === '' ? field : `${path}.${field}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      event: null,
      problems: [
        { path: path || '$', message: `expected an event object, got ${describe(value)}` },
      ],
    };
  }
  const input = value as Record<string, unknown>;
  const problems: EventProblem[] = [];

  const type = identifier(input['type'], at('type'), problems, true);
  if (type !== undefined && !/^[\w.:-]+$/u.test(type)) {
    problems.push({
      path: at('type'),
      message: 'expected letters, digits and . _ : - only (e.g. "customer.created")',
    });
  }
  const customerId = identifier(input['customer_id'], at('customer_id'), problems, true);
  const id = identifier(input['id'], at('id'), problems, false);
  const idempotencyKey =
    identifier(input['idempotency_key'], at('idempotency_key'), problems, false) ??
    headerIdempotencyKey;

  let occurredAt = receivedAt;
  const timestamp = input['timestamp'];
  if (timestamp !== undefined && timestamp !== null) {
    const parsed = parseInstant(timestamp);
    if (parsed === null) {
      problems.push({
        path: at('timestamp'),
        message: `expected an ISO-8601 date-time or epoch milliseconds, got ${describe(timestamp)}`,
      });
    } else {
      occurredAt = parsed;
    }
  }

  for (const objectField of ['properties', 'changes'] as const) {
    const v = input[objectField];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      problems.push({ path: at(objectField), message: `expected an object, got ${describe(v)}` });
    }
  }

  const scan = scanPayload(input, MAX_PAYLOAD_DEPTH);
  if (scan.tooDeep !== null) {
    problems.push({
      path: scan.tooDeep === '' ? path || '$' : at(scan.tooDeep),
      message: `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    });
  }
  // PostgreSQL cannot store NUL in text or jsonb; refusing it on every backend keeps one contract.
  if (scan.nul !== null && problems.every((p) => p.path !== at(scan.nul ?? ''))) {
    problems.push({ path: at(scan.nul), message: 'must not contain the NUL character' });
  }

  if (problems.length > 0 || type === undefined || customerId === undefined) {
    return { event: null, problems };
  }
  const payload: JsonObject = {};
  for (const [key, v] of Object.entries(input)) {
    if (!RESERVED_FIELDS.has(key) && v !== undefined) payload[key] = v as JsonObject[string];
  }
  return {
    event: { id, type, customerId, occurredAt, idempotencyKey, payload },
    problems: [],
  };
}

/**
 * Parses a request body that is one event or `{"events": [...]}`. All-or-nothing: if any event is
 * invalid, none is accepted and every problem is reported, so a client never has to work out which
 * half of a batch went in.
 */
export function parseEventBatch(
  body: unknown,
  receivedAt: number,
  headerIdempotencyKey?: string,
): NewEvent[] {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body) {
    const events: unknown = body.events;
    if (!Array.isArray(events)) {
      throw new InvalidInputError('"events" must be an array of events', {
        problems: [{ path: 'events', message: `expected an array, got ${describe(events)}` }],
      });
    }
    if (events.length === 0) {
      throw new InvalidInputError('"events" is empty', {
        problems: [{ path: 'events', message: 'expected at least one event' }],
      });
    }
    if (events.length > MAX_EVENTS_PER_BATCH) {
      throw new BatchTooLargeError(events.length);
    }
    const parsed: NewEvent[] = [];
    const problems: EventProblem[] = [];
    events.forEach((e, i) => {
      const r = parseEventInput(e, receivedAt, `events[${i}]`);
      if (r.event) parsed.push(r.event);
      else problems.push(...r.problems);
    });
    if (problems.length > 0) throw invalidEvents(problems);
    return parsed;
  }
  const r = parseEventInput(body, receivedAt, '', headerIdempotencyKey);
  if (!r.event) throw invalidEvents(r.problems);
  return [r.event];
}

/** A batch over `MAX_EVENTS_PER_BATCH`; answered 413 by the API. */
export class BatchTooLargeError extends InvalidInputError {
  constructor(count: number) {
    super(
      `a batch may hold at most ${MAX_EVENTS_PER_BATCH} events, got ${count}`,
      { limit: MAX_EVENTS_PER_BATCH, count },
      'BATCH_TOO_LARGE',
    );
  }
}

function invalidEvents(problems: EventProblem[]): InvalidInputError {
  const first = problems[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid event';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : '';
  return new InvalidInputError(`invalid event: ${summary}${more}`, { problems });
}

function identifier(
  value: unknown,
  path: string,
  problems: EventProblem[],
  required: boolean,
): string | undefined {
  if (value === undefined || value === null) {
    if (required) problems.push({ path, message: 'is required' });
    return undefined;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== 'string') {
    problems.push({ path, message: `expected a string, got ${describe(value)}` });
    return undefined;
  }
  if (value.trim() === '') {
    problems.push({ path, message: 'must not be empty' });
    return undefined;
  }
  if (value.includes('\u0000')) {
    problems.push({ path, message: 'must not contain the NUL character' });
    return undefined;
  }
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    problems.push({ path, message: `must be at most ${MAX_IDENTIFIER_LENGTH} characters` });
    return undefined;
  }
  return value;
}

/**
 * What the store cannot keep in a JSON value given outside an event (a command's properties):
 * nesting deeper than `MAX_PAYLOAD_DEPTH` and NUL characters, the rules of event payloads, located
 * under `path`.
 */
export function payloadProblems(value: unknown, path: string): EventProblem[] {
  const scan = scanPayload(value, MAX_PAYLOAD_DEPTH);
  const at = (inner: string) => (inner === '' ? path : `${path}.${inner}`);
  const problems: EventProblem[] = [];
  if (scan.tooDeep !== null) {
    problems.push({
      path: at(scan.tooDeep),
      message: `nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    });
  }
  if (scan.nul !== null) {
    problems.push({ path: at(scan.nul), message: 'must not contain the NUL character' });
  }
  return problems;
}

/**
 * One walk over a payload: the path of the first object or array nested deeper than `maxDepth`
 * below `value`, and of the first string or key holding a NUL character (null when none).
 * Iterative, so a hostile 100,000-level payload cannot overflow the stack while being checked.
 */
function scanPayload(
  value: unknown,
  maxDepth: number,
): { tooDeep: string | null; nul: string | null } {
  let nul: string | null = null;
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value === 'string') {
      if (nul === null && item.value.includes('\u0000')) nul = item.path;
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > maxDepth) return { tooDeep: item.path, nul };
    for (const [key, child] of Object.entries(item.value)) {
      if (nul === null && key.includes('\u0000'))
        nul = item.path === '' ? key : `${item.path}.${key}`;
      const path = Array.isArray(item.value)
        ? `${item.path}[${key}]`
        : item.path === ''
          ? key
          : `${item.path}.${key}`;
      stack.push({ value: child, depth: item.depth + 1, path });
    }
  }
  return { tooDeep: null, nul };
}

/** ISO-8601 date-time (with or without zone; without means UTC) or epoch ms; null when neither. */
export function parseInstant(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/u.test(value)) {
    return null;
  }
  // V8 rolls impossible dates over (2023-02-29 becomes March 1st); refuse them instead.
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return null;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/u.test(value) || value.length === 10;
  const ms = Date.parse(hasZone ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? ms : null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return `a ${typeof value}`;
}
