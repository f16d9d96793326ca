import { InvalidInputError, type PageResult } from './contract.js';

/**
 * Keyset pagination cursors, shared by every backend so that a cursor from one page of a listing
 * is understood by the next call whatever the backend.
 *
 * A cursor is the sort key of the last item of a page (for example `[enrolledAt, id]`), as
 * base64url-encoded JSON: opaque to clients, and it never skips or repeats rows that were inserted
 * between two pages the way an OFFSET would.
 */
export type CursorKey = readonly (string | number)[];

/** Encodes the sort key of a page's last item. */
export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor whose key must have the given shape (one `'string' | 'number'` per key part).
 * A malformed cursor is the client's mistake: `INVALID_CURSOR`, not a store failure.
 */
export function decodeCursor(
  cursor: string,
  shape: readonly ('string' | 'number')[],
): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor(cursor);
  }
  if (
    !Array.isArray(key) ||
    key.length !== shape.length ||
    !shape.every((type, i) => typeof key[i] === type)
  ) {
    throw invalidCursor(cursor);
  }
  return key as (string | number)[];
}

/** Checks a page size: a positive integer. */
export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidInputError(`page limit must be a positive integer, got ${limit}`, { limit });
  }
}

function invalidCursor(cursor: string): InvalidInputError {
  return new InvalidInputError('invalid pagination cursor', { cursor }, 'INVALID_CURSOR');
}

/**
 * The page of `limit` items out of `limit + 1` fetched (the extra one says whether a next page
 * exists), with the cursor of its last item.
 */
export function toPage<T>(items: T[], limit: number, keyOf: (item: T) => CursorKey): PageResult<T> {
  if (items.length <= limit) return { items, nextCursor: null };
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return { items: page, nextCursor: last === undefined ? null : encodeCursor(keyOf(last)) };
}
