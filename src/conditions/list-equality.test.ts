import { describe, expect, it } from 'vitest';
import { compileConditions } from './compile.js';
import { evaluateConditions } from './interpreter.js';
import type { ConditionContext, ConditionGroup } from './types.js';

function both(group: ConditionGroup, context: ConditionContext): boolean {
  const compiled = compileConditions(group)(context);
  expect(evaluateConditions(group, context)).toBe(compiled);
  return compiled;
}

const one = (operator: 'eq' | 'ne', value: unknown): ConditionGroup => ({
  logic: 'AND',
  conditions: [{ field: 'customer.journey_active', operator, value }],
});

describe('eq on a list field', () => {
  it("matches the guide's journey_active exception when the journey is one of several", () => {
    const customer = { journey_active: ['onboarding_v2', 'risk_mitigation'] };
    expect(both(one('eq', 'risk_mitigation'), { customer })).toBe(true);
    expect(both(one('ne', 'risk_mitigation'), { customer })).toBe(false);
    expect(both(one('eq', 'expansion'), { customer })).toBe(false);
    expect(both(one('ne', 'expansion'), { customer })).toBe(true);
  });

  it('an empty list equals no single value', () => {
    expect(both(one('eq', 'risk_mitigation'), { customer: { journey_active: [] } })).toBe(false);
  });

  it('keeps types strict inside the list', () => {
    expect(both(one('eq', 5), { customer: { journey_active: ['5'] } })).toBe(false);
    expect(both(one('eq', 5), { customer: { journey_active: [4, 5] } })).toBe(true);
    expect(both(one('eq', true), { customer: { journey_active: [false, true] } })).toBe(true);
  });

  it('compares a list value with a list field as whole lists', () => {
    expect(both(one('eq', ['a', 'b']), { customer: { journey_active: ['a', 'b'] } })).toBe(true);
    expect(both(one('eq', ['a']), { customer: { journey_active: ['a', 'b'] } })).toBe(false);
  });

  it('matches dates inside a list by instant', () => {
    const customer = { journey_active: ['2026-01-01T00:00:00Z'] };
    expect(both(one('eq', '2026-01-01'), { customer })).toBe(true);
  });

  it('null still means absent, not "contains null"', () => {
    expect(both(one('eq', null), { customer: { journey_active: [null] } })).toBe(false);
    expect(both(one('eq', null), { customer: {} })).toBe(true);
  });
});
