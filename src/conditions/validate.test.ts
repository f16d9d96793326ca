import { describe, expect, it } from 'vitest';
import {
  InvalidConditionsError,
  MAX_GROUP_DEPTH,
  compileConditions,
  evaluateConditions,
  formatProblemPath,
  validateConditions,
  type ConditionGroup,
} from './index.js';

function problemsOf(group: unknown): { where: string; message: string }[] {
  return validateConditions(group).map((p) => ({
    where: formatProblemPath(p.path),
    message: p.message,
  }));
}

describe('validateConditions', () => {
  it('accepts the specification examples', () => {
    const risk = {
      logic: 'AND',
      conditions: [
        { field: 'customer.health_score', operator: 'lt', value: 40 },
        { field: 'customer.arr', operator: 'gt', value: 10000 },
        {
          logic: 'OR',
          conditions: [{ field: 'customer.csm_engaged', operator: 'eq', value: true }],
        },
        { field: 'customer.first_login', operator: 'exists' },
      ],
    };
    expect(validateConditions(risk)).toEqual([]);
  });

  it('locates an unknown operator', () => {
    const problems = problemsOf({
      logic: 'AND',
      conditions: [
        { field: 'a', operator: 'eq', value: 1 },
        { field: 'b', operator: 'equals', value: 1 },
      ],
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.where).toBe('conditions[1].operator');
    expect(problems[0]?.message).toMatch(/unknown operator "equals".*eq, ne/);
  });

  it('requires a list for in and not_in', () => {
    for (const operator of ['in', 'not_in']) {
      const problems = problemsOf({
        logic: 'AND',
        conditions: [{ field: 'plan', operator, value: 'pro' }],
      });
      expect(problems).toEqual([
        { where: 'conditions[0].value', message: `'${operator}' needs a list value, got a string` },
      ]);
    }
  });

  it('requires a value except for exists and not_exists', () => {
    expect(problemsOf({ logic: 'AND', conditions: [{ field: 'a', operator: 'eq' }] })).toEqual([
      { where: 'conditions[0].value', message: "'eq' needs a value" },
    ]);
    expect(
      problemsOf({ logic: 'AND', conditions: [{ field: 'a', operator: 'not_exists' }] }),
    ).toEqual([]);
  });

  it('only orders numbers, dates and strings', () => {
    for (const value of [true, null, [1], { a: 1 }]) {
      const problems = problemsOf({
        logic: 'AND',
        conditions: [{ field: 'a', operator: 'gt', value }],
      });
      expect(problems[0]?.where).toBe('conditions[0].value');
      expect(problems[0]?.message).toMatch(/compares numbers, dates or strings/);
    }
    const ok = [5, 'b', '2024-01-01', new Date(0)].map((value) => ({
      field: 'a',
      operator: 'lte',
      value,
    }));
    expect(problemsOf({ logic: 'AND', conditions: ok })).toEqual([]);
  });

  it('rejects bad logic and a missing conditions list', () => {
    expect(problemsOf({ logic: 'and', conditions: [] })).toEqual([
      { where: 'logic', message: 'unknown logic "and"; use AND or OR' },
    ]);
    expect(problemsOf({ logic: 'OR' })).toEqual([
      { where: 'conditions', message: 'a group needs a list of conditions' },
    ]);
    expect(problemsOf('AND')[0]?.message).toMatch(/expected a condition group/);
  });

  it.each([
    ['customer..x', /segment 2 is empty/],
    ['.x', /segment 1 is empty/],
    ['x.', /segment 2 is empty/],
    ['', /empty/],
    ['customer.__proto__.x', /reserved/],
    ['constructor', /reserved/],
    ['customer.profile.prototype', /reserved/],
  ])('rejects the field path %j', (field, message) => {
    const problems = problemsOf({ logic: 'AND', conditions: [{ field, operator: 'exists' }] });
    expect(problems[0]?.where).toBe('conditions[0].field');
    expect(problems[0]?.message).toMatch(message);
  });

  it('accepts unusual but harmless path characters', () => {
    const fields = ['first name', 'a"b', "it's", 'x\\y', '\u2028', '0', 'tags.0', '$ref'];
    const conditions = fields.map((field) => ({ field, operator: 'exists' }));
    expect(problemsOf({ logic: 'AND', conditions })).toEqual([]);
  });

  it('rejects values that are not config data', () => {
    const values: unknown[] = [
      Number.NaN,
      () => 1,
      new Map(),
      [1, Symbol('s')],
      new Date(Number.NaN),
    ];
    for (const value of values) {
      const problems = problemsOf({
        logic: 'AND',
        conditions: [{ field: 'a', operator: 'eq', value }],
      });
      expect(problems.length).toBeGreaterThan(0);
    }
    const holey: unknown[] = [1];
    holey[2] = 3;
    const sparse = problemsOf({
      logic: 'AND',
      conditions: [{ field: 'a', operator: 'in', value: holey }],
    });
    expect(sparse).toEqual([
      { where: 'conditions[0].value[1]', message: 'a list may not have holes' },
    ]);
  });

  it('rejects an entry that is both a condition and a group, and nesting past the limit', () => {
    const both = problemsOf({
      logic: 'AND',
      conditions: [{ field: 'a', operator: 'exists', logic: 'AND', conditions: [] }],
    });
    expect(both[0]?.message).toMatch(/not both/);
    let deep: unknown = { logic: 'AND', conditions: [] };
    for (let i = 0; i <= MAX_GROUP_DEPTH; i++) deep = { logic: 'AND', conditions: [deep] };
    expect(problemsOf(deep)[0]?.message).toMatch(/deeper than/);
  });

  it('reports every problem, not just the first', () => {
    const problems = problemsOf({
      logic: 'XOR',
      conditions: [
        { field: 'a..b', operator: 'eq', value: 1 },
        { logic: 'OR', conditions: [{ field: 'c', operator: 'in', value: 3 }] },
      ],
    });
    expect(problems.map((p) => p.where)).toEqual([
      'logic',
      'conditions[0].field',
      'conditions[1].conditions[0].value',
    ]);
  });

  it('compile and evaluate refuse an invalid group with a located, coded error', () => {
    const group = {
      logic: 'AND',
      conditions: [{ field: 'plan', operator: 'in', value: 'pro' }],
    } as unknown as ConditionGroup;
    for (const run of [() => compileConditions(group), () => evaluateConditions(group, {})]) {
      try {
        run();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidConditionsError);
        const invalid = error as InvalidConditionsError;
        expect(invalid.code).toBe('CONDITIONS_INVALID');
        expect(invalid.message).toContain('conditions[0].value');
        expect(invalid.problems).toHaveLength(1);
      }
    }
  });
});
