/**
 * Faithful translations of Waymark condition groups into the peer libraries' rule languages, and
 * the one place that knows where their semantics part from Waymark's.
 *
 * Translation table (Waymark → json-logic → json-rules-engine):
 *   eq → `===` → equal            ne → `!==` → notEqual
 *   gt/gte/lt/lte → `>`/`>=`/`<`/`<=` → greaterThan/greaterThanInclusive/lessThan/lessThanInclusive
 *   in → `in [var, list]` → in     not_in → `!` of that → notIn
 *   contains → `in [value, var]` → contains
 *   exists → `!== null` → custom `exists` operator (json-rules-engine has none built in)
 *   AND/OR → and/or → all/any;    exceptions → `and [conditions, ! exceptions]` → all [.., not]
 * Peers read the customer object itself, so `customer.` is dropped from paths; a nested path
 * (`company.size`) is a dotted `var` in json-logic and a fact plus JSONPath in json-rules-engine.
 *
 * Where semantics differ: Waymark's ordering operators are false on any type mismatch. The peers
 * coerce: json-logic (both libraries) compares `null`, `""` and missing as 0 (`null <= 6` is true)
 * and numeric strings as numbers (`"85" >= 80`); json-rules-engine accepts anything `parseFloat`
 * reads (`"85"`, `[1]`). So agreement is only required where every field used by an ordering
 * comparison holds a number (`inOrderingDomain`); everywhere else the peers' answers are counted,
 * not required to match.
 */
import type { TopLevelCondition } from 'json-rules-engine';
import type { Condition, ConditionGroup } from './waymark.js';

/** A condition or group inside a json-rules-engine `all`/`any` (the library does not export it). */
type NestedCondition = Extract<TopLevelCondition, { all: unknown }>['all'][number];

/** A json-logic expression (both json-logic-js and json-logic-engine read the same JSON). */
export type JsonLogic = Record<string, unknown>;

function isGroup(node: Condition | ConditionGroup): node is ConditionGroup {
  return 'logic' in node;
}

/** The peers' path for a Waymark field: the customer object is their data root. */
export function peerPath(field: string): string {
  return field.startsWith('customer.') ? field.slice('customer.'.length) : field;
}

function jsonLogicCondition(condition: Condition): JsonLogic {
  const read = { var: peerPath(condition.field) };
  const value = condition.value;
  switch (condition.operator) {
    case 'eq':
      return { '===': [read, value] };
    case 'ne':
      return { '!==': [read, value] };
    case 'gt':
      return { '>': [read, value] };
    case 'gte':
      return { '>=': [read, value] };
    case 'lt':
      return { '<': [read, value] };
    case 'lte':
      return { '<=': [read, value] };
    case 'in':
      return { in: [read, value] };
    case 'not_in':
      return { '!': { in: [read, value] } };
    case 'contains':
      return { in: [value, read] };
    case 'not_contains':
      return { '!': { in: [value, read] } };
    case 'exists':
      return { '!==': [read, null] };
    case 'not_exists':
      return { '===': [read, null] };
  }
}

/** A condition group as json-logic. */
export function toJsonLogic(group: ConditionGroup): JsonLogic {
  const children = group.conditions.map((node) =>
    isGroup(node) ? toJsonLogic(node) : jsonLogicCondition(node),
  );
  return group.logic === 'AND' ? { and: children } : { or: children };
}

/** A rule (conditions, minus exceptions) as json-logic. */
export function ruleToJsonLogic(
  conditions: ConditionGroup,
  exceptions?: ConditionGroup,
): JsonLogic {
  if (exceptions === undefined) return toJsonLogic(conditions);
  return { and: [toJsonLogic(conditions), { '!': toJsonLogic(exceptions) }] };
}

const RULES_ENGINE_OPERATORS = {
  eq: 'equal',
  ne: 'notEqual',
  gt: 'greaterThan',
  gte: 'greaterThanInclusive',
  lt: 'lessThan',
  lte: 'lessThanInclusive',
  in: 'in',
  not_in: 'notIn',
  contains: 'contains',
  not_contains: 'doesNotContain',
  exists: 'exists',
  not_exists: 'notExists',
} as const;

function rulesEngineCondition(condition: Condition): NestedCondition {
  const [fact = '', ...rest] = peerPath(condition.field).split('.');
  const operator = RULES_ENGINE_OPERATORS[condition.operator];
  const value =
    condition.operator === 'exists' || condition.operator === 'not_exists' ? true : condition.value;
  return rest.length === 0
    ? { fact, operator, value }
    : { fact, path: `$.${rest.join('.')}`, operator, value };
}

/** A condition group as a json-rules-engine condition. */
export function toRulesEngine(group: ConditionGroup): TopLevelCondition {
  const children = group.conditions.map((node) =>
    isGroup(node) ? toRulesEngine(node) : rulesEngineCondition(node),
  );
  return group.logic === 'AND' ? { all: children } : { any: children };
}

/** A rule (conditions, minus exceptions) as a json-rules-engine top-level condition. */
export function ruleToRulesEngine(
  conditions: ConditionGroup,
  exceptions?: ConditionGroup,
): TopLevelCondition {
  if (exceptions === undefined) return toRulesEngine(conditions);
  return { all: [toRulesEngine(conditions), { not: toRulesEngine(exceptions) }] };
}

/** The custom operators the translation needs, for `engine.addOperator`. */
export const RULES_ENGINE_CUSTOM_OPERATORS = {
  exists: (factValue: unknown) => factValue !== undefined && factValue !== null,
  notExists: (factValue: unknown) => factValue === undefined || factValue === null,
} as const;

function orderingFields(group: ConditionGroup, into: Set<string>): Set<string> {
  for (const node of group.conditions) {
    if (isGroup(node)) orderingFields(node, into);
    else if (['gt', 'gte', 'lt', 'lte'].includes(node.operator)) into.add(peerPath(node.field));
  }
  return into;
}

function read(customer: Record<string, unknown>, path: string): unknown {
  let current: unknown = customer;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * A predicate telling whether a customer is inside the semantics all engines share for these
 * groups: every field used by an ordering comparison holds a finite number.
 */
export function inOrderingDomain(
  ...groups: readonly (ConditionGroup | undefined)[]
): (customer: Record<string, unknown>) => boolean {
  const fields = new Set<string>();
  for (const group of groups) if (group !== undefined) orderingFields(group, fields);
  const list = [...fields];
  return (customer) =>
    list.every((field) => {
      const value = read(customer, field);
      return typeof value === 'number' && Number.isFinite(value);
    });
}
