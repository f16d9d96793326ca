import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sequentialIds } from '../core/index.js';
import {
  compileJourney,
  enroll,
  JourneyScenario,
  readRuntimeState,
  SPLIT_HOLDOUT,
} from './index.js';
import { assignVariant } from './steps.js';

const START = Date.parse('2026-01-05T15:00:00Z');
const DAY = 86_400_000;

const journey = compileJourney(
  {
    id: 'experiment',
    stages: [
      {
        id: 'assign',
        steps: [
          {
            id: 'ab',
            type: 'split',
            holdout: 0.1,
            variants: [
              { name: 'a', weight: 60, next: 'path_a' },
              { name: 'b', weight: 30, next: 'path_b' },
              { name: 'c', weight: 10 },
            ],
          },
          { id: 'after_split', type: 'wait', duration: { ms: DAY } },
        ],
      },
      { id: 'path_a', steps: [{ type: 'wait', duration: { ms: DAY } }] },
      { id: 'path_b', steps: [{ type: 'wait', duration: { ms: DAY } }] },
    ],
  },
  1,
);

function variantOf(customerId: string, enrollmentId: string, seed = 'seed'): string | undefined {
  const result = enroll(
    journey,
    { id: customerId, attributes: {} },
    { now: START, ids: sequentialIds(), seed, enrollmentId, trigger: { source: 'test' } },
  );
  if (result.decision !== 'enrolled') return undefined;
  return readRuntimeState(result.enrollment.state).splits['ab'];
}

describe('split', () => {
  it('is deterministic per (seed, enrollment, step) and keeps the choice in state', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (customer, enrollment) => {
          expect(variantOf(customer, enrollment)).toBe(variantOf(customer, enrollment));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('routes each variant to its next, the holdout and a variant without next to the following step', () => {
    const stageByVariant = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const result = enroll(
        journey,
        { id: `cus_${i}`, attributes: {} },
        {
          now: START,
          ids: sequentialIds(),
          seed: 'seed',
          enrollmentId: `enr_${i}`,
          trigger: { source: 'test' },
        },
      );
      if (result.decision !== 'enrolled') throw new Error('not enrolled');
      const variant = readRuntimeState(result.enrollment.state).splits['ab'] ?? '';
      stageByVariant.set(variant, `${result.enrollment.stage}/${result.enrollment.stepId}`);
      const completed = result.effects.find(
        (e) =>
          e.type === 'journey_event' &&
          e.event.type === 'step.completed' &&
          e.event.data['step_id'] === 'ab',
      );
      expect(completed?.type === 'journey_event' && completed.event.data).toMatchObject({
        step_type: 'split',
        variant,
      });
    }
    expect(Object.fromEntries(stageByVariant)).toEqual({
      a: 'path_a/path_a.0',
      b: 'path_b/path_b.0',
      c: 'assign/after_split',
      [SPLIT_HOLDOUT]: 'assign/after_split',
    });
  });

  it('distributes 10,000 enrollments by weight within tolerance', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const variant = variantOf(`cus_${i}`, `enr_${i}`) ?? 'none';
      counts.set(variant, (counts.get(variant) ?? 0) + 1);
    }
    // Expected shares: holdout 10%, then 90% split 60/30/10 → 54%, 27%, 9%.
    const expected = { holdout: 1000, a: 5400, b: 2700, c: 900 };
    for (const [variant, share] of Object.entries(expected)) {
      const sd = Math.sqrt(10_000 * (share / 10_000) * (1 - share / 10_000));
      expect(Math.abs((counts.get(variant) ?? 0) - share)).toBeLessThan(5 * sd);
    }
    expect(counts.get('none')).toBeUndefined();
  });

  it('a different seed reshuffles the assignment', () => {
    let differ = 0;
    for (let i = 0; i < 200; i++) {
      if (variantOf(`cus_${i}`, `enr_${i}`, 'one') !== variantOf(`cus_${i}`, `enr_${i}`, 'two'))
        differ += 1;
    }
    expect(differ).toBeGreaterThan(50);
  });

  it('assignVariant maps the unit interval onto holdout then weights in order', () => {
    const step = journey.steps.get('ab');
    if (step?.type !== 'split') throw new Error('expected a split');
    expect(assignVariant(step, 0)).toBe(SPLIT_HOLDOUT);
    expect(assignVariant(step, 0.0999)).toBe(SPLIT_HOLDOUT);
    expect(assignVariant(step, 0.1)).toBe('a');
    expect(assignVariant(step, 0.1 + 0.9 * 0.5999)).toBe('a');
    expect(assignVariant(step, 0.1 + 0.9 * 0.6001)).toBe('b');
    expect(assignVariant(step, 0.1 + 0.9 * 0.9001)).toBe('c');
    expect(assignVariant(step, 0.999999999)).toBe('c');
  });

  it('a loop back through the split keeps the variant', () => {
    const looping = compileJourney(
      {
        id: 'loop',
        stages: [
          {
            id: 's',
            steps: [
              {
                id: 'pick',
                type: 'split',
                variants: [
                  { name: 'x', weight: 1 },
                  { name: 'y', weight: 1 },
                ],
              },
              { type: 'wait', duration: { ms: DAY } },
              { type: 'goto', stage: 's' },
            ],
          },
        ],
      },
      1,
    );
    const s = new JourneyScenario(looping, { id: 'cus_1', attributes: {} }, { start: START });
    s.enroll();
    s.wait(10 * DAY);
    const variants = s.journeyEvents
      .filter((e) => e.type === 'step.completed' && e.data['step_id'] === 'pick')
      .map((e) => e.data['variant']);
    expect(variants).toHaveLength(11);
    expect(new Set(variants).size).toBe(1);
  });
});
