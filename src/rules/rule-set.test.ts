import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  evaluateConditions,
  type Condition,
  type ConditionGroup,
  type Operator,
} from '../conditions/index.js';
import {
  compileRuleSet,
  fireHistoryFromCounts,
  InvalidRuleError,
  type RuleContext,
  type RuleDefinition,
  type RuleEvaluation,
} from './index.js';

const NOW = Date.parse('2026-01-05T14:30:00Z'); // Monday; 09:30 in New York, 23:30 in Tokyo

/** The specification's "Journey Enrollment Rules" snippet, verbatim. */
const ENROLLMENT_RULES_YAML = `
rules:
  - id: "onboarding_enrollment"
    name: "Auto-enroll new customers in onboarding"
    priority: 1
    conditions:
      logic: AND
      conditions:
        - field: "event.type"
          operator: "eq"
          value: "customer.created"
        - field: "customer.type"
          operator: "ne"
          value: "trial"
    actions:
      - type: "enroll_journey"
        params:
          journey_id: "onboarding_v2"

  - id: "risk_intervention"
    name: "Escalate at-risk customers"
    priority: 2
    conditions:
      logic: AND
      conditions:
        - field: "customer.health_score"
          operator: "lt"
          value: 40
        - field: "customer.arr"
          operator: "gt"
          value: 10000
    exceptions:
      logic: OR
      conditions:
        - field: "customer.journey_active"
          operator: "eq"
          value: "risk_mitigation"
        - field: "customer.csm_engaged"
          operator: "eq"
          value: true
    actions:
      - type: "create_alert"
        params:
          severity: "high"
          assignee: "{{customer.csm_id}}"
      - type: "enroll_journey"
        params:
          journey_id: "risk_mitigation"
`;

/** The specification's "Progression Rules" snippet, verbatim (it has no priority). */
const PROGRESSION_RULES_YAML = `
rules:
  - id: "stage_1_complete"
    name: "Progress from Welcome to Activation"
    conditions:
      logic: AND
      conditions:
        - field: "journey.current_stage"
          operator: "eq"
          value: "welcome"
        - field: "customer.first_login"
          operator: "exists"
        - field: "customer.profile_complete"
          operator: "eq"
          value: true
    actions:
      - type: "advance_stage"
        params:
          stage: "activation"
`;

function specRules(yaml: string): RuleDefinition[] {
  return (parse(yaml) as { rules: RuleDefinition[] }).rules;
}

const enrollment = compileRuleSet(specRules(ENROLLMENT_RULES_YAML));

function only(results: RuleEvaluation[]): RuleEvaluation {
  expect(results).toHaveLength(1);
  return results[0] as RuleEvaluation;
}

function firedIds(evaluation: RuleEvaluation): string[] {
  return evaluation.fired.map((rule) => rule.ruleId);
}

const atRisk = { health_score: 25, arr: 48_000, csm_id: 'csm_17' };

