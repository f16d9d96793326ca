import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateConditions } from './compile.js';
import {
  InvalidConditionsError,
  OPERATORS,
  compileConditions,
  evaluateConditions,
  explainConditions,
  validateConditions,
  type Condition,
  type ConditionContext,
  type ConditionGroup,
  type Operator,
} from './index.js';

// ---------------------------------------------------------------------------------------------
// Random groups and contexts drawn from a small shared vocabulary, so conditions often hit.

const KEYS = ['a', 'b', 'tags', 'when', 'x y', 'q"t', 'properties', 'type'];
const ROOT_PREFIXES = ['', 'customer.', 'event.', 'journey.'];
const DATES = ['2024-01-01', '2024-01-01T00:00:00Z', '2024-01-01T05:30:00+05:30', '2023-12-31'];

const fieldArb = fc
  .tuple(
    fc.constantFrom(...ROOT_PREFIXES),
    fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }),
  )
  .map(([prefix, keys]) => prefix + keys.join('.'));

const dateObjectArb = fc.constantFrom(...DATES).map((iso) => new Date(Date.parse(iso)));
const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noNaN: true }),
  fc.constantFrom('a', 'b', 'ab', '', '5', 'pro', ...DATES),
  fc.boolean(),
  fc.constant(null),
  dateObjectArb,
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalarArb },
  { weight: 1, arbitrary: fc.array(scalarArb, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b'), scalarArb, { maxKeys: 2 }) },
);
const orderValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('a', 'b', '', ...DATES),
  dateObjectArb,
);

function valueFor(operator: Operator): fc.Arbitrary<unknown> {
  switch (operator) {
    case 'in':
    case 'not_in':
      // Mostly scalar lists, which the compiler turns into lookup sets.
      return fc.array(fc.oneof({ weight: 3, arbitrary: scalarArb }, valueArb), { maxLength: 4 });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return orderValueArb;
    case 'exists':
    case 'not_exists':
      return fc.constant(undefined);
    case 'eq':
    case 'ne':
    case 'contains':
    case 'not_contains':
      return valueArb;
  }
}

/**
 * Another spelling of the same value: a date string as a different ISO string or as a `Date`,
 * a `Date` as a string, a number as text.
 */
function twin(value: unknown, asDate: boolean): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') {
    const instant = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (Number.isNaN(instant)) return value.toUpperCase();
    return asDate ? new Date(instant) : new Date(instant).toISOString();
  }
  if (typeof value === 'number') return String(value);
  return value;
}

const conditionArb: fc.Arbitrary<Condition> = fc
  .tuple(fieldArb, fc.constantFrom(...OPERATORS))
  .chain(([field, operator]) =>
    valueFor(operator).map((value) =>
      value === undefined ? { field, operator } : { field, operator, value },
    ),
  );

const groupArb: fc.Arbitrary<ConditionGroup> = fc.letrec<{ group: ConditionGroup }>((tie) => ({
  group: fc.record({
    logic: fc.constantFrom('AND' as const, 'OR' as const),
    conditions: fc.array(
      fc.oneof(
        { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
        conditionArb,
        tie('group'),
      ),
      { maxLength: 4 },
    ),
  }),
})).group;

/** Context data: the same keys, every kind of value, plus things that must read as absent. */
const dataArb: fc.Arbitrary<unknown> = fc.letrec<{ data: unknown }>((tie) => ({
  data: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.constantFrom(undefined, Number.NaN, () => 'fn'),
    fc.array(tie('data'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('data'), { maxKeys: 4 }),
  ),
})).data;
const rootArb = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), dataArb, { maxKeys: 6 }) },
  { weight: 1, arbitrary: dataArb },
);
const contextArb: fc.Arbitrary<ConditionContext> = fc.record(
  { customer: rootArb, event: rootArb, journey: rootArb },
  { requiredKeys: [] },
) as fc.Arbitrary<ConditionContext>;

