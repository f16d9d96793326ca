import { describe, expect, it } from 'vitest';
import { compileConditions, validateConditions } from '../conditions/index.js';
import { loadConfigFromString } from './loader.js';

/**
 * What the loader accepts, the conditions component must compile: the two check the same
 * operators and operand rules (the type-level half of this contract is conditions-compat.ts).
 */
describe('loaded conditions compile', () => {
  it("the specification's risk_intervention rule compiles and evaluates", () => {
    const { config } = loadConfigFromString(
      [
        'rules:',
        '  - id: risk_intervention',
        '    name: Escalate at-risk customers',
        '    priority: 2',
        '    conditions:',
        '      logic: AND',
        '      conditions:',
        '        - { field: customer.health_score, operator: lt, value: 40 }',
        '        - { field: customer.arr, operator: gt, value: 10000 }',
        '        - logic: OR',
        '          conditions:',
        '            - { field: customer.plan, operator: in, value: [pro, enterprise] }',
        '            - { field: customer.csm_id, operator: exists }',
        '    actions: [{ type: create_alert, params: { severity: high } }]',
      ].join('\n'),
    );
    const rule = config.rules[0]!;
    expect(validateConditions(rule.conditions)).toEqual([]);
    const matches = compileConditions(rule.conditions);
    expect(matches({ customer: { health_score: 30, arr: 20_000, plan: 'pro' } })).toBe(true);
    expect(matches({ customer: { health_score: 30, arr: 5_000, plan: 'pro' } })).toBe(false);
  });
});
