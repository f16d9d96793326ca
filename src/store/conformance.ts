/**
 * The `Store` conformance suite: the contract's behaviour, which every backend must show.
 *
 * Each backend's test file calls `describeStoreConformance` with a factory for a fresh, empty
 * store (SQLite on a temp file and in memory; PostgreSQL on a fresh schema later). Nothing here
 * knows which backend it runs on: a behaviour worth relying on is asserted here, once, or it is
 * not part of the contract.
 *
 * This module imports vitest, so it is not exported from the store's index (which ships); test
 * files import it directly.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type {
  AlertRecord,
  ClaimOptions,
  CustomerRecord,
  DeadLetterRecord,
  DecisionRecord,
  InboxFilter,
  EnrollmentRecord,
  JourneyEventRecord,
  JsonObject,
  MessageRecord,
  MessageStatus,
  NewEvent,
  OutboxEntry,
  PageResult,
  Store,
  TaskRecord,
  TimerRecord,
  SchedulePlanRecord,
  WorkBatch,
  WorkResult,
} from './contract.js';
import { emptyDeliveryOutcomes, emptyWorkResult } from './contract.js';

/** Options of the suite. */
export interface ConformanceOptions<S extends Store> {
  /**
   * Closes `store` and opens the same database again, for the durability test. Omit it for a
   * backend whose data does not outlive the connection (SQLite `:memory:`); the test is skipped.
   */
  reopen?: (store: S) => Promise<S>;
}

/** A fixed origin: the store takes `now` as a parameter, so tests never depend on the wall clock. */
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LEASE_MS = 30_000;

/** An id built to break naive SQL string building, and one to break naive encodings. */
const HOSTILE_ID = `o'brien"); DROP TABLE customers;--`;
const UNICODE_ID = 'ünïcødé-客户-🚀-עברית';

function newEvent(customerId: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return { type: 'feature.used', customerId, occurredAt: T0, payload: {}, ...overrides };
}

function claimOptions(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return {
    now: T0,
    maxEvents: 500,
    maxTimers: 500,
    workerId: 'conformance',
    leaseMs: LEASE_MS,
    ...overrides,
  };
}

function customer(id: string, attributes: JsonObject = {}, at = T0): CustomerRecord {
  return { id, attributes, createdAt: at, updatedAt: at };
}

function enrollment(overrides: Partial<EnrollmentRecord> & { id: string }): EnrollmentRecord {
  return {
    journeyId: 'onboarding',
    journeyVersion: 1,
    customerId: 'c1',
    status: 'active',
    stage: 'welcome',
    stepId: 'send_welcome',
    state: {},
    holdout: false,
    enrolledAt: T0,
    updatedAt: T0,
    endedAt: null,
    exitReason: null,
    ...overrides,
  };
}

function timer(overrides: Partial<TimerRecord> & { id: string }): TimerRecord {
  return {
    customerId: 'c1',
    enrollmentId: null,
    kind: 'wait',
    dueAt: T0 + MINUTE,
    payload: {},
    status: 'pending',
    ...overrides,
  };
}

function message(overrides: Partial<MessageRecord> & { id: string }): MessageRecord {
  return {
    customerId: 'c1',
    journeyId: 'onboarding',
    enrollmentId: null,
    stepId: 'send_welcome',
    channel: 'email',
    priority: 'normal',
    status: 'queued',
    content: { subject: 'Welcome', body: 'Hello' },
    idempotencyKey: `key-${overrides.id}`,
    createdAt: T0,
    sendAt: T0,
    readAt: null,
    engagedAt: null,
    expiresAt: null,
    attempts: 0,
    provider: null,
    providerMessageId: null,
    sentAt: null,
    updatedAt: T0,
    error: null,
    ...overrides,
  };
}

function journeyEvent(overrides: Partial<JourneyEventRecord> = {}): JourneyEventRecord {
  return {
    type: 'journey.enrolled',
    journeyId: 'onboarding',
    customerId: 'c1',
    timestamp: T0,
    data: {},
    ...overrides,
  };
}

function outboxEntry(overrides: Partial<OutboxEntry> & { key: string }): OutboxEntry {
  return {
    kind: 'webhook',
    payload: {},
    availableAt: T0,
    attempts: 0,
    status: 'pending',
    ...overrides,
  };
}

function decision(overrides: Partial<DecisionRecord> & { id: string }): DecisionRecord {
  return {
    customerId: 'c1',
    kind: 'rule',
    at: T0,
    subject: 'high_value_onboarding',
    explanation: { matched: ['arr > 100000'] },
    ...overrides,
  };
}

function task(overrides: Partial<TaskRecord> & { id: string }): TaskRecord {
  return {
    customerId: 'c1',
    journeyId: null,
    title: 'Call the customer',
    assignee: 'csm@example.com',
    dueAt: null,
    status: 'open',
    createdAt: T0,
    data: {},
    completedAt: null,
    completedBy: null,
    ...overrides,
  };
}

function alert(overrides: Partial<AlertRecord> & { id: string }): AlertRecord {
  return {
    customerId: 'c1',
    journeyId: null,
    severity: 'high',
    message: 'Health score dropped',
    assignee: null,
    status: 'open',
    createdAt: T0,
    data: {},
    ...overrides,
  };
}

/** The value, or a failed test when it is missing. */
function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a value, got nothing');
  return value;
}

/** Pages through a listing until its end, checking that no page is larger than asked. */
async function collectPages<T>(
  limit: number,
  fetch: (cursor: string | undefined) => Promise<PageResult<T>>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await fetch(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    all.push(...page.items);
    if (page.nextCursor === null) return all;
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

/** Seqs of a batch's events per customer. */
function seqsByCustomer(batch: WorkBatch): Map<string, number[]> {
  return new Map(batch.customers.map((work) => [work.customerId, work.events.map((e) => e.seq)]));
}

function allSeqs(batch: WorkBatch): number[] {
  return batch.customers.flatMap((work) => work.events.map((e) => e.seq));
}

/** A grapheme that every backend stores as text (PostgreSQL refuses NUL in text and jsonb). */
const portableChar = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 1 })
  .filter((c) => !c.includes('\u0000'));
const portableString = fc.string({ unit: portableChar, minLength: 1, maxLength: 40 });
const portableObject = fc.dictionary(
  fc.string({ unit: portableChar, maxLength: 12 }),
  fc.jsonValue({ stringUnit: portableChar, maxDepth: 3 }),
  { maxKeys: 6 },
);

/** What a JSON column gives back for a value: JSON's own round trip (e.g. -0 becomes 0). */
function throughJson(value: { [key: string]: unknown }): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

/**
 * Registers the conformance suite for one backend. `open` must return a fresh, empty store; the
 * suite migrates it (migration must be idempotent) and closes it after each test.
 */
