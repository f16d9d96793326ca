import { describe, expect, it } from 'vitest';
import {
  compileConditions,
  evaluateConditions,
  explainConditions,
  type CompileOptions,
  type Condition,
  type ConditionContext,
  type ConditionGroup,
  type Operator,
} from './index.js';

/**
 * Evaluates one condition three ways (compiled, interpreted, explained) and insists they agree,
 * so every rule below pins the compiler and the reference interpreter at once.
 */
function holds(
  condition: Condition,
  context: ConditionContext,
  options: CompileOptions = {},
): boolean {
  const group: ConditionGroup = { logic: 'AND', conditions: [condition] };
  const interpreted = evaluateConditions(group, context, options);
  const compiled = compileConditions(group, options)(context);
  const explained = explainConditions(group, context, options).result;
  expect(compiled).toBe(interpreted);
  expect(explained).toBe(interpreted);
  return interpreted;
}

/** `holds` for a customer field. */
function on(customer: Record<string, unknown>, operator: Operator, value?: unknown): boolean {
  return holds({ field: 'f', operator, value }, { customer });
}

describe('absent fields', () => {
  const absentCustomers: [string, Record<string, unknown>][] = [
    ['missing', {}],
    ['undefined', { f: undefined }],
    ['null', { f: null }],
    ['a function', { f: () => 1 }],
  ];

  it.each(absentCustomers)('%s is absent: not_exists holds, exists does not', (_, customer) => {
    expect(on(customer, 'exists')).toBe(false);
    expect(on(customer, 'not_exists')).toBe(true);
  });

  it('present falsy values exist', () => {
    for (const f of [0, '', false, [], {}, Number.NaN]) {
      expect(on({ f }, 'exists')).toBe(true);
      expect(on({ f }, 'not_exists')).toBe(false);
    }
  });

  it('inherited members are never fields', () => {
    expect(holds({ field: 'toString', operator: 'exists' }, { customer: {} })).toBe(false);
    expect(holds({ field: 'hasOwnProperty', operator: 'exists' }, { customer: {} })).toBe(false);
    const inherited = Object.create({ plan: 'pro' }) as Record<string, unknown>;
    expect(holds({ field: 'plan', operator: 'eq', value: 'pro' }, { customer: inherited })).toBe(
      false,
    );
    expect(holds({ field: 'plan', operator: 'exists' }, { customer: inherited })).toBe(false);
  });

  it('own fields of class instances and null-prototype objects are read', () => {
    class Profile {
      plan = 'pro';
      get tier(): string {
        return 'gold';
      }
    }
    const customer = new Profile() as unknown as Record<string, unknown>;
    expect(holds({ field: 'plan', operator: 'eq', value: 'pro' }, { customer })).toBe(true);
    // A getter lives on the prototype, so it is not an own field.
    expect(holds({ field: 'tier', operator: 'exists' }, { customer })).toBe(false);
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { plan: 'pro' });
    expect(holds({ field: 'plan', operator: 'eq', value: 'pro' }, { customer: bare })).toBe(true);
  });

  it('a polluted Object.prototype does not leak into fields, even into already-run code', () => {
    const group: ConditionGroup = {
      logic: 'AND',
      conditions: [{ field: 'polluted', operator: 'exists' }],
    };
    const compiled = compileConditions(group);
    const customer = { plan: 'pro' };
    for (let i = 0; i < 10_000; i++) compiled({ customer });
    const proto = Object.prototype as Record<string, unknown>;
    proto['polluted'] = 5;
    try {
      expect(compiled({ customer })).toBe(false);
      expect(evaluateConditions(group, { customer })).toBe(false);
    } finally {
      delete proto['polluted'];
    }
  });

  it('a path through a primitive, a function or a missing root is absent', () => {
    expect(holds({ field: 'name.length', operator: 'exists' }, { customer: { name: 'ab' } })).toBe(
      false,
    );
    const withFunction = { fn: Object.assign(() => 1, { x: 1 }) };
    expect(holds({ field: 'fn.x', operator: 'exists' }, { customer: withFunction })).toBe(false);
    expect(holds({ field: 'a.b', operator: 'not_exists' }, {})).toBe(true);
    expect(holds({ field: 'a.b', operator: 'ne', value: 1 }, { customer: { a: null } })).toBe(true);
  });

  it('arrays are read by index and by their own length', () => {
    const customer = { tags: ['a', 'b'] };
    expect(holds({ field: 'tags.1', operator: 'eq', value: 'b' }, { customer })).toBe(true);
    expect(holds({ field: 'tags.2', operator: 'exists' }, { customer })).toBe(false);
    expect(holds({ field: 'tags.length', operator: 'eq', value: 2 }, { customer })).toBe(true);
  });
});

