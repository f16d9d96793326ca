/**
 * Simulation: the real engine, a real (throw-away) store and a virtual clock. Time jumps from one
 * due instant to the next — the next input event or the next durable timer — so months of journey
 * time run in moments, and the same seed gives the same output byte for byte.
 *
 * Used by `waymark simulate` and by `POST /journeys/{id}/test`. Messages go to a recording channel;
 * nothing leaves the process.
 */
import type { LoadedConfig } from '../config/index.js';
import {
  InvalidInputError,
  NotFoundError,
  VirtualClock,
  sequentialIds,
  type Instant,
  type JourneyEventRecord,
  type JsonObject,
  type MessageRecord,
  type NewEvent,
  type Store,
} from '../core/index.js';
import { Engine } from './engine.js';

/** A customer profile given to a simulation. */
export interface SimulatedCustomer {
  id: string;
  attributes: JsonObject;
}

/** What a simulation runs. */
export interface SimulationOptions {
  config: LoadedConfig;
  /** Opens a fresh, empty store (an in-memory SQLite store); closed when the simulation ends. */
  openStore: () => Promise<Store>;
  /** Profiles present at the start (no `customer.created` events are implied). */
  customers: readonly SimulatedCustomer[];
  /** Events, injected at their `occurredAt`. */
  events: readonly NewEvent[];
  /** Where the clock starts; default the earliest event, else `until`. */
  start?: Instant | undefined;
  /** The simulation stops before anything due after this instant. */
  until: Instant;
  /** Seed of random choices (splits, holdouts). Default `waymark`. */
  seed?: string | undefined;
  /** Runs after the store is ready and the customers are in, at the start instant. */
  prepare?: (engine: Engine) => Promise<void>;
  /** Stop early when this holds after a step (checked after every jump). */
  stopWhen?: (engine: Engine) => Promise<boolean>;
}

/** What a simulation produced. */
export interface SimulationResult {
  /** Every journey event, ordered by time (then by commit order). */
  journeyEvents: JourneyEventRecord[];
  /** Every message that would have been sent, in the order sent. */
  messages: MessageRecord[];
  /** Where the clock stopped. */
  endedAt: Instant;
}

/** Most jumps a simulation takes; far beyond real use, it stops a runaway config. */
const MAX_JUMPS = 1_000_000;

/** Runs a simulation; see the module comment. */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const events = [...options.events].sort((a, b) => a.occurredAt - b.occurredAt);
  const start = options.start ?? Math.min(events[0]?.occurredAt ?? options.until, options.until);
  if (start > options.until) {
    throw new InvalidInputError('the simulation starts after --until', {
      start: new Date(start).toISOString(),
      until: new Date(options.until).toISOString(),
    });
  }
  const clock = new VirtualClock(start);
  const store = await options.openStore();
  const engine = await Engine.open({
    config: options.config,
    store,
    clock,
    ids: sequentialIds(),
    seed: options.seed ?? 'waymark',
    delivery: 'record',
    // The store is thrown away at the end: nothing to restore, nothing worth saving.
    persistLearning: false,
  });
  try {
    await store.upsertCustomers(
      options.customers.map((c) => ({
        id: c.id,
        attributes: c.attributes,
        createdAt: start,
        updatedAt: start,
      })),
    );
    if (options.prepare) await options.prepare(engine);
    // The first pass plans schedules for the given customers, so their first fires are timers.
    await engine.runUntilIdle();
    let next = 0;
    for (let jump = 0; jump < MAX_JUMPS; jump++) {
      const nextEvent = events[next]?.occurredAt ?? Infinity;
      const nextDue = Math.min(
        (await store.nextTimerDueAt()) ?? Infinity,
        // Messages held by quiet hours go out when their window ends.
        (await store.nextOutboxAvailableAt()) ?? Infinity,
      );
      const nextBatch = engine.nextBatchTriggerAt() ?? Infinity;
      const due = Math.max(Math.min(nextEvent, nextDue, nextBatch), clock.now());
      if (due > options.until || due === Infinity) break;
      clock.set(due);
      const batch: NewEvent[] = [];
      while (next < events.length && (events[next]?.occurredAt ?? Infinity) <= due) {
        const event = events[next++];
        if (event) batch.push(event);
      }
      for (let i = 0; i < batch.length; i += 1000) await engine.ingest(batch.slice(i, i + 1000));
      await engine.runUntilIdle();
      if (options.stopWhen && (await options.stopWhen(engine))) break;
    }
    return {
      journeyEvents: await allJourneyEvents(store),
      messages: await allMessages(store),
      endedAt: clock.now(),
    };
  } finally {
    await engine.close();
  }
}

