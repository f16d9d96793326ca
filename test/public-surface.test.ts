import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The package root is a contract: this pins what `import ... from 'waymark'` offers, read from the
 * built package the way a user's code would (npm test builds before it runs the tests).
 */
describe('package root exports', () => {
  const entry = join(import.meta.dirname, '../dist/index.js');

  it('is built', () => {
    expect(existsSync(entry)).toBe(true);
  });

  it('exports exactly the documented runtime values', async () => {
    const root = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    expect(Object.keys(root).sort()).toEqual(
      [
        'ConfigError',
        'Engine',
        'InAppInbox',
        'InvalidInputError',
        'NotFoundError',
        'RecordingProvider',
        'BUILT_IN_PROVIDERS',
        'VirtualClock',
        'WaymarkError',
        'buildApi',
        'compileConditions',
        'compileRuleSet',
        'compileTemplate',
        'configJsonSchema',
        'createMetrics',
        'evaluateConditions',
        'explainConditions',
        'formatProblem',
        'loadConfig',
        'loadConfigFromString',
        'openStore',
        'priorityBand',
        'randomIds',
        'renderParams',
        'sequentialIds',
        'simulate',
        'simulateJourney',
        'systemClock',
        'toWireJourneyEvent',
        'validateConfig',
      ].sort(),
    );
    expect(typeof root['compileConditions']).toBe('function');
  });

  it('compiles and evaluates the guide’s Expansion Ready conditions through the root', async () => {
    const root = (await import(pathToFileURL(entry).href)) as {
      compileConditions: (g: unknown) => (ctx: unknown) => boolean;
    };
    const expansionReady = root.compileConditions({
      logic: 'AND',
      conditions: [
        { field: 'usage_percentage', operator: 'gte', value: 80 },
        { field: 'health_score', operator: 'gte', value: 70 },
        { field: 'contract_months_remaining', operator: 'lte', value: 6 },
      ],
    });
    const customer = { usage_percentage: 85, health_score: 72, contract_months_remaining: 4 };
    expect(expansionReady({ customer })).toBe(true);
    expect(expansionReady({ customer: { ...customer, health_score: 69 } })).toBe(false);
  });
});
