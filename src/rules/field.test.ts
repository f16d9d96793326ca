import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainConditions, type ConditionContext } from '../conditions/index.js';
import { fieldReader } from './field.js';

describe('fieldReader', () => {
  it('reads like conditions do: customer by default, event.properties fallback, null when absent', () => {
    const context: ConditionContext = {
      customer: { timezone: 'Asia/Tokyo', nested: { zone: 'UTC' }, gone: null },
      event: { type: 'x', properties: { tz: 'Europe/Paris' } },
    };
    expect(fieldReader('timezone')(context)).toBe('Asia/Tokyo');
    expect(fieldReader('customer.nested.zone')(context)).toBe('UTC');
    expect(fieldReader('event.tz')(context)).toBe('Europe/Paris');
    expect(fieldReader('customer.gone')(context)).toBeNull();
    expect(fieldReader('customer.toString')(context)).toBeNull();
    expect(fieldReader('journey.stage')(context)).toBeNull();
  });

  it('agrees with the value condition explanations report, for any context (property)', () => {
    const segment = fc.constantFrom('a', 'b', 'properties', 'toString', 'length', '0');
    const path = fc
      .tuple(
        fc.constantFrom('customer', 'event', 'journey', 'a', 'b'),
        fc.array(segment, { maxLength: 2 }),
      )
      .map(([head, rest]) => [head, ...rest].join('.'));
    const value = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, undefined, 1, 'x', true, () => 1),
        fc.dictionary(segment, tie('node'), { maxKeys: 3 }),
        fc.array(tie('node'), { maxLength: 2 }),
      ),
    })).node;
    const context = fc.record(
      { customer: value, event: value, journey: value },
      { requiredKeys: [] },
    ) as fc.Arbitrary<ConditionContext>;
    fc.assert(
      fc.property(path, context, (field, ctx) => {
        const [leaf] = explainConditions(
          { logic: 'AND', conditions: [{ field, operator: 'exists' }] },
          ctx,
        ).children;
        expect(fieldReader(field)(ctx)).toEqual(
          leaf !== undefined && 'actual' in leaf ? leaf.actual : undefined,
        );
      }),
      { numRuns: 500 },
    );
  });
});