describe('negations are exact complements', () => {
  it('ne on a missing field holds (the onboarding rule relies on it)', () => {
    const context = { event: { type: 'customer.created' }, customer: { name: 'Acme' } };
    const onboarding: ConditionGroup = {
      logic: 'AND',
      conditions: [
        { field: 'event.type', operator: 'eq', value: 'customer.created' },
        { field: 'customer.type', operator: 'ne', value: 'trial' },
      ],
    };
    expect(compileConditions(onboarding)(context)).toBe(true);
    expect(evaluateConditions(onboarding, context)).toBe(true);
    const trial = { ...context, customer: { type: 'trial' } };
    expect(compileConditions(onboarding)(trial)).toBe(false);
  });

  const pairs: [Operator, Operator, unknown][] = [
    ['eq', 'ne', 5],
    ['contains', 'not_contains', 'a'],
    ['in', 'not_in', ['a', 5]],
    ['exists', 'not_exists', undefined],
  ];
  const fieldValues: unknown[] = [undefined, null, 5, '5', 'a', ['a'], [5], { a: 1 }, true];

  it.each(pairs)('%s and %s never agree', (positive, negative, value) => {
    for (const f of fieldValues) {
      expect(on({ f }, negative, value)).toBe(!on({ f }, positive, value));
    }
  });
});

describe('eq', () => {
  it('is strict about types', () => {
    expect(on({ f: 5 }, 'eq', 5)).toBe(true);
    expect(on({ f: '5' }, 'eq', 5)).toBe(false);
    expect(on({ f: 5 }, 'eq', '5')).toBe(false);
    expect(on({ f: 1 }, 'eq', true)).toBe(false);
    expect(on({ f: 'true' }, 'eq', true)).toBe(false);
    expect(on({ f: true }, 'eq', true)).toBe(true);
    expect(on({ f: 0 }, 'eq', false)).toBe(false);
    expect(on({ f: -0 }, 'eq', 0)).toBe(true);
  });

  it('never holds for NaN', () => {
    expect(on({ f: Number.NaN }, 'eq', 5)).toBe(false);
    expect(on({ f: Number.NaN }, 'ne', 5)).toBe(true);
  });

  it('compares arrays and objects deeply', () => {
    expect(on({ f: [1, 'a', [true]] }, 'eq', [1, 'a', [true]])).toBe(true);
    expect(on({ f: [1, 'a'] }, 'eq', ['a', 1])).toBe(false);
    expect(on({ f: [1] }, 'eq', [1, 1])).toBe(false);
    expect(on({ f: { a: 1, b: { c: 'x' } } }, 'eq', { b: { c: 'x' }, a: 1 })).toBe(true);
    expect(on({ f: { a: 1, b: 2 } }, 'eq', { a: 1 })).toBe(false);
    expect(on({ f: { a: 1 } }, 'eq', { a: 1, b: 2 })).toBe(false);
    // Inside objects an absent value and a missing key are the same.
    expect(on({ f: { a: 1, b: null } }, 'eq', { a: 1 })).toBe(true);
    expect(on({ f: ['1'] }, 'eq', [1])).toBe(false);
    expect(on({ f: { 0: 'a' } }, 'eq', ['a'])).toBe(false);
  });

  it('eq null means absent', () => {
    expect(on({}, 'eq', null)).toBe(true);
    expect(on({ f: null }, 'eq', null)).toBe(true);
    expect(on({ f: 0 }, 'eq', null)).toBe(false);
    expect(on({ f: '' }, 'ne', null)).toBe(true);
  });
});

