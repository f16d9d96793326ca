/**
 * Live uplift reports from the enrollments in the store.
 *
 * - **Journey report**: per goal, enrollments that ran the journey (treated) against those held
 *   out (its own `holdout` and the global holdout alike: both are random draws per customer).
 * - **Global report**: per journey taking part in `defaults.global_holdout`, the customers who
 *   ran it against the global holdout's members, and the same pooled over those journeys.
 *
 * A goal with a conversion window only counts enrollments whose window has closed ("matured"), so
 * a customer enrolled an hour ago does not count as not converted; the others are reported as
 * `pending`. A goal without a window counts everyone, as measured so far.
 */
import type { EnrollmentRecord, JsonObject, Store } from '../core/index.js';
import { liftOf, type Lift } from '../decisions/index.js';
import { inGlobalHoldout, type CompiledJourney } from '../journeys/index.js';

/** One goal's comparison. */
export interface GoalUplift {
  readonly goal: string;
  /** The goal's conversion window in ms; null when it has none. */
  readonly windowMs: number | null;
  /** Enrollments still inside the window (not counted yet). */
  readonly pending: number;
  readonly lift: Lift;
}

/** A journey's report. */
export interface JourneyUplift {
  readonly journeyId: string;
  readonly holdout: number;
  readonly globalHoldout: number;
  readonly enrollments: number;
  readonly goals: readonly GoalUplift[];
}

/** The global holdout's report. */
export interface GlobalUplift {
  readonly fraction: number;
  /** Per journey in the global holdout: "any goal reached" among matured enrollments. */
  readonly journeys: readonly {
    readonly journeyId: string;
    readonly pending: number;
    readonly lift: Lift;
  }[];
  /** The same summed over those journeys. */
  readonly pooled: Lift;
}

const PAGE = 500;

/** Every enrollment of a journey (all versions), page by page. */
async function enrollmentsOf(store: Store, journeyId: string): Promise<EnrollmentRecord[]> {
  const out: EnrollmentRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listEnrollments({ journeyId, limit: PAGE, cursor });
    out.push(...page.items);
    if (page.nextCursor === null) return out;
    cursor = page.nextCursor;
  }
}

/** When the enrollment reached `goal`, or undefined. */
function reachedAt(enrollment: EnrollmentRecord, goal: string): number | undefined {
  const goals = enrollment.state['goals'] as JsonObject | undefined;
  const at = goals?.[goal];
  return typeof at === 'number' ? at : undefined;
}

/** The journey's report at `now`. */
export async function journeyUplift(
  store: Store,
  journey: CompiledJourney,
  now: number,
): Promise<JourneyUplift> {
  const enrollments = await enrollmentsOf(store, journey.id);
  const goals = journey.goals.map((goal): GoalUplift => {
    const treated = { customers: 0, conversions: 0 };
    const holdout = { customers: 0, conversions: 0 };
    let pending = 0;
    for (const e of enrollments) {
      const converted = reachedAt(e, goal.name) !== undefined;
      if (!converted && goal.windowMs !== null && e.enrolledAt + goal.windowMs > now) {
        pending += 1;
        continue;
      }
      const group = e.holdout ? holdout : treated;
      group.customers += 1;
      if (converted) group.conversions += 1;
    }
    return { goal: goal.name, windowMs: goal.windowMs, pending, lift: liftOf(treated, holdout) };
  });
  return {
    journeyId: journey.id,
    holdout: journey.holdout,
    globalHoldout: journey.globalHoldout,
    enrollments: enrollments.length,
    goals,
  };
}

/** The global holdout's report at `now` over `journeys` (those taking part and having goals). */
export async function globalUplift(
  store: Store,
  journeys: readonly CompiledJourney[],
  fraction: number,
  seed: string,
  now: number,
): Promise<GlobalUplift> {
  const pooledTreated = { customers: 0, conversions: 0 };
  const pooledHoldout = { customers: 0, conversions: 0 };
  const rows: { journeyId: string; pending: number; lift: Lift }[] = [];
  for (const journey of journeys) {
    if (journey.globalHoldout === 0 || journey.goals.length === 0) continue;
    const longest = journey.goals.some((g) => g.windowMs === null)
      ? null
      : Math.max(...journey.goals.map((g) => g.windowMs ?? 0));
    const treated = { customers: 0, conversions: 0 };
    const holdout = { customers: 0, conversions: 0 };
    let pending = 0;
    for (const e of await enrollmentsOf(store, journey.id)) {
      const inGlobal = inGlobalHoldout(e.customerId, seed, fraction);
      // Held out by the journey's own draw only: neither treated nor the global control.
      if (e.holdout && !inGlobal) continue;
      const converted = journey.goals.some((g) => reachedAt(e, g.name) !== undefined);
      if (!converted && longest !== null && e.enrolledAt + longest > now) {
        pending += 1;
        continue;
      }
      const group = inGlobal ? holdout : treated;
      group.customers += 1;
      if (converted) group.conversions += 1;
    }
    pooledTreated.customers += treated.customers;
    pooledTreated.conversions += treated.conversions;
    pooledHoldout.customers += holdout.customers;
    pooledHoldout.conversions += holdout.conversions;
    rows.push({ journeyId: journey.id, pending, lift: liftOf(treated, holdout) });
  }
  return { fraction, journeys: rows, pooled: liftOf(pooledTreated, pooledHoldout) };
}