describe('compiled conditions', () => {
  it('agree with the reference interpreter and with explain() on random groups', () => {
    fc.assert(
      fc.property(
        groupArb,
        fc.array(contextArb, { minLength: 1, maxLength: 5 }),
        (group, contexts) => {
          expect(validateConditions(group)).toEqual([]);
          const compiled = compileConditions(group);
          for (const context of contexts) {
            const expected = evaluateConditions(group, context);
            expect(compiled(context)).toBe(expected);
            expect(explainConditions(group, context).result).toBe(expected);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('agree on single conditions against values drawn from the condition itself', () => {
    // A context holding the very value, a list element, or another spelling of the same instant
    // makes eq/in/contains/ordering hit often, including the date paths.
    fc.assert(
      fc.property(
        conditionArb,
        dataArb,
        fc.constantFrom('noise', 'value', 'twin', 'date', 'list'),
        (condition, noise, pick) => {
          const list = Array.isArray(condition.value) ? (condition.value as unknown[]) : [];
          const source = list.length > 0 ? list[0] : condition.value;
          const stored =
            pick === 'noise'
              ? noise
              : pick === 'value'
                ? source
                : pick === 'twin' || pick === 'date'
                  ? twin(source, pick === 'date')
                  : [noise, twin(source, false)];
          const key = condition.field.split('.').pop() ?? 'a';
          const context: ConditionContext = {
            customer: { [key]: stored },
            event: { [key]: stored, properties: { [key]: stored } },
            journey: { [key]: stored },
          };
          const group: ConditionGroup = { logic: 'AND', conditions: [condition] };
          expect(compileConditions(group)(context)).toBe(evaluateConditions(group, context));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('specialise the Expansion Ready trigger to plain comparisons', () => {
    const { source, constants } = generateConditions({
      logic: 'AND',
      conditions: [
        { field: 'usage_percentage', operator: 'gte', value: 80 },
        { field: 'health_score', operator: 'gte', value: 70 },
        { field: 'contract_months_remaining', operator: 'lte', value: 6 },
      ],
    });
    expect(constants).toEqual([80, 70, 6]);
    // Only the customer root is read, and no helper is called.
    expect(source).toContain('ctx.customer');
    expect(source).not.toContain('ctx.event');
    expect(source).not.toContain('h.');
    expect(source).toContain("typeof v === 'number' && v >= k0");
  });
});

// ---------------------------------------------------------------------------------------------
// Injection: config text must never become code.

const PWNED = '__waymark_pwned';
const globals = globalThis as { __waymark_pwned?: unknown };
afterEach(() => {
  delete globals.__waymark_pwned;
});

const PAYLOADS = [
  `"); globalThis.${PWNED} = 1; ("`,
  `'); globalThis.${PWNED} = 1; ('`,
  `\`; globalThis.${PWNED} = 1; \``,
  `\${globalThis.${PWNED} = 1}`,
  `*/ globalThis.${PWNED} = 1; /*`,
  `\u2028globalThis.${PWNED} = 1; //`,
  `\\"]; globalThis.${PWNED} = 1; //`,
  `"); process.exit(1); ("`,
];
const PIECES = [
  '"',
  "'",
  '\\',
  '`',
  '*/',
  '/*',
  '\u2028',
  '\u2029',
  '\n',
  '${',
  '}',
  ')',
  ']',
  'a',
  '.',
  '__proto__',
  'constructor',
  'prototype',
  '\uD800',
  ...PAYLOADS,
];
const trickyArb = fc
  .array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(''));
const trickyValueArb: fc.Arbitrary<unknown> = fc.oneof(
  trickyArb,
  fc.array(trickyArb, { maxLength: 3 }),
  fc.dictionary(trickyArb, trickyArb, { maxKeys: 2 }),
);

/** Fixed string literals the generator itself writes. */
const OWN_LITERALS = new Set([
  "'use strict'",
  "'object'",
  "'number'",
  "'string'",
  "'boolean'",
  "'function'",
]);

/** Every double-quoted literal (JSON.stringify output) in the source, decoded. */
function propertyLiterals(source: string): { decoded: string[]; rest: string } {
  const decoded: string[] = [];
  const rest = source.replace(/"(?:[^"\\]|\\.)*"/gs, (literal) => {
    decoded.push(JSON.parse(literal) as string);
    return '""';
  });
  return { decoded, rest };
}

describe('injection safety', () => {
  it('config values and field names never execute and never reach the source as code', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(trickyArb, fc.constantFrom(...KEYS)), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...OPERATORS),
        trickyValueArb,
        (segments, operator, rawValue) => {
          const field = segments.join('.');
          const value =
            operator === 'in' || operator === 'not_in'
              ? [rawValue]
              : ['gt', 'gte', 'lt', 'lte'].includes(operator) && typeof rawValue !== 'string'
                ? JSON.stringify(rawValue)
                : rawValue;
          const group = { logic: 'OR', conditions: [{ field, operator, value }] } as ConditionGroup;
          const problems = validateConditions(group);
          if (problems.length > 0) {
            // Only reserved or empty segments may be refused, and then compile refuses too.
            expect(problems.every((p) => p.path.join('.') === 'conditions.0.field')).toBe(true);
            expect(() => compileConditions(group)).toThrow(InvalidConditionsError);
            return;
          }
          const { source } = generateConditions(group);
          const { decoded, rest } = propertyLiterals(source);
          const segmentSet = new Set([...field.split('.'), 'properties']);
          for (const literal of decoded) expect(segmentSet.has(literal)).toBe(true);
          // Outside property literals, only generator-written single-quoted strings remain.
          for (const quoted of rest.match(/'[^'\n]*'/g) ?? [])
            expect(OWN_LITERALS.has(quoted)).toBe(true);
          expect(rest).not.toMatch(/[`\\\u2028\u2029]|\/\*|\$\{/);

          const compiled = compileConditions(group);
          const hit = { [field]: value };
          const contexts: ConditionContext[] = [
            {},
            { customer: hit },
            { customer: { a: { b: value } } },
          ];
          for (const context of contexts) {
            expect(compiled(context)).toBe(evaluateConditions(group, context));
          }
          expect(globals.__waymark_pwned).toBeUndefined();
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a field holding an exact payload reads that own property', () => {
    for (const payload of PAYLOADS) {
      const group: ConditionGroup = {
        logic: 'AND',
        conditions: [{ field: payload.replaceAll('.', '_'), operator: 'eq', value: payload }],
      };
      const customer = { [payload.replaceAll('.', '_')]: payload };
      expect(compileConditions(group)({ customer })).toBe(true);
      expect(globals.__waymark_pwned).toBeUndefined();
    }
  });
});

describe('explainConditions', () => {
  it('returns readable JSON naming what matched and what blocked', () => {
    const exceptions: ConditionGroup = {
      logic: 'OR',
      conditions: [
        { field: 'customer.journey_active', operator: 'eq', value: 'risk_mitigation' },
        { field: 'customer.csm_engaged', operator: 'eq', value: true },
        { field: 'customer.first_login', operator: 'not_exists' },
      ],
    };
    const customer = { csm_engaged: true, journey_active: () => 'not data' };
    const explanation = explainConditions(exceptions, { customer });
    expect(JSON.parse(JSON.stringify(explanation))).toEqual({
      logic: 'OR',
      result: true,
      children: [
        {
          field: 'customer.journey_active',
          operator: 'eq',
          value: 'risk_mitigation',
          actual: null,
          result: false,
        },
        { field: 'customer.csm_engaged', operator: 'eq', value: true, actual: true, result: true },
        { field: 'customer.first_login', operator: 'not_exists', actual: null, result: true },
      ],
    });
  });

  it('explains nested groups with every child evaluated', () => {
    const group: ConditionGroup = {
      logic: 'AND',
      conditions: [
        { field: 'a', operator: 'eq', value: 1 },
        { logic: 'OR', conditions: [{ field: 'b', operator: 'gt', value: 2 }] },
      ],
    };
    const explanation = explainConditions(group, { customer: { a: 2, b: 3 } });
    expect(explanation.result).toBe(false);
    expect(explanation.children[1]).toEqual({
      logic: 'OR',
      result: true,
      children: [{ field: 'b', operator: 'gt', value: 2, actual: 3, result: true }],
    });
  });
});

describe('without code generation', () => {
  it('falls back to the interpreter with identical results', () => {
    const refuse = vi.fn(function (): never {
      throw new EvalError('Code generation from strings disallowed for this context');
    });
    vi.stubGlobal('Function', refuse);
    try {
      const group: ConditionGroup = {
        logic: 'AND',
        conditions: [{ field: 'plan', operator: 'in', value: ['pro'] }],
      };
      const predicate = compileConditions(group);
      expect(predicate({ customer: { plan: 'pro' } })).toBe(true);
      expect(predicate({ customer: { plan: 'free' } })).toBe(false);
      expect(refuse).toHaveBeenCalledOnce();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