describe('dates', () => {
  it('eq compares instants when the value is an ISO date', () => {
    expect(on({ f: '2024-03-01T00:00:00Z' }, 'eq', '2024-03-01')).toBe(true);
    expect(on({ f: '2024-03-01T01:00:00+01:00' }, 'eq', '2024-03-01')).toBe(true);
    expect(on({ f: new Date(Date.UTC(2024, 2, 1)) }, 'eq', '2024-03-01')).toBe(true);
    expect(on({ f: '2024-03-01T00:00:01Z' }, 'eq', '2024-03-01')).toBe(false);
    expect(on({ f: 1709251200000 }, 'eq', '2024-03-01')).toBe(false);
    expect(on({ f: 'March 1, 2024' }, 'eq', '2024-03-01')).toBe(false);
  });

  it('a date-time without an offset is UTC, never the machine zone', () => {
    expect(on({ f: '2024-03-01T10:00:00Z' }, 'eq', '2024-03-01T10:00:00')).toBe(true);
    expect(on({ f: '2024-03-01 10:00' }, 'eq', '2024-03-01T10:00:00.000Z')).toBe(true);
  });

  it('orders instants', () => {
    expect(on({ f: '2024-06-30' }, 'lt', '2024-07-01T00:00:00Z')).toBe(true);
    expect(on({ f: new Date(Date.UTC(2025, 0, 1)) }, 'gt', '2024-12-31T23:59:59Z')).toBe(true);
    expect(on({ f: '2024-01-01T00:00:00-05:00' }, 'gt', '2024-01-01T04:59:59Z')).toBe(true);
    expect(on({ f: '2024-01-01' }, 'gte', '2024-01-01')).toBe(true);
    expect(on({ f: '2024-01-01' }, 'lte', new Date(Date.UTC(2024, 0, 1)))).toBe(true);
  });

  it('a field that is not a date never orders against a date', () => {
    for (const f of ['soon', '2024-02-30', 20240101, true, ['2024-01-01'], null]) {
      expect(on({ f }, 'gt', '2000-01-01')).toBe(false);
      expect(on({ f }, 'lt', '2999-01-01')).toBe(false);
    }
    expect(on({ f: new Date(Number.NaN) }, 'lt', '2999-01-01')).toBe(false);
  });

  it('calendar-invalid strings are plain strings, not dates', () => {
    expect(on({ f: '2024-02-30' }, 'eq', '2024-02-30')).toBe(true);
    expect(on({ f: '2024-03-01' }, 'eq', '2024-02-30')).toBe(false);
  });

  it('a non-date string value orders any string field by code units', () => {
    expect(on({ f: '2024-01-01' }, 'lt', 'a')).toBe(true);
  });
});

describe('ordering', () => {
  it('compares numbers numerically', () => {
    expect(on({ f: 10 }, 'gt', 9)).toBe(true);
    expect(on({ f: 9 }, 'gte', 9)).toBe(true);
    expect(on({ f: 9 }, 'lt', 9)).toBe(false);
    expect(on({ f: 9 }, 'lte', 9)).toBe(true);
    expect(on({ f: -Infinity }, 'lt', -1e308)).toBe(true);
  });

  it('compares strings by UTF-16 code units', () => {
    expect(on({ f: 'b' }, 'gt', 'a')).toBe(true);
    expect(on({ f: 'Z' }, 'lt', 'a')).toBe(true);
    expect(on({ f: '10' }, 'lt', '9')).toBe(true);
    expect(on({ f: '\u{1F600}' }, 'lt', '\uFFFF')).toBe(true);
  });

  it('is false on any type mismatch, absence or NaN', () => {
    for (const operator of ['gt', 'gte', 'lt', 'lte'] as const) {
      for (const f of ['100', true, [100], { v: 100 }, null, undefined, Number.NaN]) {
        expect(on({ f }, operator, 50)).toBe(false);
      }
      expect(on({ f: 5 }, operator, 'a')).toBe(false);
      expect(on({}, operator, 'a')).toBe(false);
    }
  });
});

