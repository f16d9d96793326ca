/**
 * Models trained on the engine's own customers: `models.<name>.train` on a schedule (each run
 * registers a new version, scored with at once) and on demand.
 */
import { describe, expect, it } from 'vitest';

import { loadConfigFromString } from '../config/index.js';
import { InvalidInputError, NotFoundError, VirtualClock, type JsonObject } from '../core/index.js';
import { openStore } from '../store/index.js';
import { Engine } from './engine.js';

/** Saturday 7 March 2026, 12:00 UTC. */
const SATURDAY = Date.parse('2026-03-07T12:00:00Z');

const CONFIG = loadConfigFromString(
  `
models:
  churn_predictor_v2:
    description: Churn of team accounts
    train:
      label: churned
      exclude: [churned_at]
      schedule: "0 3 * * 0" # Sundays 03:00
      min_rows: 50
predictions:
  churn_risk: { model: churn_predictor_v2, threshold: 0.7, action: escalate_to_csm }
`,
  'training.yaml',
);

/** Accounts whose churn follows their contract and tenure; a third are still undecided. */
function accounts(count: number): { id: string; properties: JsonObject }[] {
  let state = 3;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: count }, (_, i) => {
    const monthly = random() < 0.5;
    const tenure = Math.floor(random() * 60);
    const churned = random() < 1 / (1 + Math.exp(-((monthly ? 1.5 : -2) - tenure / 12)));
    const decided = i % 3 !== 0;
    return {
      id: `acct${i}`,
      properties: {
        tenure,
        contract: monthly ? 'monthly' : 'annual',
        email: `owner${i}@example.test`,
        ...(decided ? { churned, ...(churned ? { churned_at: '2026-02-01' } : {}) } : {}),
      },
    };
  });
}

async function openEngine(count: number): Promise<{ engine: Engine; clock: VirtualClock }> {
  const clock = new VirtualClock(SATURDAY);
  const engine = await Engine.open({
    config: CONFIG,
    store: await openStore({ file: ':memory:' }),
    clock,
  });
  await engine.ingest(
    accounts(count).map((a) => ({
      type: 'customer.created',
      customerId: a.id,
      occurredAt: clock.now(),
      payload: { properties: a.properties },
    })),
  );
  await engine.runUntilIdle();
  return { engine, clock };
}

describe('models trained on the engine’s customers', () => {
  it('trains on its schedule, registers a version, and scores with it at once', async () => {
    const { engine, clock } = await openEngine(450);
    expect(await engine.store.listModels({})).toEqual([]);

    // Sunday 03:00 comes: the scheduled training runs in the next pass.
    clock.set(Date.parse('2026-03-08T03:00:30Z'));
    await engine.runUntilIdle();
    const [model] = await engine.store.listModels({});
    expect(model).toMatchObject({
      name: 'churn_predictor_v2',
      version: 1,
      kind: 'churn',
      source: 'scheduled training on 300 customers',
    });
    const body = model?.body as { columns: { column: string }[]; label: unknown };
    // Undecided customers are left out; the label's own outcome field and identifiers are not inputs.
    expect(body.label).toEqual({ column: 'churned', positive: 'Yes' });
    expect(body.columns.map((c) => c.column)).toEqual([
      'customer_id',
      'contract',
      'email',
      'tenure',
      'churned',
    ]);
    const metrics = model?.metrics as { rocAuc: { mean: number } };
    expect(metrics.rocAuc.mean).toBeGreaterThan(0.7);
    expect(engine.predictionModels.versions).toEqual(['churn_predictor_v2@1']);

    // Scored with at once: a new monthly account crosses the threshold.
    await engine.ingest([
      {
        type: 'customer.created',
        customerId: 'fresh',
        occurredAt: clock.now(),
        payload: { properties: { tenure: 0, contract: 'monthly' } },
      },
    ]);
    await engine.runUntilIdle();
    const [prediction] = await engine.store.listDecisions({
      customerId: 'fresh',
      kind: 'prediction',
      limit: 1,
    });
    expect(prediction?.explanation['model']).toBe('churn_predictor_v2@1');

    // Not again until next Sunday.
    clock.set(Date.parse('2026-03-14T12:00:00Z'));
    await engine.runUntilIdle();
    expect(await engine.store.listModels({})).toHaveLength(1);
    clock.set(Date.parse('2026-03-15T03:01:00Z'));
    await engine.runUntilIdle();
    expect((await engine.store.listModels({})).map((m) => m.version)).toEqual([2, 1]);
    expect(engine.predictionModels.versions).toEqual(['churn_predictor_v2@2']);
    await engine.close();
  });

  it('refuses to train on too few labelled customers, and registers nothing', async () => {
    const { engine } = await openEngine(60); // 40 labelled, min_rows 50
    const failure = await engine.retrainModel('churn_predictor_v2').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InvalidInputError);
    expect(failure).toMatchObject({
      code: 'MODEL_TRAINING_DATA',
      message:
        "model 'churn_predictor_v2': 40 customers have 'churned' set; training needs at least 50 (min_rows)",
    });
    expect(await engine.store.listModels({})).toEqual([]);
    await expect(engine.retrainModel('nope')).rejects.toBeInstanceOf(NotFoundError);
    await engine.close();
  });
});
