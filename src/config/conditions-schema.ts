import { z } from 'zod';
import { OPERATORS } from '../conditions/index.js';
import { describeFound } from './parse-result.js';
import { fieldPathSchema, strictObject } from './value-schemas.js';

/**
 * Conditions as written in config: the specification's `Condition` and `ConditionGroup`
 * (`{field, operator, value}` and `{logic, conditions}`), checked at load time so that the
 * conditions component compiles only well-formed input.
 */

/** Condition operators: the conditions component's list, so the two can never drift apart. */
export const CONDITION_OPERATORS = OPERATORS;

/** One of {@link CONDITION_OPERATORS}. */
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** A loaded condition (same shape as the conditions component's `Condition`). */
export interface ConfigCondition {
  field: string;
  operator: ConditionOperator;
  /** Absent for `exists`/`not_exists`; a list for `in`/`not_in`. */
  value?: unknown;
}

/** A loaded condition group (same shape as the conditions component's `ConditionGroup`). */
export interface ConfigConditionGroup {
  logic: 'AND' | 'OR';
  conditions: (ConfigCondition | ConfigConditionGroup)[];
}

/** A condition group as written: `logic` may be left out and defaults to AND. */
export interface ConfigConditionGroupInput {
  logic?: 'AND' | 'OR' | undefined;
  conditions: (ConfigCondition | ConfigConditionGroupInput)[];
}

function checkOperand(condition: ConfigCondition, ctx: z.RefinementCtx): void {
  const { operator, value } = condition;
  const found = describeFound(value);
  const issue = (message: string): void => {
    ctx.addIssue({ code: 'custom', path: ['value'], message, input: value });
  };
  switch (operator) {
    case 'exists':
    case 'not_exists':
      if (value !== undefined)
        issue(`operator '${operator}' takes no value; remove 'value' (found ${found})`);
      return;
    case 'in':
    case 'not_in':
      if (!Array.isArray(value))
        issue(`operator '${operator}' needs a list value such as [a, b]; found ${found}`);
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (!((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string')) {
        issue(
          `operator '${operator}' needs a number, a string or an ISO date value; found ${found}`,
        );
      }
      return;
    case 'eq':
    case 'ne':
      if (value === undefined) {
        issue(
          `operator '${operator}' needs a value; found nothing (use 'exists' or 'not_exists' to test presence)`,
        );
      }
      return;
    case 'contains':
    case 'not_contains':
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        issue(`operator '${operator}' needs a string, number or boolean value; found ${found}`);
      }
      return;
  }
}

/** One comparison `{field, operator, value}`. */
export const conditionSchema = strictObject({
  field: fieldPathSchema,
  operator: z.enum(CONDITION_OPERATORS).meta({ description: 'Comparison operator.' }),
  value: z.unknown().optional().meta({
    description:
      'Operand: a list for in/not_in; a number, string or ISO date for gt/gte/lt/lte; none for exists/not_exists.',
  }),
})
  .superRefine(checkOperand)
  .meta({ id: 'Condition', description: 'One comparison of a context field with a value.' });

/** Conditions joined by AND or OR; groups nest. */
export const conditionGroupSchema: z.ZodType<ConfigConditionGroup, ConfigConditionGroupInput> =
  z.lazy(() =>
    strictObject({
      logic: z
        .enum(['AND', 'OR'])
        .default('AND')
        .meta({ description: 'How the conditions combine (default AND).' }),
      conditions: conditionListSchema,
    }).meta({ id: 'ConditionGroup', description: 'Conditions joined by AND or OR; groups nest.' }),
  );

/** A non-empty list of conditions and nested groups. */
export const conditionListSchema: z.ZodType<
  (ConfigCondition | ConfigConditionGroup)[],
  (ConfigCondition | ConfigConditionGroupInput)[]
> = z.lazy(() =>
  z
    .array(z.union([conditionGroupSchema, conditionSchema]))
    .min(1)
    .meta({ id: 'ConditionList', description: 'Conditions and nested groups.' }),
);