describe('contains', () => {
  it('finds substrings in a string field', () => {
    expect(on({ f: 'enterprise plan' }, 'contains', 'prise')).toBe(true);
    expect(on({ f: 'enterprise' }, 'contains', 'Prise')).toBe(false);
    expect(on({ f: 'a5' }, 'contains', 5)).toBe(false);
    expect(on({ f: 'anything' }, 'contains', '')).toBe(true);
  });

  it('finds an element equal to the value in an array field', () => {
    expect(on({ f: ['sso', 'api'] }, 'contains', 'api')).toBe(true);
    expect(on({ f: ['sso', 'api'] }, 'contains', 'ap')).toBe(false);
    expect(on({ f: [1, 2] }, 'contains', '1')).toBe(false);
    expect(on({ f: [[1], [2]] }, 'contains', [2])).toBe(true);
    expect(on({ f: ['2024-01-01T00:00:00Z'] }, 'contains', '2024-01-01')).toBe(true);
    expect(on({ f: [null] }, 'contains', null)).toBe(true);
  });

  it('holds for nothing else', () => {
    for (const f of [5, true, { api: 1 }, null, undefined]) {
      expect(on({ f }, 'contains', 'api')).toBe(false);
      expect(on({ f }, 'not_contains', 'api')).toBe(true);
    }
  });
});

describe('in', () => {
  it('tests a scalar field against the list', () => {
    expect(on({ f: 'pro' }, 'in', ['pro', 'enterprise'])).toBe(true);
    expect(on({ f: 'free' }, 'in', ['pro', 'enterprise'])).toBe(false);
    expect(on({ f: '5' }, 'in', [5])).toBe(false);
    expect(on({ f: 5 }, 'in', ['5', 5])).toBe(true);
    expect(on({ f: true }, 'in', [true])).toBe(true);
    expect(on({ f: '2024-01-01T00:00:00Z' }, 'in', ['2024-01-01'])).toBe(true);
    expect(on({ f: { a: 1 } }, 'in', [{ a: 1 }])).toBe(true);
  });

  it('tests an array field for overlap', () => {
    expect(on({ f: ['a', 'b'] }, 'in', ['b', 'c'])).toBe(true);
    expect(on({ f: ['a'] }, 'in', ['b', 'c'])).toBe(false);
    expect(on({ f: [] }, 'in', ['b'])).toBe(false);
    expect(on({ f: [[1]] }, 'in', [[1]])).toBe(true);
  });

  it('never holds for an absent field, even against a null element', () => {
    expect(on({}, 'in', ['a', null])).toBe(false);
    expect(on({ f: null }, 'in', [null])).toBe(false);
    expect(on({}, 'not_in', ['a'])).toBe(true);
  });
});

describe('field roots', () => {
  it('a bare path and a customer path are the same field', () => {
    const context = { customer: { health_score: 40 } };
    expect(holds({ field: 'health_score', operator: 'lt', value: 50 }, context)).toBe(true);
    expect(holds({ field: 'customer.health_score', operator: 'lt', value: 50 }, context)).toBe(
      true,
    );
  });

  it('reads journey state', () => {
    const context = { journey: { current_stage: 'welcome' } };
    expect(
      holds({ field: 'journey.current_stage', operator: 'eq', value: 'welcome' }, context),
    ).toBe(true);
  });

  it('event paths read the event, then fall back to its properties', () => {
    const event = {
      type: 'feature.used',
      customer_id: 'c1',
      properties: { feature: 'sso', type: 'ignored', nested: { depth: 2 } },
    };
    expect(holds({ field: 'event.type', operator: 'eq', value: 'feature.used' }, { event })).toBe(
      true,
    );
    expect(holds({ field: 'event.feature', operator: 'eq', value: 'sso' }, { event })).toBe(true);
    expect(holds({ field: 'event.nested.depth', operator: 'eq', value: 2 }, { event })).toBe(true);
    expect(
      holds({ field: 'event.properties.feature', operator: 'eq', value: 'sso' }, { event }),
    ).toBe(true);
    expect(holds({ field: 'event.customer_id', operator: 'eq', value: 'c1' }, { event })).toBe(
      true,
    );
    // The event's own field wins over a property of the same name.
    const both = { type: 'x', plan: 'top', properties: { plan: 'inner' } };
    expect(holds({ field: 'event.plan', operator: 'eq', value: 'top' }, { event: both })).toBe(
      true,
    );
    const nullTop = { type: 'x', plan: null, properties: { plan: 'inner' } };
    expect(holds({ field: 'event.plan', operator: 'eq', value: 'inner' }, { event: nullTop })).toBe(
      true,
    );
  });

  it('a root can be tested as a whole', () => {
    expect(holds({ field: 'event', operator: 'exists' }, { customer: {} })).toBe(false);
    expect(holds({ field: 'customer', operator: 'exists' }, { customer: {} })).toBe(true);
  });

  it('defaultRoot changes where bare paths read', () => {
    const context = { event: { type: 'login', properties: { device: 'ios' } } };
    const options = { defaultRoot: 'event' } as const;
    expect(holds({ field: 'type', operator: 'eq', value: 'login' }, context, options)).toBe(true);
    expect(holds({ field: 'device', operator: 'eq', value: 'ios' }, context, options)).toBe(true);
  });
});

