/**
 * The 50-rule set of the rules benchmark: the specification's `risk_intervention` rule and its
 * "Expansion Ready" trigger as rules, plus 48 seeded rules built the way lifecycle teams write
 * them — priorities across all four bands, nested AND/OR groups, `in` lists, `contains` on tag and
 * feature arrays, `exists` checks, boolean flags, exceptions on about a third of the rules, and
 * actions whose params hold placeholders (`{{customer.csm_id}}`) and delays.
 */
import {
  FEATURES,
  INDUSTRIES,
  JOURNEYS,
  NUMERIC_FIELDS,
  PLANS,
  REGIONS,
  TAGS,
  TYPES,
  seededRandom,
} from './customers.js';
import type { Condition, ConditionGroup, RuleDefinition } from './waymark.js';

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function some<T>(random: Random, items: readonly T[], min: number, max: number): T[] {
  const count = min + Math.floor(random() * (max - min + 1));
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as T, shuffled[i] as T];
  }
  return shuffled.slice(0, count);
}

const ENUM_FIELDS: Record<string, readonly string[]> = {
  'customer.plan': PLANS,
  'customer.region': REGIONS,
  'customer.type': TYPES,
  'customer.industry': INDUSTRIES,
  'customer.journey_active': JOURNEYS,
  'customer.company.segment': ['smb', 'mid_market', 'enterprise'],
};

function numericCondition(random: Random): Condition {
  const [field, [min, max]] = pick(random, Object.entries(NUMERIC_FIELDS));
  const threshold = Math.round(min + (0.2 + 0.6 * random()) * (max - min));
  return {
    field: `customer.${field}`,
    operator: pick(random, ['gt', 'gte', 'lt', 'lte'] as const),
    value: threshold,
  };
}

function leaf(random: Random): Condition {
  const roll = random();
  if (roll < 0.4) return numericCondition(random);
  if (roll < 0.6) {
    const [field, values] = pick(random, Object.entries(ENUM_FIELDS));
    const kind = random();
    if (kind < 0.4) return { field, operator: 'in', value: some(random, values, 1, 3) };
    if (kind < 0.55) return { field, operator: 'not_in', value: some(random, values, 1, 2) };
    if (kind < 0.8) return { field, operator: 'eq', value: pick(random, values) };
    return { field, operator: 'ne', value: pick(random, values) };
  }
  if (roll < 0.75) {
    const [field, values] =
      random() < 0.5
        ? (['customer.features_used', FEATURES] as const)
        : (['customer.tags', TAGS] as const);
    return { field, operator: 'contains', value: pick(random, values) };
  }
  if (roll < 0.87) {
    return {
      field: pick(random, [
        'customer.csm_id',
        'customer.first_login',
        'customer.journey_active',
        'customer.tags',
      ]),
      operator: 'exists',
    };
  }
  if (roll < 0.93) {
    return { field: 'customer.company.size', operator: 'gte', value: Math.round(random() * 3000) };
  }
  return {
    field: pick(random, ['customer.csm_engaged', 'customer.profile_complete']),
    operator: 'eq',
    value: random() < 0.6,
  };
}

function group(random: Random, depth: number, logic: 'AND' | 'OR'): ConditionGroup {
  const size = 2 + Math.floor(random() * 3);
  const conditions: (Condition | ConditionGroup)[] = [];
  for (let i = 0; i < size; i++) {
    if (depth < 3 && random() < 0.25) {
      conditions.push(group(random, depth + 1, logic === 'AND' ? 'OR' : 'AND'));
    } else {
      conditions.push(leaf(random));
    }
  }
  return { logic, conditions };
}

/** The specification's rule, verbatim (`risk_intervention`, priority 2). */
const RISK_INTERVENTION: RuleDefinition = {
  id: 'risk_intervention',
  name: 'Escalate at-risk customers',
  priority: 2,
  conditions: {
    logic: 'AND',
    conditions: [
      { field: 'customer.health_score', operator: 'lt', value: 40 },
      { field: 'customer.arr', operator: 'gt', value: 10000 },
    ],
  },
  exceptions: {
    logic: 'OR',
    conditions: [
      { field: 'customer.journey_active', operator: 'eq', value: 'risk_mitigation' },
      { field: 'customer.csm_engaged', operator: 'eq', value: true },
    ],
  },
  actions: [
    { type: 'create_alert', params: { severity: 'high', assignee: '{{customer.csm_id}}' } },
    { type: 'enroll_journey', params: { journey_id: 'risk_mitigation' } },
  ],
};

/** The specification's "Expansion Ready" trigger conditions (bare fields are customer fields). */
export const EXPANSION_READY: ConditionGroup = {
  logic: 'AND',
  conditions: [
    { field: 'usage_percentage', operator: 'gte', value: 80 },
    { field: 'health_score', operator: 'gte', value: 70 },
    { field: 'contract_months_remaining', operator: 'lte', value: 6 },
  ],
};

const ACTION_TYPES = ['enroll_journey', 'create_task', 'send_message', 'create_alert'] as const;

/**
 * The benchmark's rules: 2 from the specification and `count - 2` seeded ones. The default seed
 * is one where every rule fires for some of the benchmark's customers, so the agreement check
 * covers every rule on both sides.
 */
export function ruleCatalogue(count = 50, seed = 5): RuleDefinition[] {
  const random = seededRandom(seed);
  const rules: RuleDefinition[] = [
    RISK_INTERVENTION,
    {
      id: 'expansion_ready',
      name: 'Expansion Ready',
      priority: 30,
      conditions: EXPANSION_READY,
      actions: [{ type: 'enroll_journey', params: { journey_id: 'expansion' } }],
    },
  ];
  for (let i = rules.length; i < count; i++) {
    const band = random();
    const priority =
      band < 0.1
        ? 1 + Math.floor(random() * 10)
        : band < 0.4
          ? 11 + Math.floor(random() * 40)
          : band < 0.8
            ? 51 + Math.floor(random() * 50)
            : 101 + Math.floor(random() * 400);
    const type = pick(random, ACTION_TYPES);
    rules.push({
      id: `rule_${String(i).padStart(2, '0')}`,
      name: `Generated rule ${i}`,
      priority,
      conditions: group(random, 1, 'AND'),
      exceptions:
        random() < 0.35 ? { logic: 'OR', conditions: [leaf(random), leaf(random)] } : undefined,
      actions: [
        {
          type,
          params: {
            journey_id: pick(random, JOURNEYS),
            assignee: '{{customer.csm_id}}',
            note: 'ARR {{customer.arr}}, plan {{customer.plan}}',
          },
          delay: random() < 0.3 ? { ms: 86_400_000, text: '1 day' } : undefined,
        },
      ],
    });
  }
  return rules;
}
