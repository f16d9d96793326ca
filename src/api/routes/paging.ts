import type { PageResult } from '../../core/index.js';

/** Rows asked for per page when a route reads a whole (bounded) listing. */
const PAGE = 1000;

/**
 * Reads pages until the listing ends or `cap` items were read. `complete` is false when the cap
 * stopped it, so the caller can say its answer was truncated instead of silently dropping rows.
 */
export async function collectPages<T>(
  read: (cursor: string | undefined, limit: number) => Promise<PageResult<T>>,
  cap: number,
): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await read(cursor, Math.min(PAGE, cap - items.length));
    items.push(...page.items);
    if (page.nextCursor === null) return { items, complete: true };
    if (items.length >= cap) return { items, complete: false };
    cursor = page.nextCursor;
  }
}
