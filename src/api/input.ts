/**
 * Validation of everything a request carries, with located problems.
 *
 * Problem paths: body problems are relative to the body (`customer_id`, `events[3].type`, `$` for
 * the body itself), the same convention as event ingestion; the others name where they are
 * (`query.limit`, `path.customer_id`, `header.idempotency-key`).
 */
import { z } from 'zod';
import { InvalidInputError } from '../core/index.js';
import { MAX_IDENTIFIER_LENGTH } from '../ingest/index.js';

/** Where a value came from in the request. */
export type InputLocation = 'path' | 'query' | 'body' | 'header';

/** One located problem. */
export interface InputProblem {
  path: string;
  message: string;
}

/** Parses `value` with `schema`, or throws `INVALID_INPUT` listing every problem with its location. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: InputLocation,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => located(issue, location));
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : '';
  throw new InvalidInputError(
    `invalid ${location === 'path' ? 'path parameter' : location}: ${first ? `${first.path}: ${first.message}` : 'invalid'}${more}`,
    { problems },
  );
}

function located(issue: z.core.$ZodIssue, location: InputLocation): InputProblem[] {
  // An unknown key is reported on the key itself, so a typo (`?journeyId=`) points at the typo.
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath(location, [...issue.path, key]),
      message:
        location === 'query'
          ? 'unknown query parameter'
          : location === 'body'
            ? 'unknown field'
            : 'unknown',
    }));
  }
  return [{ path: formatPath(location, issue.path), message: issue.message }];
}

/** `query` + `['limit']` → `query.limit`; `body` + `['events', 3, 'type']` → `events[3].type`. */
export function formatPath(location: InputLocation, path: readonly PropertyKey[]): string {
  let out = location === 'body' ? '' : location;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '$' : out;
}

/**
 * An id from a path, query or body: what ingestion accepts as a `customer_id` (non-blank, at most
 * 256 characters). Stored literally: quotes, SQL, slashes and any Unicode are just characters.
 */
export const identifierSchema = z
  .string()
  .max(MAX_IDENTIFIER_LENGTH, `must be at most ${MAX_IDENTIFIER_LENGTH} characters`)
  .refine((s) => s.trim() !== '', 'must not be empty');

/** Largest page any list route answers. */
export const MAX_PAGE_LIMIT = 1000;

/** Page size used when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 100;

/** `?limit=`: 1 to 1,000, default 100. Digits only, so `1e3` or `0x10` are refused, not guessed at. */
export const limitSchema = z
  .string()
  .regex(/^\d{1,7}$/u, 'expected a whole number')
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE_LIMIT))
  .default(DEFAULT_PAGE_LIMIT);

/** `?cursor=`: the `next_cursor` of the previous page (opaque). */
export const cursorSchema = z.string().min(1).max(2048).optional();

/** Path parameters of `/journeys/:id/...`. */
export const journeyParams = z.strictObject({ id: identifierSchema });

/** Path parameters of `/journeys/:id/customers/:customer_id/...`. */
export const journeyCustomerParams = z.strictObject({
  id: identifierSchema,
  customer_id: identifierSchema,
});

/**
 * Deepest nesting of arrays and objects a request body may have. Real payloads stay far below it;
 * what goes beyond is either an attack or a bug, and left alone it would overflow the stack of
 * every recursive step downstream (serialisation into the store, condition evaluation).
 */
export const MAX_BODY_DEPTH = 64;

/**
 * The path of the first value nested deeper than `maxDepth` (the body itself is depth 0), or null.
 * Iterative on purpose: a recursive walk would fail on exactly the inputs it is meant to refuse.
 */
export function tooDeepAt(value: unknown, maxDepth: number): string | null {
  const stack: { value: unknown; depth: number; path: readonly PropertyKey[] }[] = [
    { value, depth: 0, path: [] },
  ];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= maxDepth) return formatPath('body', item.path);
    const entries: [PropertyKey, unknown][] = Array.isArray(item.value)
      ? item.value.map((v, i): [number, unknown] => [i, v])
      : Object.entries(item.value);
    for (const [key, child] of entries) {
      stack.push({ value: child, depth: item.depth + 1, path: [...item.path, key] });
    }
  }
  return null;
}