describe('groups', () => {
  it('an empty AND holds and an empty OR does not', () => {
    expect(compileConditions({ logic: 'AND', conditions: [] })({})).toBe(true);
    expect(evaluateConditions({ logic: 'AND', conditions: [] }, {})).toBe(true);
    expect(compileConditions({ logic: 'OR', conditions: [] })({})).toBe(false);
    expect(evaluateConditions({ logic: 'OR', conditions: [] }, {})).toBe(false);
  });

  it('nests AND and OR', () => {
    const group: ConditionGroup = {
      logic: 'OR',
      conditions: [
        { field: 'vip', operator: 'eq', value: true },
        {
          logic: 'AND',
          conditions: [
            { field: 'arr', operator: 'gt', value: 10000 },
            { field: 'plan', operator: 'in', value: ['pro', 'enterprise'] },
          ],
        },
      ],
    };
    const compiled = compileConditions(group);
    const cases: [Record<string, unknown>, boolean][] = [
      [{ vip: true }, true],
      [{ arr: 20000, plan: 'pro' }, true],
      [{ arr: 20000, plan: 'free' }, false],
      [{ arr: 500, plan: 'pro' }, false],
    ];
    for (const [customer, expected] of cases) {
      expect(compiled({ customer })).toBe(expected);
      expect(evaluateConditions(group, { customer })).toBe(expected);
    }
  });
});

describe('the specification examples', () => {
  it('Expansion Ready', () => {
    const trigger: ConditionGroup = {
      logic: 'AND',
      conditions: [
        { field: 'usage_percentage', operator: 'gte', value: 80 },
        { field: 'health_score', operator: 'gte', value: 70 },
        { field: 'contract_months_remaining', operator: 'lte', value: 6 },
      ],
    };
    const ready = compileConditions(trigger);
    const customer = { usage_percentage: 85, health_score: 72, contract_months_remaining: 4 };
    expect(ready({ customer })).toBe(true);
    expect(ready({ customer: { ...customer, health_score: 69 } })).toBe(false);
    expect(ready({ customer: { ...customer, usage_percentage: '85' } })).toBe(false);
    expect(ready({ customer: { ...customer, contract_months_remaining: undefined } })).toBe(false);
  });

  it('stage_1_complete needs first_login to exist', () => {
    const rule: ConditionGroup = {
      logic: 'AND',
      conditions: [
        { field: 'journey.current_stage', operator: 'eq', value: 'welcome' },
        { field: 'customer.first_login', operator: 'exists' },
        { field: 'customer.profile_complete', operator: 'eq', value: true },
      ],
    };
    const journey = { current_stage: 'welcome' };
    const customer = { first_login: '2024-05-01T10:00:00Z', profile_complete: true };
    expect(compileConditions(rule)({ journey, customer })).toBe(true);
    expect(compileConditions(rule)({ journey, customer: { profile_complete: true } })).toBe(false);
  });
});