export function describeStoreConformance<S extends Store>(
  name: string,
  open: () => Promise<S>,
  options: ConformanceOptions<S> = {},
): void {
  describe(`Store conformance: ${name}`, () => {
    let store: S;

    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('decisions and the model registry', () => {
      it('appends decisions outside a batch and lists them newest first, by kind when asked', async () => {
        await store.appendDecisions([
          decision({ id: 'd1', kind: 'next_best_action', at: T0 }),
          decision({ id: 'd2', kind: 'prediction', at: T0 + MINUTE, subject: HOSTILE_ID }),
          decision({ id: 'd3', kind: 'prediction', at: T0 + 2 * MINUTE }),
          decision({ id: 'd4', customerId: 'c2', kind: 'prediction' }),
        ]);
        expect(
          (await store.listDecisions({ customerId: 'c1', limit: 10 })).map((d) => d.id),
        ).toEqual(['d3', 'd2', 'd1']);
        const predictions = await store.listDecisions({
          customerId: 'c1',
          kind: 'prediction',
          limit: 1,
        });
        expect(predictions).toEqual([
          decision({ id: 'd3', kind: 'prediction', at: T0 + 2 * MINUTE }),
        ]);
        expect(await store.listDecisions({ customerId: 'c1', kind: 'rules', limit: 5 })).toEqual(
          [],
        );
      });

      it('keeps the first of two decisions with one id (a retried append is a no-op)', async () => {
        await store.appendDecisions([decision({ id: 'd1' })]);
        await store.appendDecisions([
          decision({ id: 'd1', explanation: { changed: true } }),
          decision({ id: 'd2', at: T0 + 1 }),
        ]);
        expect(await store.listDecisions({ customerId: 'c1', limit: 10 })).toEqual([
          decision({ id: 'd2', at: T0 + 1 }),
          decision({ id: 'd1' }),
        ]);
      });

      it('numbers versions per name, returns the newest by default, and keeps every version', async () => {
        const model = (name: string, auc: number) => ({
          name,
          kind: 'churn',
          createdAt: T0,
          body: { kind: 'churn', weights: [0.5, -1.25], note: UNICODE_ID },
          metrics: { auc },
          source: 'telco.csv',
        });
        expect(await store.getModel('churn_predictor_v2')).toBeNull();
        expect(await store.registerModel(model('churn_predictor_v2', 0.84))).toEqual({
          ...model('churn_predictor_v2', 0.84),
          version: 1,
        });
        await store.registerModel(model('expansion_scorer', 0.7));
        const second = await store.registerModel(model('churn_predictor_v2', 0.85));
        expect(second.version).toBe(2);
        expect(await store.getModel('churn_predictor_v2')).toEqual(second);
        expect((await store.getModel('churn_predictor_v2', 1))?.metrics).toEqual({ auc: 0.84 });
        expect(await store.getModel('churn_predictor_v2', 3)).toBeNull();
        const all = await store.listModels({});
        expect(all.map((m) => `${m.name}@${m.version}`)).toEqual([
          'churn_predictor_v2@2',
          'churn_predictor_v2@1',
          'expansion_scorer@1',
        ]);
        const latest = await store.listModels({ latestOnly: true });
        expect(latest.map((m) => `${m.name}@${m.version}`)).toEqual([
          'churn_predictor_v2@2',
          'expansion_scorer@1',
        ]);
        expect(
          (await store.listModels({ name: 'expansion_scorer' })).map((m) => m.version),
        ).toEqual([1]);
      });

      it('gives concurrent registrations of one name distinct versions', async () => {
        const registered = await Promise.all(
          [1, 2, 3, 4].map((i) =>
            store.registerModel({
              name: 'm',
              kind: 'churn',
              createdAt: T0 + i,
              body: { i },
              metrics: {},
              source: 'test',
            }),
          ),
        );
        expect(registered.map((m) => m.version).sort()).toEqual([1, 2, 3, 4]);
      });

      /** A model of name `m` whose body says which registration it was. */
      const versionOf = (i: number) => ({
        name: 'm',
        kind: 'engagement',
        createdAt: T0 + i,
        body: { i },
        metrics: {},
        source: 'test',
      });

      it('registers `after` the newest version only, and stores nothing when another came first', async () => {
        expect((await store.registerModel(versionOf(1), { after: 0 })).version).toBe(1);
        expect((await store.registerModel(versionOf(2), { after: 1 })).version).toBe(2);
        // A writer that read version 1 and merged onto it is refused: version 2 came meanwhile.
        await expect(store.registerModel(versionOf(3), { after: 1 })).rejects.toMatchObject({
          code: 'STORE_CONFLICT',
          details: { name: 'm', after: 1, newest: 2 },
        });
        await expect(store.registerModel(versionOf(3), { after: 0 })).rejects.toMatchObject({
          code: 'STORE_CONFLICT',
        });
        expect((await store.listModels({ name: 'm' })).map((m) => m.body)).toEqual([
          { i: 2 },
          { i: 1 },
        ]);
        // A name without versions is `after: 0`, and nothing else.
        await expect(
          store.registerModel({ ...versionOf(1), name: 'n' }, { after: 1 }),
        ).rejects.toMatchObject({ code: 'STORE_CONFLICT', details: { newest: 0 } });
        expect(await store.getModel('n')).toBeNull();
      });

      it('lets exactly one of concurrent registrations `after` the same version through', async () => {
        await store.registerModel(versionOf(0));
        const outcomes = await Promise.allSettled(
          [1, 2, 3, 4].map((i) => store.registerModel(versionOf(i), { after: 1 })),
        );
        const stored = outcomes.filter((o) => o.status === 'fulfilled');
        expect(stored).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toMatchObject({ code: 'STORE_CONFLICT' });
          }
        }
        expect((await store.listModels({ name: 'm' })).map((m) => m.version)).toEqual([2, 1]);
      });

      it('keeps only the newest `keep` versions of the name it registers, numbering on', async () => {
        await store.registerModel({ ...versionOf(0), name: 'other' });
        for (let i = 1; i <= 5; i++) await store.registerModel(versionOf(i), { keep: 3 });
        expect((await store.listModels({ name: 'm' })).map((m) => m.version)).toEqual([5, 4, 3]);
        expect(await store.getModel('m', 2)).toBeNull();
        // Versions count on from the newest: a dropped number is never reused.
        expect((await store.registerModel(versionOf(6), { keep: 1, after: 5 })).version).toBe(6);
        expect((await store.listModels({ name: 'm' })).map((m) => m.version)).toEqual([6]);
        // Other names are not touched; a refused registration deletes nothing.
        expect((await store.listModels({ name: 'other' })).map((m) => m.version)).toEqual([1]);
        await expect(
          store.registerModel(versionOf(7), { keep: 1, after: 5 }),
        ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
        expect((await store.listModels({ name: 'm' })).map((m) => m.version)).toEqual([6]);
      });

      it('refuses a `keep` below 1 and an `after` that is not a version', async () => {
        for (const keep of [0, -1, 1.5, Number.NaN]) {
          await expect(store.registerModel(versionOf(1), { keep })).rejects.toMatchObject({
            code: 'MODEL_KEEP_INVALID',
          });
        }
        for (const after of [-1, 0.5, Number.POSITIVE_INFINITY]) {
          await expect(store.registerModel(versionOf(1), { after })).rejects.toMatchObject({
            code: 'MODEL_VERSION_INVALID',
          });
        }
        expect(await store.getModel('m')).toBeNull();
      });
    });

    /** Claims the pending event(s) of `customerId` and commits `result` for them. */
    async function processWith(
      customerId: string,
      result: Partial<WorkResult>,
      now = T0,
    ): Promise<WorkBatch> {
      await store.appendEvents([newEvent(customerId)], now);
      const batch = await store.claimWork(claimOptions({ now }));
      if (batch === null) throw new Error('expected work to claim');
      await store.commitWork(batch, {
        ...emptyWorkResult(),
        processedEventSeqs: allSeqs(batch),
        ...result,
      });
      return batch;
    }

    describe('lifecycle', () => {
      it('migrates again without effect and keeps the data', async () => {
        await store.appendEvents([newEvent('c1')], T0);
        await store.migrate();
        await store.migrate();
        expect(await store.pendingEventCount()).toBe(1);
      });

      it('closes idempotently', async () => {
        await store.close();
        await store.close();
        await expect(store.pendingEventCount()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
        store = await open();
      });
    });

    describe('appendEvents', () => {
      it('accepts new events with increasing seqs and keeps given ids', async () => {
        const results = await store.appendEvents(
          [newEvent('c1', { id: 'evt-given' }), newEvent('c2'), newEvent('c1')],
          T0 + 5,
        );
        expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
        expect(results[0]?.id).toBe('evt-given');
        const seqs = results.map((r) => r.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(3);
        expect(new Set(results.map((r) => r.id)).size).toBe(3);
        const stored = await store.getEvent('evt-given');
        expect(stored).toMatchObject({
          id: 'evt-given',
          seq: seqs[0],
          customerId: 'c1',
          type: 'feature.used',
          occurredAt: T0,
          receivedAt: T0 + 5,
          idempotencyKey: null,
          status: 'pending',
          error: null,
        });
        expect(await store.pendingEventCount()).toBe(3);
      });

      it('reports the same idempotency key twice in one call as a duplicate of the first', async () => {
        const results = await store.appendEvents(
          [
            newEvent('c1', { idempotencyKey: 'k1', payload: { n: 1 } }),
            newEvent('c1', { idempotencyKey: 'k1', payload: { n: 2 } }),
          ],
          T0,
        );
        const [first, second] = results;
        expect(first?.status).toBe('accepted');
        expect(second).toEqual({ status: 'duplicate', id: first?.id, seq: first?.seq });
        expect(await store.pendingEventCount()).toBe(1);
        expect((await store.getEvent(first?.id ?? ''))?.payload).toEqual({ n: 1 });
      });

      it('reports a key seen in an earlier call as a duplicate of the stored event', async () => {
        const [first] = await store.appendEvents([newEvent('c1', { idempotencyKey: 'k1' })], T0);
        const [again] = await store.appendEvents(
          [newEvent('c1', { idempotencyKey: 'k1', id: 'another-id' })],
          T0 + 1,
        );
        expect(again).toEqual({ status: 'duplicate', id: first?.id, seq: first?.seq });
        expect(await store.getEvent('another-id')).toBeNull();
        expect(await store.pendingEventCount()).toBe(1);
      });

      it('reports an id seen before as a duplicate', async () => {
        const [first] = await store.appendEvents([newEvent('c1', { id: 'e1' })], T0);
        const results = await store.appendEvents(
          [newEvent('c2', { id: 'e1' }), newEvent('c2', { id: 'e1' })],
          T0,
        );
        expect(results).toEqual([
          { status: 'duplicate', id: 'e1', seq: first?.seq },
          { status: 'duplicate', id: 'e1', seq: first?.seq },
        ]);
        expect((await store.getEvent('e1'))?.customerId).toBe('c1');
      });

      it('appends nothing for an empty list', async () => {
        expect(await store.appendEvents([], T0)).toEqual([]);
        expect(await store.pendingEventCount()).toBe(0);
      });

      it('stores hostile and unicode identifiers literally', async () => {
        const payload = { note: `'; DELETE FROM events; --`, name: UNICODE_ID, emoji: '👩‍👩‍👧' };
        await store.appendEvents(
          [
            newEvent(HOSTILE_ID, { id: HOSTILE_ID, idempotencyKey: HOSTILE_ID, payload }),
            newEvent(UNICODE_ID, { id: UNICODE_ID, type: `type-${UNICODE_ID}` }),
          ],
          T0,
        );
        await store.upsertCustomers([customer(HOSTILE_ID, { name: HOSTILE_ID })]);
        expect(await store.getEvent(HOSTILE_ID)).toMatchObject({
          customerId: HOSTILE_ID,
          idempotencyKey: HOSTILE_ID,
          payload,
        });
        expect((await store.getEvent(UNICODE_ID))?.type).toBe(`type-${UNICODE_ID}`);
        expect((await store.getCustomer(HOSTILE_ID))?.attributes).toEqual({ name: HOSTILE_ID });
        const batch = await store.claimWork(claimOptions());
        expect(batch?.customers.map((w) => w.customerId)).toEqual([HOSTILE_ID, UNICODE_ID]);
      });

      it('round-trips arbitrary ids, types and JSON payloads', async () => {
        let n = 0;
        await fc.assert(
          fc.asyncProperty(portableString, portableString, portableObject, async (id, type, p) => {
            n += 1;
            const [result] = await store.appendEvents(
              // fast-check's JSON objects are JSON objects; its type only marks values optional.
              [newEvent(id, { id: `${n}:${id}`, type, payload: p as JsonObject })],
              T0,
            );
            expect(result?.status).toBe('accepted');
            const stored = await store.getEvent(`${n}:${id}`);
            expect(stored?.customerId).toBe(id);
            expect(stored?.type).toBe(type);
            expect(stored?.payload).toEqual(throughJson(p));
          }),
          { numRuns: 60 },
        );
      });
    });

    describe('customers', () => {
      it('replaces attributes on upsert and keeps the first createdAt', async () => {
        await store.upsertCustomers([customer('c1', { plan: 'pro', arr: 1000 }, T0)]);
        await store.upsertCustomers([
          { id: 'c1', attributes: { plan: 'enterprise' }, createdAt: T0 + 9, updatedAt: T0 + 9 },
        ]);
        expect(await store.getCustomer('c1')).toEqual({
          id: 'c1',
          attributes: { plan: 'enterprise' },
          createdAt: T0,
          updatedAt: T0 + 9,
        });
        expect(await store.getCustomer('nobody')).toBeNull();
      });

      it('pages through customers by id without gaps or repeats', async () => {
        const ids = ['e', 'a', 'd', 'b', 'c', HOSTILE_ID, UNICODE_ID];
        await store.upsertCustomers(ids.map((id) => customer(id)));
        const listed = await collectPages(2, (cursor) => store.listCustomers({ limit: 2, cursor }));
        expect(listed.map((c) => c.id)).toEqual([...ids].sort());
      });

      it('orders ids by code point, case-sensitively, whatever the database locale', async () => {
        const ids = ['b', 'B', 'a', 'A', '_x', 'a b', 'ab', 'é', 'Z9', '10', '9'];
        await store.upsertCustomers(ids.map((id) => customer(id)));
        const listed = await collectPages(3, (cursor) => store.listCustomers({ limit: 3, cursor }));
        // JavaScript's default sort compares UTF-16 code units: code point order for these ids.
        expect(listed.map((c) => c.id)).toEqual([...ids].sort());
      });

      it('rejects a malformed cursor as invalid input', async () => {
        await expect(
          store.listCustomers({ limit: 2, cursor: 'not-a-cursor' }),
        ).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
      });
    });

    describe('claimWork', () => {
      it('returns null when there is nothing to do', async () => {
        expect(await store.claimWork(claimOptions())).toBeNull();
      });

      it('groups pending events by customer, in order of their oldest event', async () => {
        const seq = (
          await store.appendEvents(
            ['a', 'b', 'a', 'c', 'b'].map((c) => newEvent(c)),
            T0,
          )
        ).map((r) => r.seq);
        const batch = await store.claimWork(claimOptions());
        expect(batch?.claimedAt).toBe(T0);
        expect(batch?.customers.map((w) => w.customerId)).toEqual(['a', 'b', 'c']);
        expect(seqsByCustomer(must(batch))).toEqual(
          new Map([
            ['a', [seq[0], seq[2]]],
            ['b', [seq[1], seq[4]]],
            ['c', [seq[3]]],
          ]),
        );
      });

      it('never gives a customer a later event without its earlier ones', async () => {
        const customerIds = fc.constantFrom('a', 'b', 'c', 'd');
        await fc.assert(
          fc.asyncProperty(
            fc.array(customerIds, { minLength: 1, maxLength: 40 }),
            fc.integer({ min: 1, max: 45 }),
            async (owners, maxEvents) => {
              const fresh = await open();
              try {
                await fresh.migrate();
                const appended = await fresh.appendEvents(
                  owners.map((c) => newEvent(c)),
                  T0,
                );
                const pending = new Map<string, number[]>();
                owners.forEach((owner, i) => {
                  pending.set(owner, [...(pending.get(owner) ?? []), appended[i]?.seq ?? -1]);
                });
                const batch = await fresh.claimWork(claimOptions({ maxEvents }));
                expect(batch).not.toBeNull();
                const claimed = allSeqs(must(batch));
                expect(claimed.length).toBe(Math.min(maxEvents, owners.length));
                for (const [owner, seqs] of seqsByCustomer(must(batch))) {
                  // A prefix of the customer's pending events, in seq order.
                  expect(seqs).toEqual(pending.get(owner)?.slice(0, seqs.length));
                }
                // The oldest pending event always makes it into the batch.
                expect(claimed).toContain(appended[0]?.seq);
              } finally {
                await fresh.close();
              }
            },
          ),
          { numRuns: 25 },
        );
      });

      it('brings the customer, its working enrollments and its trigger states', async () => {
        await processWith('c1', {
          customerUpserts: [customer('c1', { arr: 150_000 })],
          enrollmentUpserts: [
            enrollment({ id: 'en-active', journeyId: 'onboarding' }),
            enrollment({
              id: 'en-old',
              journeyId: 'renewal',
              status: 'exited',
              endedAt: T0 + 1,
              exitReason: 'goal',
            }),
            enrollment({
              id: 'en-latest',
              journeyId: 'renewal',
              status: 'completed',
              enrolledAt: T0 + 2,
              endedAt: T0 + 3,
            }),
            enrollment({ id: 'en-other', customerId: 'c2', journeyId: 'onboarding' }),
          ],
          triggerStates: [
            { triggerName: 'health_low', customerId: 'c1', value: true },
            { triggerName: 'usage_drop', customerId: 'c1', value: false },
            { triggerName: 'health_low', customerId: 'c2', value: false },
          ],
        });
        await store.appendEvents([newEvent('c1')], T0 + MINUTE);
        const batch = await store.claimWork(claimOptions({ now: T0 + MINUTE }));
        const work = batch?.customers[0];
        expect(work?.customer?.attributes).toEqual({ arr: 150_000 });
        expect(work?.enrollments.map((e) => e.id).sort()).toEqual(['en-active', 'en-latest']);
        expect(work?.triggerStates).toEqual({ health_low: true, usage_drop: false });
      });

      it('gives a customer that does not exist a null profile', async () => {
        await store.appendEvents([newEvent('ghost')], T0);
        const batch = await store.claimWork(claimOptions());
        expect(batch?.customers[0]).toMatchObject({
          customerId: 'ghost',
          customer: null,
          enrollments: [],
          timers: [],
          triggerStates: {},
        });
      });

      it('keeps leased customers from a second claim until the lease expires', async () => {
        await store.appendEvents([newEvent('a'), newEvent('b')], T0);
        const first = await store.claimWork(claimOptions());
        expect(first?.customers.map((w) => w.customerId)).toEqual(['a', 'b']);

        const [late] = await store.appendEvents([newEvent('a'), newEvent('c')], T0 + 1);
        const second = await store.claimWork(claimOptions({ now: T0 + 1, workerId: 'other' }));
        expect(second?.customers.map((w) => w.customerId)).toEqual(['c']);
        expect(await store.claimWork(claimOptions({ now: T0 + 2 }))).toBeNull();

        // After expiry the customers may be taken over, with every event still pending.
        const takeover = await store.claimWork(claimOptions({ now: T0 + LEASE_MS }));
        expect(takeover?.customers.map((w) => w.customerId)).toEqual(['a', 'b']);
        expect(seqsByCustomer(must(takeover)).get('a')).toEqual([
          ...(seqsByCustomer(must(first)).get('a') ?? []),
          late?.seq,
        ]);
      });

      it('refuses to commit a batch whose customers were taken over, writing nothing', async () => {
        await store.appendEvents([newEvent('a')], T0);
        const first = await store.claimWork(claimOptions());
        const takeover = await store.claimWork(claimOptions({ now: T0 + LEASE_MS }));
        expect(takeover?.customers.map((w) => w.customerId)).toEqual(['a']);
        await expect(
          store.commitWork(must(first), {
            ...emptyWorkResult(),
            processedEventSeqs: allSeqs(must(first)),
            messages: [message({ id: 'm1', customerId: 'a' })],
          }),
        ).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
        expect(await store.pendingEventCount()).toBe(1);
        expect((await store.listMessages({ limit: 10 })).items).toEqual([]);
        await store.commitWork(must(takeover), {
          ...emptyWorkResult(),
          processedEventSeqs: allSeqs(must(takeover)),
        });
        expect(await store.pendingEventCount()).toBe(0);
      });

      it('refuses a commit when only some of its customers were taken over', async () => {
        await store.appendEvents([newEvent('a'), newEvent('b')], T0);
        const first = await store.claimWork(claimOptions());
        const takeover = await store.claimWork(claimOptions({ now: T0 + LEASE_MS, maxEvents: 1 }));
        expect(takeover?.customers.map((w) => w.customerId)).toEqual(['a']);
        await expect(
          store.commitWork(must(first), {
            ...emptyWorkResult(),
            processedEventSeqs: allSeqs(must(first)),
          }),
        ).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
        expect(await store.pendingEventCount()).toBe(2);
        // The customer nobody took over is free for the next claim once the old lease expired.
        const rest = await store.claimWork(claimOptions({ now: T0 + LEASE_MS }));
        expect(rest?.customers.map((w) => w.customerId)).toEqual(['b']);
      });

      it('commits a batch once: committing it again is refused and writes nothing', async () => {
        await store.appendEvents([newEvent('a')], T0);
        const batch = must(await store.claimWork(claimOptions()));
        await store.commitWork(batch, { ...emptyWorkResult(), processedEventSeqs: allSeqs(batch) });
        await expect(
          store.commitWork(batch, {
            ...emptyWorkResult(),
            messages: [message({ id: 'm-again', customerId: 'a' })],
          }),
        ).rejects.toMatchObject({ code: 'STORE_LEASE_LOST' });
        expect((await store.listMessages({ limit: 10 })).items).toEqual([]);
      });

      it('leaves the new holder’s lease alone when a taken-over batch is released', async () => {
        await store.appendEvents([newEvent('a')], T0);
        const first = await store.claimWork(claimOptions());
        const takeover = await store.claimWork(claimOptions({ now: T0 + LEASE_MS }));
        expect(takeover?.customers.map((w) => w.customerId)).toEqual(['a']);
        await store.releaseWork(must(first));
        expect(await store.claimWork(claimOptions({ now: T0 + LEASE_MS + 1 }))).toBeNull();
      });

      it('gives released work back to the next claim', async () => {
        await store.appendEvents([newEvent('a'), newEvent('b')], T0);
        const first = await store.claimWork(claimOptions());
        await store.releaseWork(must(first));
        await store.releaseWork(must(first));
        const again = await store.claimWork(claimOptions({ now: T0 + 1 }));
        expect(seqsByCustomer(must(again))).toEqual(seqsByCustomer(must(first)));
      });

      it('marks committed events processed or failed, and never hands them out again', async () => {
        const [ok, bad] = await store.appendEvents([newEvent('a'), newEvent('b')], T0);
        const batch = await store.claimWork(claimOptions());
        await store.commitWork(must(batch), {
          ...emptyWorkResult(),
          processedEventSeqs: [must(ok).seq],
          failedEvents: [{ seq: must(bad).seq, error: 'unknown field' }],
        });
        expect((await store.getEvent(must(ok).id))?.status).toBe('processed');
        expect(await store.getEvent(must(bad).id)).toMatchObject({
          status: 'failed',
          error: 'unknown field',
        });
        expect(await store.pendingEventCount()).toBe(0);
        expect(await store.claimWork(claimOptions({ now: T0 + LEASE_MS }))).toBeNull();
      });

      it('respects maxEvents and maxTimers of zero', async () => {
        await store.appendEvents([newEvent('a')], T0);
        expect(await store.claimWork(claimOptions({ maxEvents: 0, maxTimers: 0 }))).toBeNull();
      });
    });

    describe('timers', () => {
      it('hands out a timer only once it is due, and only until it fires', async () => {
        await processWith('c1', {
          timersToAdd: [
            timer({ id: 't-late', dueAt: T0 + 2 * MINUTE }),
            timer({ id: 't-soon', dueAt: T0 + MINUTE, payload: { step: 'wait_1' } }),
          ],
        });
        expect(await store.nextTimerDueAt()).toBe(T0 + MINUTE);
        expect(await store.claimWork(claimOptions({ now: T0 + MINUTE - 1 }))).toBeNull();

        const due = await store.claimWork(claimOptions({ now: T0 + MINUTE }));
        expect(due?.customers.map((w) => w.customerId)).toEqual(['c1']);
        expect(due?.customers[0]?.events).toEqual([]);
        expect(due?.customers[0]?.timers).toEqual([
          timer({ id: 't-soon', dueAt: T0 + MINUTE, payload: { step: 'wait_1' } }),
        ]);
        await store.commitWork(must(due), { ...emptyWorkResult(), firedTimerIds: ['t-soon'] });
        expect(await store.nextTimerDueAt()).toBe(T0 + 2 * MINUTE);

        const both = await store.claimWork(claimOptions({ now: T0 + 10 * MINUTE }));
        expect(both?.customers[0]?.timers.map((t) => t.id)).toEqual(['t-late']);
        await store.commitWork(must(both), { ...emptyWorkResult(), firedTimerIds: ['t-late'] });
        expect(await store.nextTimerDueAt()).toBeNull();
        expect(await store.claimWork(claimOptions({ now: T0 + 20 * MINUTE }))).toBeNull();
        expect((await store.listTimers({ customerId: 'c1' })).map((t) => t.status)).toEqual([
          'fired',
          'fired',
        ]);
      });

      it('reschedules a timer the batch fired: pending again at its new due time, once', async () => {
        await processWith('c1', {
          timersToAdd: [timer({ id: 'daily', dueAt: T0 + MINUTE, kind: 'schedule' })],
        });
        const first = await store.claimWork(claimOptions({ now: T0 + MINUTE }));
        await store.commitWork(must(first), {
          ...emptyWorkResult(),
          firedTimerIds: ['daily'],
          timersToReschedule: [{ id: 'daily', dueAt: T0 + 60 * MINUTE, payload: { n: 2 } }],
        });
        expect(await store.nextTimerDueAt()).toBe(T0 + 60 * MINUTE);
        expect(await store.claimWork(claimOptions({ now: T0 + 59 * MINUTE }))).toBeNull();
        const second = await store.claimWork(claimOptions({ now: T0 + 60 * MINUTE }));
        expect(second?.customers[0]?.timers).toEqual([
          timer({ id: 'daily', dueAt: T0 + 60 * MINUTE, kind: 'schedule', payload: { n: 2 } }),
        ]);
        // Only a fired timer is rescheduled: a cancelled one stays cancelled.
        await store.commitWork(must(second), {
          ...emptyWorkResult(),
          timerIdsToCancel: ['daily'],
          timersToReschedule: [{ id: 'daily', dueAt: T0 + 120 * MINUTE, payload: {} }],
        });
        expect(await store.nextTimerDueAt()).toBeNull();
        expect((await store.listTimers({ customerId: 'c1' })).map((t) => t.id)).toEqual(['daily']);
      });

      it('never hands out a cancelled timer, and a timer added and cancelled together ends cancelled', async () => {
        await processWith('c1', {
          timersToAdd: [timer({ id: 't1' }), timer({ id: 't2', dueAt: T0 + 2 * MINUTE })],
          timerIdsToCancel: ['t1'],
        });
        expect(await store.nextTimerDueAt()).toBe(T0 + 2 * MINUTE);
        await processWith('c1', { timerIdsToCancel: ['t2'] }, T0 + 1);
        expect(await store.nextTimerDueAt()).toBeNull();
        expect(await store.claimWork(claimOptions({ now: T0 + 5 * MINUTE }))).toBeNull();
        expect(await store.listTimers({ status: 'cancelled' })).toHaveLength(2);
      });

      it('limits timers by maxTimers in due order', async () => {
        await processWith('c1', {
          timersToAdd: [
            timer({ id: 't3', dueAt: T0 + 3 }),
            timer({ id: 't1', dueAt: T0 + 1 }),
            timer({ id: 't2', dueAt: T0 + 2 }),
          ],
        });
        const batch = await store.claimWork(claimOptions({ now: T0 + MINUTE, maxTimers: 2 }));
        expect(batch?.customers[0]?.timers.map((t) => t.id)).toEqual(['t1', 't2']);
      });

      it('hands out a due timer only together with all of its customer’s pending events', async () => {
        await processWith('b', {
          timersToAdd: [timer({ id: 'tb', customerId: 'b', dueAt: T0 + 1 })],
        });
        await processWith('c', {
          timersToAdd: [timer({ id: 'tc', customerId: 'c', dueAt: T0 + 1 })],
        });
        await store.appendEvents(
          [newEvent('a'), newEvent('b'), newEvent('c'), newEvent('c'), newEvent('c')],
          T0 + 2,
        );
        // Budget of 3: a gets 1, b gets 1 (all it has), c gets 1 of 3 and so no timer yet.
        const first = await store.claimWork(claimOptions({ now: T0 + 2, maxEvents: 3 }));
        expect(
          must(first).customers.map((w) => [w.customerId, w.events.length, w.timers.length]),
        ).toEqual([
          ['a', 1, 0],
          ['b', 1, 1],
          ['c', 1, 0],
        ]);
        await store.commitWork(must(first), {
          ...emptyWorkResult(),
          processedEventSeqs: allSeqs(must(first)),
          firedTimerIds: ['tb'],
        });
        const second = await store.claimWork(claimOptions({ now: T0 + 3, maxEvents: 3 }));
        expect(
          must(second).customers.map((w) => [w.customerId, w.events.length, w.timers.length]),
        ).toEqual([['c', 2, 1]]);
      });

      it('keeps a due timer back while its customer’s pending events do not fit', async () => {
        await processWith('b', {
          timersToAdd: [timer({ id: 'tb', customerId: 'b', dueAt: T0 + 1 })],
        });
        await store.appendEvents([newEvent('a'), newEvent('b')], T0 + 2);
        const batch = await store.claimWork(claimOptions({ now: T0 + 2, maxEvents: 1 }));
        expect(must(batch).customers.map((w) => w.customerId)).toEqual(['a']);
      });

      it('keeps due timers of a leased customer for its lease holder', async () => {
        await processWith('c1', { timersToAdd: [timer({ id: 't1', dueAt: T0 + 1 })] });
        await store.appendEvents([newEvent('c1')], T0 + 1);
        const first = await store.claimWork(claimOptions({ now: T0 + 1 }));
        expect(first?.customers[0]?.timers.map((t) => t.id)).toEqual(['t1']);
        expect(await store.claimWork(claimOptions({ now: T0 + 2 }))).toBeNull();
      });

      it('lists timers by customer, enrollment and status', async () => {
        await processWith('c1', {
          timersToAdd: [
            timer({ id: 't1', enrollmentId: 'en1', dueAt: T0 + 2 }),
            timer({ id: 't2', enrollmentId: 'en2', dueAt: T0 + 1 }),
            timer({ id: 't3', customerId: 'c2', dueAt: T0 + 3 }),
          ],
        });
        expect((await store.listTimers({ customerId: 'c1' })).map((t) => t.id)).toEqual([
          't2',
          't1',
        ]);
        expect((await store.listTimers({ enrollmentId: 'en1' })).map((t) => t.id)).toEqual(['t1']);
        expect((await store.listTimers({ status: 'pending' })).map((t) => t.id)).toEqual([
          't2',
          't1',
          't3',
        ]);
      });
    });

    describe('commitWork', () => {
      it('writes every part of a result', async () => {
        const batch = await processWith('c1', {
          customerUpserts: [customer('c1', { plan: 'pro' })],
          enrollmentUpserts: [enrollment({ id: 'en1', state: { split: 'A' }, holdout: true })],
          messages: [message({ id: 'm1', enrollmentId: 'en1' })],
          journeyEvents: [
            journeyEvent({ data: { stage: 'welcome' } }),
            journeyEvent({ type: 'journey.stage_changed' }),
          ],
          outbox: [outboxEntry({ key: 'webhook:1', payload: { url: 'https://x.test' } })],
          triggerExecutions: [
            {
              triggerName: 'signup',
              customerId: 'c1',
              eventSeq: 1,
              executedAt: T0,
              processingTimeMs: 1.5,
              fired: true,
            },
          ],
          ruleFires: [{ ruleId: 'r1', customerId: 'c1', firedAt: T0 }],
          decisions: [decision({ id: 'd1' })],
          tasks: [task({ id: 'task1', dueAt: T0 + MINUTE })],
          alerts: [alert({ id: 'a1' })],
        });
        expect(batch.customers).toHaveLength(1);
        expect(await store.pendingEventCount()).toBe(0);
        expect((await store.getCustomer('c1'))?.attributes).toEqual({ plan: 'pro' });
        expect(await store.getEnrollment('en1')).toEqual(
          enrollment({ id: 'en1', state: { split: 'A' }, holdout: true }),
        );
        expect((await store.listMessages({ limit: 10 })).items).toEqual([
          message({ id: 'm1', enrollmentId: 'en1' }),
        ]);
        const events = (await store.listJourneyEvents({ limit: 10 })).items;
        expect(events.map((e) => e.type)).toEqual(['journey.enrolled', 'journey.stage_changed']);
        expect(events[0]).toMatchObject({ ...journeyEvent({ data: { stage: 'welcome' } }) });
        expect(must(must(events[0]).seq)).toBeLessThan(must(must(events[1]).seq));
        const outbox = await store.claimOutbox({ now: T0, limit: 10 });
        expect(outbox).toMatchObject([
          { kind: 'webhook', key: 'webhook:1', payload: { url: 'https://x.test' }, attempts: 0 },
        ]);
        expect(await store.listTriggerExecutions({ limit: 10 })).toEqual([
          {
            triggerName: 'signup',
            customerId: 'c1',
            eventSeq: 1,
            executedAt: T0,
            processingTimeMs: 1.5,
            fired: true,
          },
        ]);
        expect(await store.countRuleFires('c1', T0)).toEqual({ r1: 1 });
        expect(await store.listDecisions({ customerId: 'c1', limit: 10 })).toEqual([
          decision({ id: 'd1' }),
        ]);
        expect(await store.listTasks({ limit: 10 })).toEqual([
          task({ id: 'task1', dueAt: T0 + MINUTE }),
        ]);
        expect(await store.listAlerts({ limit: 10 })).toEqual([alert({ id: 'a1' })]);
      });

      it('writes nothing when any part fails, and the work can be claimed again', async () => {
        await store.upsertCustomers([customer('c1', { plan: 'free' })]);
        await processWith('c1', {
          timersToAdd: [timer({ id: 't-existing', dueAt: T0 + 10 * MINUTE })],
        });
        await store.appendEvents([newEvent('c1'), newEvent('c2')], T0 + 1);
        const batch = await store.claimWork(claimOptions({ now: T0 + 1 }));
        const failing: WorkResult = {
          ...emptyWorkResult(),
          processedEventSeqs: allSeqs(must(batch)),
          customerUpserts: [customer('c1', { plan: 'pro' }), customer('c2')],
          customerDeletes: ['c1'],
          enrollmentUpserts: [enrollment({ id: 'en1' })],
          messages: [message({ id: 'm1' })],
          journeyEvents: [journeyEvent()],
          outbox: [outboxEntry({ key: 'o1' })],
          triggerStates: [{ triggerName: 'x', customerId: 'c1', value: true }],
          ruleFires: [{ ruleId: 'r1', customerId: 'c1', firedAt: T0 }],
          decisions: [decision({ id: 'd1' })],
          tasks: [task({ id: 'task1' })],
          alerts: [alert({ id: 'a1' })],
          // Violates uniqueness: a timer with this id already exists.
          timersToAdd: [timer({ id: 't-new' }), timer({ id: 't-existing' })],
        };
        await expect(store.commitWork(must(batch), failing)).rejects.toMatchObject({
          code: 'STORE_CONFLICT',
        });

        expect(await store.pendingEventCount()).toBe(2);
        expect(await store.getCustomer('c1')).toMatchObject({ attributes: { plan: 'free' } });
        expect(await store.getCustomer('c2')).toBeNull();
        expect(await store.getEnrollment('en1')).toBeNull();
        expect((await store.listMessages({ limit: 10 })).items).toEqual([]);
        expect((await store.listJourneyEvents({ limit: 10 })).items).toEqual([]);
        expect(await store.claimOutbox({ now: T0 + 1, limit: 10 })).toEqual([]);
        expect(await store.countRuleFires('c1', 0)).toEqual({});
        expect(await store.listDecisions({ customerId: 'c1', limit: 10 })).toEqual([]);
        expect(await store.listTasks({ limit: 10 })).toEqual([]);
        expect(await store.listAlerts({ limit: 10 })).toEqual([]);
        expect((await store.listTimers({})).map((t) => t.id)).toEqual(['t-existing']);

        // The lease still holds until released; then the same events come back.
        expect(await store.claimWork(claimOptions({ now: T0 + 2 }))).toBeNull();
        await store.releaseWork(must(batch));
        const again = await store.claimWork(claimOptions({ now: T0 + 2 }));
        expect(seqsByCustomer(must(again))).toEqual(seqsByCustomer(must(batch)));
        expect(again?.customers[0]?.triggerStates).toEqual({});
      });

      it('deletes only the profile and keeps the history that refers to it', async () => {
        await processWith('c1', {
          customerUpserts: [customer('c1', { email: 'a@example.com' })],
          enrollmentUpserts: [enrollment({ id: 'en1' })],
          messages: [message({ id: 'm1' })],
          journeyEvents: [journeyEvent()],
        });
        const [deletion] = await store.appendEvents(
          [newEvent('c1', { type: 'customer.deleted' })],
          T0 + 1,
        );
        const batch = await store.claimWork(claimOptions({ now: T0 + 1 }));
        await store.commitWork(must(batch), {
          ...emptyWorkResult(),
          processedEventSeqs: allSeqs(must(batch)),
          customerDeletes: ['c1'],
        });
        expect(await store.getCustomer('c1')).toBeNull();
        expect(await store.getEnrollment('en1')).not.toBeNull();
        expect((await store.listMessages({ customerId: 'c1', limit: 10 })).items).toHaveLength(1);
        expect((await store.listJourneyEvents({ customerId: 'c1', limit: 10 })).items).toHaveLength(
          1,
        );
        expect((await store.getEvent(must(deletion).id))?.status).toBe('processed');
      });

      it('applies deletes before upserts: a re-created customer exists afterwards', async () => {
        await store.upsertCustomers([customer('c1', { v: 1 })]);
        await processWith('c1', {
          customerDeletes: ['c1'],
          customerUpserts: [customer('c1', { v: 2 }, T0 + 5)],
        });
        expect(await store.getCustomer('c1')).toEqual(customer('c1', { v: 2 }, T0 + 5));
      });

      it('keeps one message per idempotency key, within a commit and across commits', async () => {
        await processWith('c1', {
          messages: [
            message({ id: 'm1', idempotencyKey: 'welcome:c1' }),
            message({ id: 'm2', idempotencyKey: 'welcome:c1', channel: 'sms' }),
          ],
        });
        await processWith(
          'c1',
          { messages: [message({ id: 'm3', idempotencyKey: 'welcome:c1', channel: 'push' })] },
          T0 + 1,
        );
        const messages = (await store.listMessages({ limit: 10 })).items;
        expect(messages.map((m) => [m.id, m.channel])).toEqual([['m1', 'email']]);
      });

      it('ignores a second outbox entry with the same key', async () => {
        await processWith('c1', {
          outbox: [
            outboxEntry({ key: 'k', payload: { n: 1 } }),
            outboxEntry({ key: 'k', payload: { n: 2 } }),
          ],
        });
        await processWith('c1', { outbox: [outboxEntry({ key: 'k', payload: { n: 3 } })] }, T0 + 1);
        const claimed = await store.claimOutbox({ now: T0 + 1, limit: 10 });
        expect(claimed.map((o) => o.payload)).toEqual([{ n: 1 }]);
      });

      it('replaces enrollments, tasks, alerts and trigger states by key', async () => {
        await processWith('c1', {
          enrollmentUpserts: [enrollment({ id: 'en1' })],
          tasks: [task({ id: 'task1' })],
          alerts: [alert({ id: 'a1' })],
          triggerStates: [{ triggerName: 'health_low', customerId: 'c1', value: true }],
        });
        const ended = enrollment({
          id: 'en1',
          status: 'completed',
          stage: 'done',
          stepId: null,
          updatedAt: T0 + 1,
          endedAt: T0 + 1,
          exitReason: 'goal_reached',
        });
        await processWith(
          'c1',
          {
            enrollmentUpserts: [ended],
            tasks: [task({ id: 'task1', status: 'done' })],
            alerts: [alert({ id: 'a1', status: 'resolved' })],
            triggerStates: [{ triggerName: 'health_low', customerId: 'c1', value: false }],
          },
          T0 + 1,
        );
        expect(await store.getEnrollment('en1')).toEqual(ended);
        expect((await store.listTasks({ limit: 10 })).map((t) => t.status)).toEqual(['done']);
        expect((await store.listAlerts({ limit: 10 })).map((a) => a.status)).toEqual(['resolved']);
        await store.appendEvents([newEvent('c1')], T0 + 2);
        const batch = await store.claimWork(claimOptions({ now: T0 + 2 }));
        expect(batch?.customers[0]?.triggerStates).toEqual({ health_low: false });
      });
    });

    describe('process roles', () => {
      it('grants a role to one holder at a time until its lease runs out', async () => {
        expect(await store.holdRole('scheduler', 'w1', T0, LEASE_MS)).toBe(true);
        expect(await store.holdRole('scheduler', 'w2', T0 + 1, LEASE_MS)).toBe(false);
        // Renewing moves the holder's expiry on; another holder still waits for it.
        expect(await store.holdRole('scheduler', 'w1', T0 + LEASE_MS - 1, LEASE_MS)).toBe(true);
        expect(await store.holdRole('scheduler', 'w2', T0 + LEASE_MS, LEASE_MS)).toBe(false);
        // Expired: the first to ask takes it over, and the old holder is refused.
        expect(await store.holdRole('scheduler', 'w2', T0 + 2 * LEASE_MS - 1, LEASE_MS)).toBe(true);
        expect(await store.holdRole('scheduler', 'w1', T0 + 2 * LEASE_MS, LEASE_MS)).toBe(false);
        // Roles are independent of each other.
        expect(await store.holdRole(HOSTILE_ID, 'w1', T0 + 2 * LEASE_MS, LEASE_MS)).toBe(true);
      });

      it('lets another holder take a released role at once; a release by a non-holder does nothing', async () => {
        expect(await store.holdRole('scheduler', 'w1', T0, LEASE_MS)).toBe(true);
        await store.releaseRole('scheduler', 'w2');
        expect(await store.holdRole('scheduler', 'w2', T0 + 1, LEASE_MS)).toBe(false);
        await store.releaseRole('scheduler', 'w1');
        expect(await store.holdRole('scheduler', 'w2', T0 + 2, LEASE_MS)).toBe(true);
      });

      it('grants a role to exactly one of many concurrent askers', async () => {
        const holders = Array.from({ length: 8 }, (_, i) => `w${i}`);
        const granted = await Promise.all(
          holders.map((holder) => store.holdRole('scheduler', holder, T0, LEASE_MS)),
        );
        expect(granted.filter(Boolean)).toHaveLength(1);
      });

      it('refuses a lease that is not positive', async () => {
        await expect(store.holdRole('scheduler', 'w1', T0, 0)).rejects.toMatchObject({
          code: 'INVALID_INPUT',
        });
      });
    });

    describe('schedule plans', () => {
      const plan = (overrides: Partial<SchedulePlanRecord> & { customerId: string }) => ({
        triggerName: 'morning',
        timerId: null,
        anchor: 'UTC',
        firedAnchor: null,
        ...overrides,
      });

      it('brings a customer its plans on claim and replaces them by customer and trigger', async () => {
        await processWith('c1', { schedulePlans: [plan({ customerId: 'c1', timerId: 't1' })] });
        await processWith('c1', {
          schedulePlans: [plan({ customerId: 'c1', timerId: null, firedAnchor: 'x' })],
        });
        await store.appendEvents([newEvent('c1')], T0 + 1);
        const batch = await store.claimWork(claimOptions({ now: T0 + 1 }));
        expect(batch?.customers[0]?.schedulePlans).toEqual([
          plan({ customerId: 'c1', timerId: null, firedAnchor: 'x' }),
        ]);
      });

      it('lists customers without a plan for a trigger, by id, and adds first plans only', async () => {
        await store.upsertCustomers(['a', 'b', 'c', 'd'].map((id) => customer(id)));
        await processWith('b', { schedulePlans: [plan({ customerId: 'b' })] });
        const unplanned = await store.listUnplannedCustomers('morning', null, 2);
        expect(unplanned.map((c) => c.id)).toEqual(['a', 'c']);
        expect((await store.listUnplannedCustomers('morning', 'c', 10)).map((c) => c.id)).toEqual([
          'd',
        ]);
        expect((await store.listUnplannedCustomers('other', null, 10)).length).toBe(4);
        const written = await store.addSchedulePlans([
          {
            plan: plan({ customerId: 'a', timerId: 'ta' }),
            timer: timer({ id: 'ta', customerId: 'a', kind: 'schedule', dueAt: T0 + 5 }),
          },
          // b was planned meanwhile: its plan stays, and this timer is not written.
          {
            plan: plan({ customerId: 'b', timerId: 'tb' }),
            timer: timer({ id: 'tb', customerId: 'b', kind: 'schedule', dueAt: T0 + 5 }),
          },
        ]);
        expect(written).toBe(1);
        expect((await store.listUnplannedCustomers('morning', null, 10)).map((c) => c.id)).toEqual([
          'c',
          'd',
        ]);
        const due = await store.claimWork(claimOptions({ now: T0 + 5 }));
        expect(due?.customers.flatMap((c) => c.timers.map((t) => t.id))).toEqual(['ta']);
      });
    });

    describe('outbox', () => {
      async function seedOutbox(entries: OutboxEntry[]): Promise<void> {
        await processWith('c1', { outbox: entries });
      }

      it('hands each consumer the journey events after its cursor, in seq order', async () => {
        await processWith('c1', {
          journeyEvents: [
            journeyEvent({ type: 'journey.enrolled' }),
            journeyEvent({ type: 'step.completed' }),
            journeyEvent({ type: 'journey.completed' }),
          ],
        });
        const first = await store.readJourneyEventsFor('sinks', 2);
        expect(first.map((e) => e.type)).toEqual(['journey.enrolled', 'step.completed']);
        // Not advanced: the same events again (at least once).
        expect((await store.readJourneyEventsFor('sinks', 2)).map((e) => e.seq)).toEqual(
          first.map((e) => e.seq),
        );
        await store.advanceCursor('sinks', must(first.at(-1)?.seq));
        expect((await store.readJourneyEventsFor('sinks', 10)).map((e) => e.type)).toEqual([
          'journey.completed',
        ]);
        // Cursors are per consumer and never move backwards.
        expect(await store.readJourneyEventsFor('other', 10)).toHaveLength(3);
        await store.advanceCursor('sinks', 0);
        expect(await store.readJourneyEventsFor('sinks', 10)).toHaveLength(1);
      });

      it('claims available entries oldest first, by kind, up to the limit', async () => {
        await seedOutbox([
          outboxEntry({ key: 'w1', availableAt: T0 }),
          outboxEntry({ key: 'm1', kind: 'message', availableAt: T0 }),
          outboxEntry({ key: 'w2', availableAt: T0 + 1 }),
          outboxEntry({ key: 'w-later', availableAt: T0 + MINUTE }),
        ]);
        const messages = await store.claimOutbox({ now: T0 + 1, limit: 10, kinds: ['message'] });
        expect(messages.map((o) => o.key)).toEqual(['m1']);
        const webhooks = await store.claimOutbox({ now: T0 + 1, limit: 1 });
        expect(webhooks.map((o) => o.key)).toEqual(['w1']);
        expect(webhooks[0]?.seq).toEqual(expect.any(Number));
        const rest = await store.claimOutbox({ now: T0 + 1, limit: 10 });
        expect(rest.map((o) => o.key)).toEqual(['w2']);
        expect(await store.claimOutbox({ now: T0 + 1, limit: 10 })).toEqual([]);
      });

      it('hides claimed entries until their claim expires, and never returns completed ones', async () => {
        await seedOutbox([outboxEntry({ key: 'a' }), outboxEntry({ key: 'b' })]);
        const claimed = await store.claimOutbox({ now: T0, limit: 10, leaseMs: MINUTE });
        expect(claimed.map((o) => o.key)).toEqual(['a', 'b']);
        expect(await store.claimOutbox({ now: T0 + MINUTE - 1, limit: 10 })).toEqual([]);
        await store.completeOutbox([must(must(claimed[0]).seq)]);
        const again = await store.claimOutbox({ now: T0 + MINUTE, limit: 10 });
        expect(again.map((o) => o.key)).toEqual(['b']);
      });

      it('retries a failed entry at retryAt and gives up on it when retryAt is null', async () => {
        await seedOutbox([outboxEntry({ key: 'a' })]);
        const [entry] = await store.claimOutbox({ now: T0, limit: 10 });
        await store.failOutbox(must(must(entry).seq), 'HTTP 503', T0 + 5 * MINUTE);
        expect(await store.claimOutbox({ now: T0 + 5 * MINUTE - 1, limit: 10 })).toEqual([]);
        const [retry] = await store.claimOutbox({ now: T0 + 5 * MINUTE, limit: 10 });
        expect(retry).toMatchObject({ key: 'a', attempts: 1, status: 'pending' });
        await store.failOutbox(must(must(retry).seq), 'HTTP 400', null);
        expect(await store.claimOutbox({ now: T0 + 100 * MINUTE, limit: 10 })).toEqual([]);
      });

      it('says when the earliest pending entry becomes available', async () => {
        expect(await store.nextOutboxAvailableAt()).toBeNull();
        await seedOutbox([
          outboxEntry({ key: 'later', availableAt: T0 + 8 * MINUTE }),
          outboxEntry({ key: 'sooner', availableAt: T0 + 3 * MINUTE }),
        ]);
        expect(await store.nextOutboxAvailableAt()).toBe(T0 + 3 * MINUTE);
        const [sooner] = await store.claimOutbox({ now: T0 + 3 * MINUTE, limit: 1 });
        await store.completeOutbox([must(must(sooner).seq)]);
        expect(await store.nextOutboxAvailableAt()).toBe(T0 + 8 * MINUTE);
      });

      it('records delivery outcomes, their journey events and the finished entries together', async () => {
        await processWith('c1', {
          messages: [message({ id: 'm1' }), message({ id: 'm2' }), message({ id: 'm3' })],
          outbox: [
            outboxEntry({ key: 'send:m1', kind: 'message', lane: 'email', payload: { n: 1 } }),
            outboxEntry({ key: 'send:m2', kind: 'message', lane: 'email', payload: { n: 2 } }),
          ],
        });
        const claimed = await store.claimOutbox({ now: T0, limit: 10, lanes: ['email'] });
        expect(claimed.map((o) => [o.key, o.lane])).toEqual([
          ['send:m1', 'email'],
          ['send:m2', 'email'],
        ]);
        const update = (messageId: string, status: MessageStatus, at: number) => ({
          messageId,
          status,
          at,
          error: status === 'failed' ? 'bounced' : null,
          attempts: 1,
          provider: 'sendgrid',
          providerMessageId: status === 'sent' ? `sg-${messageId}` : null,
        });
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          messages: [
            update('m1', 'sent', T0 + 10),
            update('m2', 'failed', T0 + 11),
            update('m3', 'deferred', T0 + 12),
            update('unknown', 'sent', T0 + 13),
          ],
          journeyEvents: [journeyEvent({ type: 'message.sent', data: { message_id: 'm1' } })],
          completed: claimed.map((o) => must(o.seq)),
        });
        const byId = new Map((await store.listMessages({ limit: 10 })).items.map((m) => [m.id, m]));
        expect(byId.get('m1')).toMatchObject({
          status: 'sent',
          sentAt: T0 + 10,
          updatedAt: T0 + 10,
          attempts: 1,
          provider: 'sendgrid',
          providerMessageId: 'sg-m1',
        });
        expect(byId.get('m2')).toMatchObject({
          status: 'failed',
          sentAt: T0 + 11,
          error: 'bounced',
          providerMessageId: null,
        });
        expect(byId.get('m3')).toMatchObject({ status: 'deferred', sentAt: null });
        const events = (await store.listJourneyEvents({ type: 'message.sent', limit: 10 })).items;
        expect(events.map((e) => e.data)).toEqual([{ message_id: 'm1' }]);
        expect(await store.claimOutbox({ now: T0 + 100 * MINUTE, limit: 10 })).toEqual([]);

        // A later outcome keeps the first attempt's sent_at and the provider's id.
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          messages: [{ ...update('m1', 'delivered', T0 + 20), providerMessageId: null }],
        });
        expect((await store.listMessages({ status: 'delivered', limit: 10 })).items).toMatchObject([
          { id: 'm1', sentAt: T0 + 10, updatedAt: T0 + 20, providerMessageId: 'sg-m1' },
        ]);
      });

      it('claims by lane, so one channel never waits behind another', async () => {
        await processWith('c1', {
          outbox: [
            outboxEntry({ key: 'e1', kind: 'message', lane: 'email' }),
            outboxEntry({ key: 's1', kind: 'message', lane: 'sms' }),
            outboxEntry({ key: 'w1', kind: 'webhook' }),
            outboxEntry({ key: 'e2', kind: 'message', lane: 'email' }),
          ],
        });
        const sms = await store.claimOutbox({ now: T0, limit: 10, lanes: ['sms'] });
        expect(sms.map((o) => o.key)).toEqual(['s1']);
        const others = await store.claimOutbox({ now: T0, limit: 10, kinds: ['webhook'] });
        expect(others.map((o) => [o.key, o.lane])).toEqual([['w1', null]]);
        const email = await store.claimOutbox({ now: T0, limit: 1, lanes: ['email', 'push'] });
        expect(email.map((o) => o.key)).toEqual(['e1']);
      });

      it('reschedules an entry with a new payload, counting the attempt', async () => {
        await processWith('c1', {
          outbox: [
            outboxEntry({ key: 'p1', kind: 'message', lane: 'push', payload: { to: ['a', 'b'] } }),
          ],
        });
        const [entry] = await store.claimOutbox({ now: T0, limit: 1, lanes: ['push'] });
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          retries: [
            {
              seq: must(must(entry).seq),
              at: T0 + MINUTE,
              error: 'b: 503',
              payload: { to: ['b'] },
              attempted: true,
            },
          ],
        });
        expect(
          await store.claimOutbox({ now: T0 + MINUTE - 1, limit: 1, lanes: ['push'] }),
        ).toEqual([]);
        const [again] = await store.claimOutbox({ now: T0 + MINUTE, limit: 1, lanes: ['push'] });
        expect(again).toMatchObject({ key: 'p1', attempts: 1, payload: { to: ['b'] } });
        // Without a payload the entry keeps its own.
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          retries: [
            {
              seq: must(must(again).seq),
              at: T0 + 2 * MINUTE,
              error: 'x',
              payload: null,
              attempted: true,
            },
          ],
        });
        const [third] = await store.claimOutbox({ now: T0 + 2 * MINUTE, limit: 1 });
        expect(third).toMatchObject({ attempts: 2, payload: { to: ['b'] } });
        // Held back without reaching a provider (an open circuit, a throughput cap): no attempt.
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          retries: [
            {
              seq: must(must(third).seq),
              at: T0 + 3 * MINUTE,
              error: 'throttled',
              payload: null,
              attempted: false,
            },
          ],
        });
        const [fourth] = await store.claimOutbox({ now: T0 + 3 * MINUTE, limit: 1 });
        expect(fourth).toMatchObject({ attempts: 2 });
      });

      it('takes tokens from every bucket at once, refilling continuously up to capacity', async () => {
        const minute = { name: 'email:per_minute', capacity: 60, windowMs: MINUTE };
        const hour = { name: 'email:per_hour', capacity: 100, windowMs: HOUR };
        // New buckets start full; the grant is what the emptiest allows.
        expect(await store.takeTokens([minute, hour], 50, T0)).toBe(50);
        expect(await store.takeTokens([minute, hour], 50, T0)).toBe(10);
        expect(await store.takeTokens([minute, hour], 5, T0)).toBe(0);
        // 30 s later the minute bucket has 30 again; the hour bucket has 40 + a little.
        expect(await store.takeTokens([minute, hour], 100, T0 + 30_000)).toBe(30);
        // A full minute later, the hour bucket is what holds it back.
        expect(await store.takeTokens([minute, hour], 100, T0 + 90_000)).toBe(12);
        // Capacity bounds the refill.
        expect(await store.takeTokens([minute], 1000, T0 + 10 * HOUR)).toBe(60);
        // A clock that goes backwards refills nothing.
        expect(await store.takeTokens([minute], 1, T0)).toBe(0);
      });

      it('appends command events with the outcomes, once per idempotency key', async () => {
        const command: NewEvent = {
          type: 'waymark.message_fallback',
          customerId: 'c7',
          occurredAt: T0,
          idempotencyKey: 'fallback:m1',
          payload: { message_id: 'm1' },
        };
        await store.recordDeliveryOutcomes({ ...emptyDeliveryOutcomes(), commands: [command] });
        await store.recordDeliveryOutcomes({ ...emptyDeliveryOutcomes(), commands: [command] });
        const batch = await store.claimWork(claimOptions({ now: T0 + 1 }));
        expect(batch?.customers.map((c) => [c.customerId, c.events.map((e) => e.type)])).toEqual([
          ['c7', ['waymark.message_fallback']],
        ]);
      });
    });

    describe('contact ledger', () => {
      /** Messages of c1 around the window that starts at T0 + 10 minutes. */
      async function history(): Promise<void> {
        await processWith('c1', {
          messages: [
            message({ id: 'old', sendAt: T0, status: 'sent' }),
            message({ id: 'sms', channel: 'sms', sendAt: T0 + 20 * MINUTE, status: 'delivered' }),
            message({ id: 'mail', sendAt: T0 + 15 * MINUTE, status: 'sent' }),
            message({ id: 'held', sendAt: T0 + 60 * MINUTE, status: 'deferred' }),
            message({ id: 'failed', sendAt: T0 + 30 * MINUTE, status: 'failed' }),
            message({ id: 'quiet', sendAt: T0 + 30 * MINUTE, status: 'suppressed' }),
            message({ id: 'other', customerId: 'c2', sendAt: T0 + 30 * MINUTE, status: 'sent' }),
          ],
        });
        // Engagement arrives as feedback, after the message was stored.
        await processWith('c1', {
          messageUpdates: [
            {
              messageId: 'mail',
              at: T0 + 16 * MINUTE,
              status: null,
              error: null,
              readAt: null,
              engagedAt: T0 + 16 * MINUTE,
            },
          ],
        });
      }
      const expected = [
        { channel: 'email', at: T0 + 15 * MINUTE, engaged: true },
        { channel: 'sms', at: T0 + 20 * MINUTE, engaged: false },
        { channel: 'email', at: T0 + 60 * MINUTE, engaged: false },
      ];

      it('lists the messages that reach the customer from an instant on, in send order', async () => {
        await history();
        expect(await store.listContacts('c1', T0 + 10 * MINUTE)).toEqual(expected);
        expect(await store.listContacts('c1', T0 + 61 * MINUTE)).toEqual([]);
        expect(await store.listContacts('nobody', T0)).toEqual([]);
      });

      it('is what a claim loads with contactsSince', async () => {
        await history();
        await store.appendEvents([newEvent('c1')], T0 + MINUTE);
        const batch = must(
          await store.claimWork(
            claimOptions({ now: T0 + MINUTE, contactsSince: T0 + 10 * MINUTE }),
          ),
        );
        const loaded = must(batch.customers.find((w) => w.customerId === 'c1')).contacts;
        expect([...loaded].sort((a, b) => a.at - b.at)).toEqual(expected);
      });
    });

    describe('messages after sending', () => {
      it("reads a message by id and by the provider's id", async () => {
        await processWith('c1', { messages: [message({ id: 'm1' }), message({ id: 'm2' })] });
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          messages: [
            {
              messageId: 'm2',
              status: 'sent',
              at: T0 + 1,
              error: null,
              attempts: 1,
              provider: 'twilio',
              providerMessageId: 'SM123',
            },
          ],
        });
        expect((await store.getMessage('m1'))?.id).toBe('m1');
        expect(await store.getMessage('nope')).toBeNull();
        expect((await store.findMessageByProviderId('SM123'))?.id).toBe('m2');
        expect(await store.findMessageByProviderId('SM999')).toBeNull();
      });

      it('applies feedback: a new status, and read and engaged stamps only the first time', async () => {
        await processWith('c1', { messages: [message({ id: 'm1', status: 'sent' })] });
        await processWith('c1', {
          messageUpdates: [
            {
              messageId: 'm1',
              at: T0 + 10,
              status: 'delivered',
              error: null,
              readAt: null,
              engagedAt: null,
            },
          ],
        });
        await processWith('c1', {
          messageUpdates: [
            {
              messageId: 'm1',
              at: T0 + 20,
              status: null,
              error: null,
              readAt: T0 + 20,
              engagedAt: T0 + 20,
            },
          ],
        });
        await processWith('c1', {
          messageUpdates: [
            {
              messageId: 'm1',
              at: T0 + 30,
              status: null,
              error: null,
              readAt: T0 + 30,
              engagedAt: T0 + 30,
            },
          ],
        });
        expect(await store.getMessage('m1')).toMatchObject({
          status: 'delivered',
          readAt: T0 + 20,
          engagedAt: T0 + 20,
          updatedAt: T0 + 30,
        });
      });

      it("lists a customer's in-app inbox newest first, without expired, undelivered or other channels", async () => {
        await processWith('c1', {
          messages: [
            message({ id: 'i1', channel: 'in_app', status: 'delivered', createdAt: T0 + 1 }),
            message({
              id: 'i2',
              channel: 'in_app',
              status: 'delivered',
              createdAt: T0 + 2,
              expiresAt: T0 + HOUR,
            }),
            message({ id: 'i3', channel: 'in_app', status: 'delivered', createdAt: T0 + 3 }),
            message({ id: 'i4', channel: 'in_app', status: 'queued', createdAt: T0 + 4 }),
            message({ id: 'e1', channel: 'email', status: 'sent', createdAt: T0 + 5 }),
            message({ id: 'x1', customerId: 'c2', channel: 'in_app', status: 'delivered' }),
          ],
        });
        const inbox = (filter: Partial<InboxFilter>) =>
          store.listInbox({
            customerId: 'c1',
            channels: ['in_app'],
            now: T0 + 2 * HOUR,
            limit: 10,
            ...filter,
          });
        expect((await inbox({})).items.map((m) => m.id)).toEqual(['i3', 'i1']);
        expect((await inbox({ now: T0 })).items.map((m) => m.id)).toEqual(['i3', 'i2', 'i1']);
        const first = await inbox({ now: T0, limit: 2 });
        expect(first.items.map((m) => m.id)).toEqual(['i3', 'i2']);
        const rest = await inbox({ now: T0, limit: 2, cursor: must(first.nextCursor) });
        expect(rest.items.map((m) => m.id)).toEqual(['i1']);
        await processWith('c1', {
          messageUpdates: [
            {
              messageId: 'i3',
              at: T0 + 9,
              status: null,
              error: null,
              readAt: T0 + 9,
              engagedAt: T0 + 9,
            },
          ],
        });
        expect((await inbox({ unreadOnly: true })).items.map((m) => m.id)).toEqual(['i1']);
      });

      it('closes an open task once, recording when and by whom', async () => {
        await processWith('c1', { tasks: [task({ id: 't1' }), task({ id: 't2' })] });
        expect(
          await store.closeTask('t1', { status: 'done', at: T0 + 5, by: 'csm@example.com' }),
        ).toMatchObject({
          id: 't1',
          status: 'done',
          completedAt: T0 + 5,
          completedBy: 'csm@example.com',
        });
        expect(
          await store.closeTask('t1', { status: 'cancelled', at: T0 + 6, by: null }),
        ).toBeNull();
        expect(await store.closeTask('nope', { status: 'done', at: T0, by: null })).toBeNull();
        expect((await store.getTask('t1'))?.status).toBe('done');
        expect((await store.getTask('t2'))?.status).toBe('open');
      });
    });

    describe('dead letters', () => {
      function deadLetter(overrides: Partial<DeadLetterRecord> & { id: string }): DeadLetterRecord {
        return {
          messageId: `msg-${overrides.id}`,
          customerId: 'c1',
          channel: 'email',
          originalMessage: { message: { id: `msg-${overrides.id}` } },
          failureReason: 'HTTP 503',
          category: 'system',
          attemptCount: 3,
          firstAttemptAt: T0,
          lastAttemptAt: T0 + 5 * MINUTE,
          status: 'pending_review',
          createdAt: T0 + 5 * MINUTE,
          updatedAt: T0 + 5 * MINUTE,
          retryMessageId: null,
          ...overrides,
        };
      }

      it('stores, pages, filters and reads dead letters; a second one for a message is ignored', async () => {
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          deadLetters: [
            deadLetter({ id: 'd1' }),
            deadLetter({ id: 'd2', customerId: 'c2', createdAt: T0 + 6 * MINUTE }),
            deadLetter({ id: 'd3', createdAt: T0 + 7 * MINUTE, status: 'abandoned' }),
          ],
        });
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          deadLetters: [deadLetter({ id: 'd9', messageId: 'msg-d1' })],
        });
        const first = await store.listDeadLetters({ limit: 2 });
        expect(first.items.map((d) => d.id)).toEqual(['d1', 'd2']);
        const rest = await store.listDeadLetters({ limit: 2, cursor: must(first.nextCursor) });
        expect(rest.items.map((d) => d.id)).toEqual(['d3']);
        expect(rest.nextCursor).toBeNull();
        const pending = await store.listDeadLetters({ limit: 10, status: 'pending_review' });
        expect(pending.items.map((d) => d.id)).toEqual(['d1', 'd2']);
        const ofC2 = await store.listDeadLetters({ limit: 10, customerId: 'c2' });
        expect(ofC2.items.map((d) => d.id)).toEqual(['d2']);
        expect(await store.getDeadLetter('d1')).toEqual(deadLetter({ id: 'd1' }));
        expect(await store.getDeadLetter('nope')).toBeNull();
      });

      it('moves a dead letter only from the allowed states, with its command in the same write', async () => {
        await store.recordDeliveryOutcomes({
          ...emptyDeliveryOutcomes(),
          deadLetters: [deadLetter({ id: 'd1' })],
        });
        const command: NewEvent = {
          type: 'waymark.dead_letter_retry',
          customerId: 'c1',
          occurredAt: T0 + HOUR,
          idempotencyKey: 'retry:d1:1',
          payload: { dead_letter_id: 'd1' },
        };
        const retried = await store.transitionDeadLetter('d1', {
          from: ['pending_review'],
          to: 'retrying',
          at: T0 + HOUR,
          command,
        });
        expect(retried).toMatchObject({ status: 'retrying', updatedAt: T0 + HOUR });
        // Not pending any more: a second retry changes nothing and appends nothing.
        expect(
          await store.transitionDeadLetter('d1', {
            from: ['pending_review'],
            to: 'retrying',
            at: T0 + 2 * HOUR,
            command: { ...command, idempotencyKey: 'retry:d1:2' },
          }),
        ).toBeNull();
        expect(
          await store.transitionDeadLetter('nope', {
            from: ['pending_review'],
            to: 'abandoned',
            at: T0,
          }),
        ).toBeNull();
        const batch = await store.claimWork(claimOptions({ now: T0 + 3 * HOUR }));
        expect(batch?.customers[0]?.events.map((e) => e.payload)).toEqual([
          { dead_letter_id: 'd1' },
        ]);
        const linked = await store.transitionDeadLetter('d1', {
          from: ['retrying'],
          to: 'retrying',
          at: T0 + 3 * HOUR,
          retryMessageId: 'msg-new',
        });
        expect(linked).toMatchObject({ status: 'retrying', retryMessageId: 'msg-new' });
      });
    });

    describe('journeys', () => {
      it('versions a definition only when its hash changes', async () => {
        const v1 = { stages: [{ id: 'welcome' }] };
        const v2 = { stages: [{ id: 'welcome' }, { id: 'activation' }] };
        expect(await store.saveJourneyVersion('onboarding', v1, 'h1', T0)).toEqual({
          version: 1,
          created: true,
        });
        expect(await store.saveJourneyVersion('onboarding', v1, 'h1', T0 + 1)).toEqual({
          version: 1,
          created: false,
        });
        expect(await store.saveJourneyVersion('onboarding', v2, 'h2', T0 + 2)).toEqual({
          version: 2,
          created: true,
        });
        // Going back to an old definition is a change too: versions only grow.
        expect(await store.saveJourneyVersion('onboarding', v1, 'h1', T0 + 3)).toEqual({
          version: 3,
          created: true,
        });
        expect(await store.getJourneyVersion('onboarding', 2)).toEqual({
          journeyId: 'onboarding',
          version: 2,
          hash: 'h2',
          definition: v2,
          createdAt: T0 + 2,
        });
        expect(await store.getJourneyVersion('onboarding', 9)).toBeNull();
        expect((await store.listJourneyVersions('onboarding')).map((v) => v.hash)).toEqual([
          'h1',
          'h2',
          'h1',
        ]);
        expect(await store.getJourneyState('onboarding')).toEqual({
          journeyId: 'onboarding',
          currentVersion: 3,
          status: 'active',
          updatedAt: T0 + 3,
        });
      });

      it('pauses and resumes a journey, and refuses an unknown one', async () => {
        await store.saveJourneyVersion('renewal', {}, 'h', T0);
        await store.saveJourneyVersion('onboarding', {}, 'h', T0);
        await store.setJourneyStatus('renewal', 'paused', T0 + 1);
        expect(await store.getJourneyState('renewal')).toMatchObject({
          status: 'paused',
          updatedAt: T0 + 1,
        });
        // A new version does not resume a paused journey.
        await store.saveJourneyVersion('renewal', { changed: true }, 'h2', T0 + 2);
        expect((await store.listJourneyStates()).map((s) => [s.journeyId, s.status])).toEqual([
          ['onboarding', 'active'],
          ['renewal', 'paused'],
        ]);
        await store.setJourneyStatus('renewal', 'active', T0 + 3);
        expect((await store.getJourneyState('renewal'))?.status).toBe('active');
        await expect(store.setJourneyStatus('nope', 'paused', T0)).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
        expect(await store.getJourneyState('nope')).toBeNull();
      });

      it('counts enrollments per journey, status and active stage', async () => {
        await store.saveJourneyVersion('quiet', {}, 'h', T0);
        await processWith('c1', {
          enrollmentUpserts: [
            enrollment({ id: 'e1', journeyId: 'onboarding', stage: 'welcome' }),
            enrollment({ id: 'e2', journeyId: 'onboarding', stage: 'welcome', customerId: 'c2' }),
            enrollment({
              id: 'e3',
              journeyId: 'onboarding',
              stage: 'activation',
              customerId: 'c3',
            }),
            enrollment({ id: 'e4', journeyId: 'onboarding', status: 'completed', stage: 'done' }),
            enrollment({ id: 'e5', journeyId: 'renewal', status: 'exited', endedAt: T0 }),
          ],
        });
        expect(await store.journeyCounts()).toEqual([
          {
            journeyId: 'onboarding',
            byStatus: { active: 3, completed: 1, exited: 0 },
            activeByStage: { welcome: 2, activation: 1 },
          },
          {
            journeyId: 'quiet',
            byStatus: { active: 0, completed: 0, exited: 0 },
            activeByStage: {},
          },
          {
            journeyId: 'renewal',
            byStatus: { active: 0, completed: 0, exited: 1 },
            activeByStage: {},
          },
        ]);
      });
    });

    describe('reads', () => {
      it('pages enrollments by enrollment time with filters', async () => {
        const records = Array.from({ length: 7 }, (_, i) =>
          enrollment({
            id: `en${i}`,
            customerId: i % 2 === 0 ? 'c1' : 'c2',
            journeyId: i < 5 ? 'onboarding' : 'renewal',
            status: i === 3 ? 'exited' : 'active',
            enrolledAt: T0 + (i % 3),
          }),
        );
        await processWith('c1', { enrollmentUpserts: records });
        const expected = [...records]
          .sort((a, b) => a.enrolledAt - b.enrolledAt || (a.id < b.id ? -1 : 1))
          .map((e) => e.id);
        const all = await collectPages(3, (cursor) => store.listEnrollments({ limit: 3, cursor }));
        expect(all.map((e) => e.id)).toEqual(expected);
        const filtered = await collectPages(1, (cursor) =>
          store.listEnrollments({ limit: 1, cursor, journeyId: 'onboarding', customerId: 'c2' }),
        );
        expect(filtered.map((e) => e.id).sort()).toEqual(['en1', 'en3']);
        const active = await store.listEnrollments({
          limit: 10,
          customerId: 'c2',
          status: 'active',
        });
        expect(active.items.map((e) => e.id).sort()).toEqual(['en1', 'en5']);
        expect(active.nextCursor).toBeNull();
      });

      it('pages messages by creation time with filters', async () => {
        const records = Array.from({ length: 6 }, (_, i) =>
          message({
            id: `m${i}`,
            customerId: i < 3 ? 'c1' : 'c2',
            channel: i % 2 === 0 ? 'email' : 'sms',
            createdAt: T0 + 10 - i,
          }),
        );
        await processWith('c1', { messages: records });
        const all = await collectPages(4, (cursor) => store.listMessages({ limit: 4, cursor }));
        expect(all.map((m) => m.id)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1', 'm0']);
        const sms = await collectPages(1, (cursor) =>
          store.listMessages({ limit: 1, cursor, channel: 'sms', customerId: 'c2' }),
        );
        expect(sms.map((m) => m.id)).toEqual(['m5', 'm3']);
        const byJourney = await store.listMessages({
          limit: 10,
          journeyId: 'onboarding',
          status: 'queued',
        });
        expect(byJourney.items).toHaveLength(6);
      });

      it('pages journey events in recorded order with filters', async () => {
        const types = ['journey.enrolled', 'message.sent', 'journey.stage_changed', 'message.sent'];
        await processWith('c1', {
          journeyEvents: types.map((type, i) =>
            journeyEvent({ type, customerId: i === 3 ? 'c2' : 'c1', data: { i } }),
          ),
        });
        const all = await collectPages(3, (cursor) =>
          store.listJourneyEvents({ limit: 3, cursor }),
        );
        expect(all.map((e) => e.data)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
        const sent = await collectPages(1, (cursor) =>
          store.listJourneyEvents({
            limit: 1,
            cursor,
            type: 'message.sent',
            journeyId: 'onboarding',
          }),
        );
        expect(sent.map((e) => e.data)).toEqual([{ i: 1 }, { i: 3 }]);
        const c2 = await store.listJourneyEvents({ limit: 10, customerId: 'c2' });
        expect(c2.items.map((e) => e.data)).toEqual([{ i: 3 }]);
      });

      it('lists decisions, tasks, alerts and trigger executions newest first', async () => {
        await processWith('c1', {
          decisions: [
            decision({ id: 'd1', at: T0 }),
            decision({ id: 'd2', at: T0 + 1 }),
            decision({ id: 'dx', customerId: 'c2' }),
          ],
          tasks: [
            task({ id: 't1', createdAt: T0 }),
            task({ id: 't2', createdAt: T0 + 1, status: 'done' }),
            task({ id: 't3', createdAt: T0 + 2, customerId: 'c2' }),
          ],
          alerts: [
            alert({ id: 'a1', createdAt: T0 }),
            alert({ id: 'a2', createdAt: T0 + 1, status: 'acknowledged' }),
          ],
          triggerExecutions: [1, 2, 3].map((i) => ({
            triggerName: i === 3 ? 'other' : 'signup',
            customerId: 'c1',
            eventSeq: null,
            executedAt: T0 + i,
            processingTimeMs: i,
            fired: i % 2 === 0,
          })),
        });
        expect(
          (await store.listDecisions({ customerId: 'c1', limit: 10 })).map((d) => d.id),
        ).toEqual(['d2', 'd1']);
        expect(
          (await store.listDecisions({ customerId: 'c1', limit: 1 })).map((d) => d.id),
        ).toEqual(['d2']);
        expect((await store.listTasks({ limit: 10 })).map((t) => t.id)).toEqual(['t3', 't2', 't1']);
        expect(
          (await store.listTasks({ customerId: 'c1', status: 'open', limit: 10 })).map((t) => t.id),
        ).toEqual(['t1']);
        expect((await store.listAlerts({ limit: 10 })).map((a) => a.id)).toEqual(['a2', 'a1']);
        expect((await store.listAlerts({ status: 'open', limit: 10 })).map((a) => a.id)).toEqual([
          'a1',
        ]);
        expect((await store.listTriggerExecutions({ limit: 2 })).map((x) => x.executedAt)).toEqual([
          T0 + 3,
          T0 + 2,
        ]);
        expect(
          (await store.listTriggerExecutions({ triggerName: 'signup', limit: 10 })).map(
            (x) => x.fired,
          ),
        ).toEqual([true, false]);
      });

      it('prunes trigger executions before an instant, oldest first, at most the limit', async () => {
        await processWith('c1', {
          triggerExecutions: [1, 2, 3, 4, 5].map((i) => ({
            triggerName: 'signup',
            customerId: 'c1',
            eventSeq: null,
            executedAt: T0 + i * MINUTE,
            processingTimeMs: 0,
            fired: false,
          })),
        });
        expect(await store.pruneTriggerExecutions(T0 + 4 * MINUTE, 2)).toBe(2);
        expect(await store.pruneTriggerExecutions(T0 + 4 * MINUTE, 2)).toBe(1);
        expect(await store.pruneTriggerExecutions(T0 + 4 * MINUTE, 2)).toBe(0);
        expect((await store.listTriggerExecutions({ limit: 10 })).map((x) => x.executedAt)).toEqual(
          [T0 + 5 * MINUTE, T0 + 4 * MINUTE],
        );
      });

      it('counts rule fires per rule for one customer since an instant, inclusive', async () => {
        await processWith('c1', {
          ruleFires: [
            { ruleId: 'r1', customerId: 'c1', firedAt: T0 - 1 },
            { ruleId: 'r1', customerId: 'c1', firedAt: T0 },
            { ruleId: 'r1', customerId: 'c1', firedAt: T0 + 5 },
            { ruleId: 'r2', customerId: 'c1', firedAt: T0 + 5 },
            { ruleId: 'r1', customerId: 'c2', firedAt: T0 + 5 },
          ],
        });
        expect(await store.countRuleFires('c1', T0)).toEqual({ r1: 2, r2: 1 });
        expect(await store.countRuleFires('c1', T0 + 6)).toEqual({});
        expect(await store.countRuleFires('c2', 0)).toEqual({ r1: 1 });
      });

      it('returns null for unknown records', async () => {
        expect(await store.getEvent('nope')).toBeNull();
        expect(await store.getEnrollment('nope')).toBeNull();
        expect(await store.listJourneyVersions('nope')).toEqual([]);
        expect(await store.journeyCounts()).toEqual([]);
        expect(await store.nextTimerDueAt()).toBeNull();
      });
    });

    describe('durability', () => {
      const reopen = options.reopen;
      it.skipIf(reopen === undefined)('finds everything again after reopening', async () => {
        await processWith('c1', {
          customerUpserts: [customer('c1', { arr: 1 })],
          enrollmentUpserts: [enrollment({ id: 'en1' })],
          timersToAdd: [timer({ id: 't1', dueAt: T0 + MINUTE })],
          messages: [message({ id: 'm1' })],
          journeyEvents: [journeyEvent()],
          outbox: [outboxEntry({ key: 'o1' })],
        });
        await store.saveJourneyVersion('onboarding', { stages: [] }, 'h1', T0);
        await store.setJourneyStatus('onboarding', 'paused', T0);
        const [kept] = await store.appendEvents(
          [newEvent(UNICODE_ID, { idempotencyKey: 'k1', payload: { plan: 'pro' } })],
          T0,
        );

        store = await must(reopen)(store);
        await store.migrate();

        expect(await store.getEvent(must(kept).id)).toMatchObject({
          payload: { plan: 'pro' },
          status: 'pending',
        });
        const [dup] = await store.appendEvents(
          [newEvent(UNICODE_ID, { idempotencyKey: 'k1' })],
          T0 + 1,
        );
        expect(dup).toEqual({ status: 'duplicate', id: must(kept).id, seq: must(kept).seq });
        expect((await store.getCustomer('c1'))?.attributes).toEqual({ arr: 1 });
        expect(await store.getEnrollment('en1')).toEqual(enrollment({ id: 'en1' }));
        expect(await store.nextTimerDueAt()).toBe(T0 + MINUTE);
        expect((await store.listMessages({ limit: 10 })).items.map((m) => m.id)).toEqual(['m1']);
        expect((await store.listJourneyEvents({ limit: 10 })).items).toHaveLength(1);
        expect((await store.claimOutbox({ now: T0, limit: 10 })).map((o) => o.key)).toEqual(['o1']);
        expect(await store.getJourneyState('onboarding')).toMatchObject({
          currentVersion: 1,
          status: 'paused',
        });
        const batch = await store.claimWork(claimOptions({ now: T0 + MINUTE }));
        expect(batch?.customers.map((w) => w.customerId).sort()).toEqual(['c1', UNICODE_ID].sort());
      });
    });
  });
}
