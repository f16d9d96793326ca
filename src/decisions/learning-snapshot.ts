/**
 * What `EngagementLearning` knows, as plain JSON: the body of the `engagement_learning` model the
 * engine keeps in the store's model registry, so a restarted process starts from what it learned
 * before instead of from nothing.
 *
 * A snapshot holds the decayed counts expressed at one instant (`at`): a count of 10 at `at` is
 * worth 5 one half-life later. Counts only, no customers and no message ids: a snapshot is a few
 * kilobytes whatever the traffic (168 hour-of-week cells, 4 dayparts per channel, one pair per
 * template variant).
 *
 * Stored JSON is read back by `parseLearningSnapshot`, which checks every field: a body someone
 * registered by hand, or one written by a future format, is refused with the path of the first bad
 * field instead of reaching the bandits as NaN.
 */
import { InvalidInputError, type Instant } from '../core/index.js';
import { DAYPARTS, HOURS_PER_WEEK } from './hour-of-week.js';

/** The snapshot layout this code writes and reads; a reader refuses any other. */
export const LEARNING_SNAPSHOT_FORMAT = 1;

/** Decayed sends and engagements per cell; both arrays have one entry per cell. */
export interface SnapshotCells {
  readonly sent: readonly number[];
  readonly engaged: readonly number[];
}

/** Decayed sends and engagements of one template variant. */
export interface SnapshotVariant {
  readonly sent: number;
  readonly engaged: number;
}

/** See the module comment. Field names are the stored JSON's. */
export interface LearningSnapshot {
  /** `LEARNING_SNAPSHOT_FORMAT`. */
  readonly format: number;
  /** The instant every count below is expressed at (ms since the epoch). */
  readonly at: Instant;
  /**
   * Half-life of the learning that wrote it, ms. For the record only: a reader decays the counts
   * from `at` on with its own half-life.
   */
  readonly halfLifeMs: number;
  /** By local hour-of-week cell (168; Monday 00:00 is 0, see `hourOfWeek`). */
  readonly hours: SnapshotCells;
  /** By channel, then by daypart (4, see `DAYPARTS`). */
  readonly channels: Readonly<Record<string, SnapshotCells>>;
  /** By template, then by variant. */
  readonly variants: Readonly<Record<string, Readonly<Record<string, SnapshotVariant>>>>;
}

/**
 * Reads a stored body as a snapshot.
 *
 * @param source names the body in messages (`engagement_learning@3`).
 * @throws InvalidInputError `LEARNING_SNAPSHOT_INVALID` naming the first field that is missing,
 *   of the wrong type or length, negative or not finite, or a format other than this code's.
 */
export function parseLearningSnapshot(value: unknown, source: string): LearningSnapshot {
  const root = object(value, source, '(the body)');
  if (root['format'] !== LEARNING_SNAPSHOT_FORMAT) {
    invalid(
      source,
      'format',
      `is ${shown(root['format'])}; this Waymark reads format ${LEARNING_SNAPSHOT_FORMAT}`,
    );
  }
  const at = root['at'];
  if (typeof at !== 'number' || !Number.isFinite(at))
    invalid(source, 'at', 'must be an instant (ms)');
  const halfLifeMs = root['halfLifeMs'];
  if (typeof halfLifeMs !== 'number' || !Number.isFinite(halfLifeMs) || halfLifeMs <= 0) {
    invalid(source, 'halfLifeMs', 'must be a positive number of ms');
  }
  const hours = cells(root['hours'], HOURS_PER_WEEK, source, 'hours');
  // Built with `Object.fromEntries`, so a name like `__proto__` stays an ordinary key.
  const channels = Object.fromEntries(
    Object.entries(object(root['channels'], source, 'channels')).map(([channel, counts]) => [
      channel,
      cells(counts, DAYPARTS.length, source, `channels[${JSON.stringify(channel)}]`),
    ]),
  );
  const variants = Object.fromEntries(
    Object.entries(object(root['variants'], source, 'variants')).map(([template, byVariant]) => {
      const path = `variants[${JSON.stringify(template)}]`;
      return [
        template,
        Object.fromEntries(
          Object.entries(object(byVariant, source, path)).map(([variant, counts]) => {
            const at = `${path}[${JSON.stringify(variant)}]`;
            const pair = object(counts, source, at);
            return [
              variant,
              {
                sent: count(pair['sent'], source, `${at}.sent`),
                engaged: count(pair['engaged'], source, `${at}.engaged`),
              },
            ];
          }),
        ),
      ];
    }),
  );
  return { format: LEARNING_SNAPSHOT_FORMAT, at, halfLifeMs, hours, channels, variants };
}

function cells(value: unknown, length: number, source: string, path: string): SnapshotCells {
  const pair = object(value, source, path);
  return {
    sent: counts(pair['sent'], length, source, `${path}.sent`),
    engaged: counts(pair['engaged'], length, source, `${path}.engaged`),
  };
}

function counts(value: unknown, length: number, source: string, path: string): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    invalid(source, path, `must be an array of ${length} counts`);
  }
  return value.map((v: unknown, i) => count(v, source, `${path}[${i}]`));
}

/** A decayed count: finite and not negative (decay never takes a count below zero). */
function count(value: unknown, source: string, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    invalid(source, path, `must be a finite count ≥ 0, got ${shown(value)}`);
  }
  return value;
}

function object(value: unknown, source: string, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(source, path, 'must be an object');
  }
  return value as Record<string, unknown>;
}

/** A value as a message shows it (`JSON.stringify` gives nothing for nothing). */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function invalid(source: string, path: string, problem: string): never {
  throw new InvalidInputError(
    `${source}: ${path} ${problem}`,
    { source, path },
    'LEARNING_SNAPSHOT_INVALID',
  );
}