/** Options of a journey test (`POST /journeys/{id}/test`). */
export interface JourneyTestOptions {
  config: LoadedConfig;
  openStore: () => Promise<Store>;
  journeyId: string;
  /** The customer to run; default a synthetic `test-customer` with no attributes. */
  customer?: SimulatedCustomer | undefined;
  /** Events the customer sends during the test. */
  events?: readonly NewEvent[] | undefined;
  /** Where the test starts (default: now on the caller's clock). */
  start: Instant;
  /** Where it stops at the latest (default: 365 days after start). */
  until?: Instant | undefined;
  seed?: string | undefined;
  /** Entry properties of the enrollment (see `EnrollCommandOptions`). */
  entryProperties?: JsonObject | undefined;
}

/** The outcome of a journey test. */
export interface JourneyTestResult {
  customer_id: string;
  /** Final status of the enrollment (`active` when the horizon was reached first), or `not_enrolled`. */
  status: string;
  /** The journey events of the run, in order: the path taken. */
  path: JourneyEventRecord[];
  /** Every message the journey would send. */
  messages: MessageRecord[];
  ended_at: Instant;
}

const DAY_MS = 86_400_000;

/**
 * Runs one journey for one customer in simulated time, without sending anything: the journey's
 * path and every message it would send.
 */
export async function simulateJourney(options: JourneyTestOptions): Promise<JourneyTestResult> {
  if (!options.config.config.journeys.some((j) => j.id === options.journeyId)) {
    throw new NotFoundError('journey', options.journeyId);
  }
  const customer = options.customer ?? { id: 'test-customer', attributes: {} };
  const result = await simulate({
    config: options.config,
    openStore: options.openStore,
    customers: [customer],
    events: (options.events ?? []).map((e) => ({ ...e, customerId: customer.id })),
    start: options.start,
    until: options.until ?? options.start + 365 * DAY_MS,
    seed: options.seed,
    prepare: async (engine) => {
      // Entered as its real entering event would enter it (type included), when it has one.
      const entry = options.config.config.journeys.find((j) => j.id === options.journeyId)?.entry;
      await engine.enroll(options.journeyId, customer.id, {
        entryProperties: options.entryProperties,
        entryEventType: options.entryProperties === undefined ? undefined : entry?.event,
      });
    },
    stopWhen: async (engine) =>
      (await engine.activeEnrollment(options.journeyId, customer.id)) === null,
  });
  const enrollments = result.journeyEvents.filter((e) => e.journeyId === options.journeyId);
  const last = [...enrollments]
    .reverse()
    .find((e) => e.type === 'journey.completed' || e.type === 'journey.exited');
  const enrolled = enrollments.some((e) => e.type === 'journey.enrolled');
  return {
    customer_id: customer.id,
    status: !enrolled
      ? 'not_enrolled'
      : last?.type === 'journey.completed'
        ? 'completed'
        : last
          ? 'exited'
          : 'active',
    path: result.journeyEvents,
    messages: result.messages,
    ended_at: result.endedAt,
  };
}

async function allJourneyEvents(store: Store): Promise<JourneyEventRecord[]> {
  const all: JourneyEventRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listJourneyEvents({ limit: 1000, cursor });
    all.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  // Stable: equal timestamps keep commit order.
  return all.sort((a, b) => a.timestamp - b.timestamp || (a.seq ?? 0) - (b.seq ?? 0));
}

/** Every message the simulation created, oldest first (recorded, suppressed or failed alike). */
async function allMessages(store: Store): Promise<MessageRecord[]> {
  const messages: MessageRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listMessages({ limit: 1000, cursor });
    messages.push(...page.items);
    if (page.nextCursor === null) return messages;
    cursor = page.nextCursor;
  }
}