describe('the specification’s rule examples', () => {
  it('onboarding_enrollment enrolls a new non-trial customer in onboarding_v2', () => {
    const result = only(
      enrollment.evaluate(
        [{ customerId: 'c1', event: { type: 'customer.created' }, customer: { type: 'paid' } }],
        { now: NOW },
      ),
    );
    expect(firedIds(result)).toEqual(['onboarding_enrollment']);
    const [fired] = result.fired;
    expect(fired).toMatchObject({ priority: 1, band: 'critical' });
    expect(fired?.actions).toEqual([
      {
        type: 'enroll_journey',
        params: { journey_id: 'onboarding_v2' },
        missing: [],
        runAt: NOW,
        delay: undefined,
        retry: undefined,
      },
    ]);
  });

  it('onboarding_enrollment skips trials and other events, and enrolls a customer with no type', () => {
    const results = enrollment.evaluate(
      [
        { customerId: 'trial', event: { type: 'customer.created' }, customer: { type: 'trial' } },
        { customerId: 'update', event: { type: 'customer.updated' }, customer: { type: 'paid' } },
        { customerId: 'untyped', event: { type: 'customer.created' }, customer: {} },
      ],
      { now: NOW },
    );
    expect(results.map(firedIds)).toEqual([[], [], ['onboarding_enrollment']]);
    expect(results.map((r) => r.customerId)).toEqual(['trial', 'update', 'untyped']);
    expect(results[0]?.conditionsNotMet).toBe(2);
  });

  it('risk_intervention fires for an at-risk customer and renders the assignee from the template', () => {
    const result = only(
      enrollment.evaluate([{ customerId: 'c2', customer: atRisk }], { now: NOW }),
    );
    expect(firedIds(result)).toEqual(['risk_intervention']);
    expect(result.fired[0]?.band).toBe('critical');
    expect(result.fired[0]?.actions.map((a) => [a.type, a.params, a.missing])).toEqual([
      ['create_alert', { severity: 'high', assignee: 'csm_17' }, []],
      ['enroll_journey', { journey_id: 'risk_mitigation' }, []],
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('reports a missing template path and renders it as null', () => {
    const result = only(
      enrollment.evaluate([{ customerId: 'c3', customer: { health_score: 25, arr: 48_000 } }], {
        now: NOW,
      }),
    );
    const alert = result.fired[0]?.actions[0];
    expect(alert?.params).toEqual({ severity: 'high', assignee: null });
    expect(alert?.missing).toEqual(['customer.csm_id']);
  });

  it.each([
    [
      'journey_active eq risk_mitigation',
      { journey_active: 'risk_mitigation' },
      ['customer.journey_active'],
    ],
    ['csm_engaged eq true', { csm_engaged: true }, ['customer.csm_engaged']],
    [
      'both exceptions',
      { journey_active: 'risk_mitigation', csm_engaged: true },
      ['customer.journey_active', 'customer.csm_engaged'],
    ],
  ])(
    'risk_intervention is blocked by the exception %s, which the explanation names',
    (_, extra, named) => {
      const result = only(
        enrollment.evaluate([{ customerId: 'c4', customer: { ...atRisk, ...extra } }], {
          now: NOW,
        }),
      );
      expect(result.fired).toEqual([]);
      expect(result.skipped).toHaveLength(1);
      const [skipped] = result.skipped;
      expect(skipped).toMatchObject({ ruleId: 'risk_intervention', reason: 'exception' });
      expect(skipped?.explanation?.conditions.result).toBe(true);
      expect(skipped?.explanation?.exceptions?.result).toBe(true);
      expect(skipped?.explanation?.matchedExceptions?.map((c) => c.field)).toEqual(named);
      expect(skipped?.explanation?.matchedExceptions?.[0]).toMatchObject({ result: true });
    },
  );

  it('risk_intervention is not blocked by near-misses of its exceptions', () => {
    const result = only(
      enrollment.evaluate(
        [
          {
            customerId: 'c5',
            customer: { ...atRisk, journey_active: 'onboarding', csm_engaged: 'true' },
          },
        ],
        { now: NOW },
      ),
    );
    expect(firedIds(result)).toEqual(['risk_intervention']);
    expect(result.fired[0]?.explanation?.exceptions?.result).toBe(false);
  });

  it('stage_1_complete advances welcome → activation, with the default priority 100 (medium)', () => {
    const progression = compileRuleSet(specRules(PROGRESSION_RULES_YAML));
    const base = {
      customerId: 'c6',
      journey: { current_stage: 'welcome' },
      customer: { first_login: '2026-01-02T08:00:00Z', profile_complete: true },
    };
    const results = progression.evaluate(
      [
        base,
        { ...base, customerId: 'no-login', customer: { profile_complete: true } },
        { ...base, customerId: 'later', journey: { current_stage: 'activation' } },
        { ...base, customerId: 'incomplete', customer: { first_login: '2026-01-02' } },
      ],
      { now: NOW },
    );
    expect(results.map(firedIds)).toEqual([['stage_1_complete'], [], [], []]);
    expect(results[0]?.fired[0]).toMatchObject({ priority: 100, band: 'medium' });
    expect(results[0]?.fired[0]?.actions[0]?.params).toEqual({ stage: 'activation' });
    expect(progression.rules).toEqual([
      {
        id: 'stage_1_complete',
        name: 'Progress from Welcome to Activation',
        priority: 100,
        band: 'medium',
        declarationIndex: 0,
      },
    ]);
  });
});

const always: ConditionGroup = { logic: 'AND', conditions: [] };

function rule(id: string, priority: number | undefined, extra: Partial<RuleDefinition> = {}) {
  return { id, name: id, priority, conditions: always, actions: [], ...extra };
}

const one: RuleContext[] = [{ customerId: 'c', customer: {} }];

describe('order', () => {
  it('fires every matching rule, lowest priority number first', () => {
    const set = compileRuleSet([rule('low', 300), rule('critical', 1), rule('medium', 60)]);
    expect(firedIds(only(set.evaluate(one, { now: NOW })))).toEqual(['critical', 'medium', 'low']);
    expect(set.rules.map((r) => [r.id, r.band])).toEqual([
      ['critical', 'critical'],
      ['medium', 'medium'],
      ['low', 'low'],
    ]);
  });

  it('breaks priority ties by declaration order', () => {
    const set = compileRuleSet([
      rule('b', 5),
      rule('a', 5),
      rule('first', 1),
      rule('c', 5),
      rule('default', undefined),
    ]);
    expect(set.rules.map((r) => r.id)).toEqual(['first', 'b', 'a', 'c', 'default']);
    expect(set.rules.map((r) => r.declarationIndex)).toEqual([2, 0, 1, 3, 4]);
  });

  it('with firstMatchOnly stops at the first rule that fires; blocked rules do not count', () => {
    const set = compileRuleSet([
      rule('blocked', 1, { exceptions: always }),
      rule('winner', 2),
      rule('also', 3),
    ]);
    const result = only(set.evaluate(one, { now: NOW, firstMatchOnly: true }));
    expect(firedIds(result)).toEqual(['winner']);
    expect(result.skipped.map((s) => [s.ruleId, s.reason])).toEqual([['blocked', 'exception']]);
    expect(firedIds(only(set.evaluate(one, { now: NOW })))).toEqual(['winner', 'also']);
  });
});

describe('actions', () => {
  it('turns a delay into runAt and passes retry through', () => {
    const set = compileRuleSet([
      rule('r', 1, {
        actions: [
          {
            type: 'send_message',
            params: { template: 'nudge' },
            delay: { ms: 172_800_000, text: '2 days' },
            retry: 'critical',
          },
          { type: 'create_task', params: { title: 'Call' }, retry: { max_attempts: 2 } },
        ],
      }),
    ]);
    const [first, second] = only(set.evaluate(one, { now: NOW })).fired[0]?.actions ?? [];
    expect(first).toMatchObject({
      runAt: NOW + 172_800_000,
      delay: { text: '2 days' },
      retry: 'critical',
    });
    expect(second).toMatchObject({ runAt: NOW, retry: { max_attempts: 2 } });
  });

  it('renders typed single placeholders and interpolates mixed strings, in nested params', () => {
    const set = compileRuleSet([
      rule('r', 1, {
        actions: [
          {
            type: 'create_task',
            params: {
              title: 'Call {{customer.name}} about {{customer.plan}}',
              amount: '{{customer.arr}}',
              tags: ['{{customer.region}}', 'fixed'],
              nested: { owner: '{{customer.csm_id}}' },
            },
          },
        ],
      }),
    ]);
    const action = only(
      set.evaluate([{ customerId: 'c', customer: { name: 'Acme', arr: 12_000, region: 'emea' } }], {
        now: NOW,
      }),
    ).fired[0]?.actions[0];
    expect(action?.params).toEqual({
      title: 'Call Acme about ',
      amount: 12_000,
      tags: ['emea', 'fixed'],
      nested: { owner: null },
    });
    expect([...(action?.missing ?? [])].sort()).toEqual(['customer.csm_id', 'customer.plan']);
  });
});

describe('schedules', () => {
  const business = (extra: Partial<RuleDefinition['schedule']> = {}) =>
    rule('business_hours', 10, {
      schedule: {
        timezone: 'America/New_York',
        days: [1, 2, 3, 4, 5],
        windows: [{ startMinute: 9 * 60, endMinute: 17 * 60 }],
        ...extra,
      },
    });

  it('fires inside the window in the schedule’s zone and explains the local time', () => {
    const result = only(compileRuleSet([business()]).evaluate(one, { now: NOW }));
    expect(firedIds(result)).toEqual(['business_hours']);
    expect(result.fired[0]?.explanation?.schedule).toEqual({
      open: true,
      timezone: 'America/New_York',
      localTime: '2026-01-05T09:30:00-05:00',
      weekday: 1,
      days: [1, 2, 3, 4, 5],
      windows: ['09:00-17:00'],
    });
  });

  it('skips outside the window: 08:30 in New York is 13:30 UTC', () => {
    const early = Date.parse('2026-01-05T13:30:00Z');
    const result = only(compileRuleSet([business()]).evaluate(one, { now: early }));
    expect(result.fired).toEqual([]);
    expect(result.skipped[0]).toMatchObject({
      ruleId: 'business_hours',
      reason: 'outside_schedule',
      explanation: { schedule: { open: false, localTime: '2026-01-05T08:30:00-05:00' } },
    });
  });

  it('reads each customer’s own zone when the schedule names a field, falling back when invalid', () => {
    const set = compileRuleSet([business({ timezoneField: 'customer.timezone' })]);
    const results = set.evaluate(
      [
        { customerId: 'ny', customer: { timezone: 'America/New_York' } },
        { customerId: 'tokyo', customer: { timezone: 'Asia/Tokyo' } }, // 23:30 Monday
        { customerId: 'berlin', customer: { timezone: 'Europe/Berlin' } }, // 15:30 Monday
        { customerId: 'bad', customer: { timezone: 'Mars/Olympus_Mons' } },
        { customerId: 'none', customer: {} },
      ],
      { now: NOW },
    );
    expect(results.map((r) => r.fired.length)).toEqual([1, 0, 1, 1, 1]);
    expect(results[1]?.skipped[0]?.explanation?.schedule).toMatchObject({
      timezone: 'Asia/Tokyo',
      localTime: '2026-01-05T23:30:00+09:00',
    });
    expect(results[3]?.fired[0]?.explanation?.schedule?.timezone).toBe('America/New_York');
  });

  it('checks the weekday in local time: Monday 01:00 in Tokyo is still Sunday in UTC', () => {
    const set = compileRuleSet([
      rule('weekdays', 1, { schedule: { timezone: 'Asia/Tokyo', days: [1] } }),
    ]);
    const sundayUtc = Date.parse('2026-01-04T16:00:00Z');
    expect(only(set.evaluate(one, { now: sundayUtc })).fired).toHaveLength(1);
    const utcSet = compileRuleSet([
      rule('weekdays', 1, { schedule: { timezone: 'UTC', days: [1] } }),
    ]);
    expect(only(utcSet.evaluate(one, { now: sundayUtc })).fired).toHaveLength(0);
  });

  it('follows daylight saving time (Berlin 2026-03-29: 01:30 UTC is 03:30 CEST)', () => {
    const set = compileRuleSet([
      rule('morning', 1, {
        schedule: { timezone: 'Europe/Berlin', windows: [{ startMinute: 180, endMinute: 240 }] },
      }),
    ]);
    expect(only(set.evaluate(one, { now: Date.parse('2026-03-29T01:30:00Z') })).fired).toHaveLength(
      1,
    );
    expect(only(set.evaluate(one, { now: Date.parse('2026-03-28T01:30:00Z') })).fired).toHaveLength(
      0,
    );
  });
});

describe('limits', () => {
  const once = rule('once_a_day', 1, { limits: { per_customer: { daily: 1 } } });

  it('honours per-customer counts from the history', () => {
    const set = compileRuleSet([once]);
    const history = fireHistoryFromCounts({ customers: { c: { once_a_day: { daily: 1 } } } });
    const result = only(set.evaluate(one, { now: NOW, history }));
    expect(result.fired).toEqual([]);
    expect(result.skipped[0]).toMatchObject({
      reason: 'limit_reached',
      explanation: {
        limit: { scope: 'per_customer', window: 'daily', max: 1, count: 1, firedInBatch: 0 },
      },
    });
    const other = only(set.evaluate([{ customerId: 'd', customer: {} }], { now: NOW, history }));
    expect(firedIds(other)).toEqual(['once_a_day']);
  });

  it('counts fires earlier in the same batch for the same customer', () => {
    const set = compileRuleSet([rule('twice', 1, { limits: { per_customer: { weekly: 2 } } })]);
    const history = fireHistoryFromCounts({ customers: { c: { twice: { weekly: 1 } } } });
    const results = set.evaluate(
      [
        { customerId: 'c', customer: {} },
        { customerId: 'other', customer: {} },
        { customerId: 'c', customer: {} },
      ],
      { now: NOW, history },
    );
    expect(results.map((r) => r.fired.length)).toEqual([1, 1, 0]);
    expect(results[2]?.skipped[0]?.explanation?.limit).toEqual({
      scope: 'per_customer',
      window: 'weekly',
      max: 2,
      count: 2,
      firedInBatch: 1,
    });
  });

  it('shares global limits across the batch and the history', () => {
    const set = compileRuleSet([rule('burst', 1, { limits: { global: { per_minute: 3 } } })]);
    const history = fireHistoryFromCounts({ global: { burst: { per_minute: 1 } } });
    const contexts = ['a', 'b', 'c', 'd'].map((customerId) => ({ customerId, customer: {} }));
    const results = set.evaluate(contexts, { now: NOW, history });
    expect(results.map((r) => r.fired.length)).toEqual([1, 1, 0, 0]);
    expect(results[3]?.skipped[0]?.explanation?.limit).toMatchObject({
      scope: 'global',
      window: 'per_minute',
      count: 3,
    });
  });

  it('does not count a rule blocked by its limit, and a zero limit never fires', () => {
    const set = compileRuleSet([rule('never', 1, { limits: { per_customer: { total: 0 } } })]);
    const result = only(set.evaluate(one, { now: NOW }));
    expect(result.skipped[0]?.explanation?.limit).toMatchObject({
      window: 'total',
      max: 0,
      count: 0,
    });
  });
});

describe('explanations', () => {
  const set = compileRuleSet([
    rule('hit', 1, {
      conditions: {
        logic: 'AND',
        conditions: [{ field: 'customer.plan', operator: 'eq', value: 'pro' }],
      },
    }),
    rule('miss', 2, {
      conditions: {
        logic: 'AND',
        conditions: [{ field: 'customer.seats', operator: 'gt', value: 10 }],
      },
    }),
  ]);
  const contexts = [{ customerId: 'c', customer: { plan: 'pro', seats: 3 } }];

  it("'fired' (the default) explains fired rules and counts unmet ones", () => {
    const result = only(set.evaluate(contexts, { now: NOW }));
    expect(result.fired[0]?.explanation?.conditions).toEqual({
      logic: 'AND',
      result: true,
      children: [
        { field: 'customer.plan', operator: 'eq', value: 'pro', actual: 'pro', result: true },
      ],
    });
    expect(result.skipped).toEqual([]);
    expect(result.conditionsNotMet).toBe(1);
  });

  it("'all' also lists and explains every rule whose conditions were not met", () => {
    const result = only(set.evaluate(contexts, { now: NOW, explain: 'all' }));
    expect(result.skipped).toEqual([
      {
        ruleId: 'miss',
        name: 'miss',
        priority: 2,
        reason: 'conditions_not_met',
        explanation: {
          conditions: {
            logic: 'AND',
            result: false,
            children: [
              { field: 'customer.seats', operator: 'gt', value: 10, actual: 3, result: false },
            ],
          },
        },
      },
    ]);
    expect(result.conditionsNotMet).toBe(1);
  });

  it("'none' builds no explanation but still lists blocked rules", () => {
    const blocked = compileRuleSet([rule('b', 1, { exceptions: always })]);
    const result = only(blocked.evaluate(one, { now: NOW, explain: 'none' }));
    expect(result.skipped).toEqual([
      { ruleId: 'b', name: 'b', priority: 1, reason: 'exception', explanation: undefined },
    ]);
    expect(
      only(set.evaluate(contexts, { now: NOW, explain: 'none' })).fired[0]?.explanation,
    ).toBeUndefined();
  });
});

describe('invalid rule sets', () => {
  const cases: [string, RuleDefinition[], string][] = [
    ['a duplicate id', [rule('x', 1), rule('x', 2)], 'duplicate rule id'],
    ['an empty id', [rule('', 1)], 'id must be'],
    ['a NaN priority', [rule('x', Number.NaN)], 'priority'],
    [
      'a negative delay',
      [rule('x', 1, { actions: [{ type: 't', delay: { ms: -1, text: '-1 ms' } }] })],
      'delay',
    ],
    ['an action without type', [rule('x', 1, { actions: [{ type: '' }] })], 'type'],
    [
      'an unbalanced placeholder',
      [rule('x', 1, { actions: [{ type: 't', params: { a: 'Hi {{customer.name' } }] })],
      'actions[0].params',
    ],
    ['an unknown zone', [rule('x', 1, { schedule: { timezone: 'Nowhere/City' } })], 'IANA'],
    ['weekday 0', [rule('x', 1, { schedule: { timezone: 'UTC', days: [0] } })], 'weekday'],
    [
      'an empty window',
      [
        rule('x', 1, {
          schedule: { timezone: 'UTC', windows: [{ startMinute: 60, endMinute: 60 }] },
        }),
      ],
      'window',
    ],
    ['a fractional limit', [rule('x', 1, { limits: { per_customer: { daily: 1.5 } } })], 'daily'],
    [
      'an unknown operator',
      [
        rule('x', 1, {
          conditions: { logic: 'AND', conditions: [{ field: 'a', operator: 'near' as Operator }] },
        }),
      ],
      'conditions',
    ],
    [
      'a bad time zone field',
      [rule('x', 1, { schedule: { timezone: 'UTC', timezoneField: 'customer..tz' } })],
      'timezoneField',
    ],
  ];
  it.each(cases)('rejects %s with RULE_INVALID', (_, rules, message) => {
    expect(() => compileRuleSet(rules)).toThrow(InvalidRuleError);
    expect(() => compileRuleSet(rules)).toThrow(message);
  });

  it('rejects a non-finite now', () => {
    expect(() => compileRuleSet([]).evaluate(one, { now: Number.NaN })).toThrow(InvalidRuleError);
  });
});

describe('against a naive reference (property)', () => {
  const fields = ['a', 'b', 'tags'];
  const scalar = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom('x', 'y', '1'),
    fc.boolean(),
    fc.constant(null),
  );
  const condition: fc.Arbitrary<Condition> = fc.oneof(
    fc.record({
      field: fc.constantFrom(...fields),
      operator: fc.constantFrom<Operator>('eq', 'ne', 'contains', 'not_contains'),
      value: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y'), fc.boolean()),
    }),
    fc.record({
      field: fc.constantFrom(...fields),
      operator: fc.constantFrom<Operator>('gt', 'gte', 'lt', 'lte'),
      value: fc.integer({ min: -3, max: 3 }),
    }),
    fc.record({
      field: fc.constantFrom(...fields),
      operator: fc.constantFrom<Operator>('in', 'not_in'),
      value: fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', 'y')), {
        maxLength: 3,
      }),
    }),
    fc.record({
      field: fc.constantFrom(...fields),
      operator: fc.constantFrom<Operator>('exists', 'not_exists'),
    }),
  );
  const group: fc.Arbitrary<ConditionGroup> = fc.letrec<{ group: ConditionGroup }>((tie) => ({
    group: fc.record({
      logic: fc.constantFrom('AND' as const, 'OR' as const),
      conditions: fc.array(fc.oneof({ depthSize: 'small' }, condition, tie('group')), {
        maxLength: 3,
      }),
    }),
  })).group;
  const rules = fc
    .array(
      fc.record({
        priority: fc.option(fc.constantFrom(1, 5, 5, 20, 100, 250), { nil: undefined }),
        conditions: group,
        exceptions: fc.option(group, { nil: undefined }),
      }),
      { maxLength: 8 },
    )
    .map((list) =>
      list.map((r, i): RuleDefinition => ({ id: `r${i}`, name: `rule ${i}`, actions: [], ...r })),
    );
  const customer = fc.record(
    { a: scalar, b: scalar, tags: fc.oneof(fc.array(scalar, { maxLength: 3 }), scalar) },
    { requiredKeys: [] },
  );

  function reference(definitions: RuleDefinition[], context: RuleContext): string[] {
    return definitions
      .map((definition, index) => ({ definition, index }))
      .sort(
        (x, y) =>
          (x.definition.priority ?? 100) - (y.definition.priority ?? 100) || x.index - y.index,
      )
      .filter(
        ({ definition }) =>
          evaluateConditions(definition.conditions, context) &&
          !(
            definition.exceptions !== undefined &&
            evaluateConditions(definition.exceptions, context)
          ),
      )
      .map(({ definition }) => definition.id);
  }

  it('fires exactly the rules a naive loop over evaluateConditions fires, sorted by priority', () => {
    fc.assert(
      fc.property(
        rules,
        fc.array(customer, { minLength: 1, maxLength: 5 }),
        (definitions, customers) => {
          const contexts = customers.map((c, i) => ({ customerId: `c${i}`, customer: c }));
          const set = compileRuleSet(definitions);
          const results = set.evaluate(contexts, { now: NOW, explain: 'all' });
          const firstOnly = set.evaluate(contexts, { now: NOW, firstMatchOnly: true });
          contexts.forEach((context, i) => {
            const expected = reference(definitions, context);
            const result = results[i] as RuleEvaluation;
            expect(firedIds(result)).toEqual(expected);
            const priorities = result.fired.map((f) => f.priority);
            expect(priorities).toEqual([...priorities].sort((x, y) => x - y));
            expect(result.fired.length + result.skipped.length).toBe(definitions.length);
            expect(result.skipped.filter((s) => s.reason === 'conditions_not_met')).toHaveLength(
              result.conditionsNotMet,
            );
            expect(firedIds(firstOnly[i] as RuleEvaluation)).toEqual(expected.slice(0, 1));
            for (const fired of result.fired)
              expect(fired.explanation?.conditions.result).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
