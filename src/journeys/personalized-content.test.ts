import { describe, expect, it } from 'vitest';
import {
  compileJourney,
  JourneyScenario,
  type CompileJourneyOptions,
  type JourneyEffect,
  type VariantPersonalizer,
} from './index.js';

const START = Date.parse('2026-01-05T15:00:00Z');

/** A personalizer that always picks `long` and remembers the points it was asked about. */
function recorder(template: string): VariantPersonalizer & { points: number[] } {
  const points: number[] = [];
  return { template, points, choose: (point) => (points.push(point), 'long') };
}

const TEMPLATES: CompileJourneyOptions['templates'] = {
  welcome: {
    body: 'base',
    selection: 'bandit',
    variants: [
      { name: 'short', body: 'Short' },
      { name: 'long', body: 'Long' },
    ],
  },
};

function sends(effects: readonly JourneyEffect[]) {
  return effects.filter(
    (e): e is Extract<JourneyEffect, { type: 'send_message' }> => e.type === 'send_message',
  );
}

describe('templates with selection: bandit in a journey', () => {
  it('ask the personalizer at a point fixed per customer and template, across re-entries', () => {
    const personalizer = recorder('welcome');
    const journey = compileJourney(
      {
        id: 'j',
        entry: { re_entry: 'always' },
        stages: [{ id: 'm', steps: [{ type: 'send', channel: 'email', template: 'welcome' }] }],
      },
      1,
      {
        templates: TEMPLATES,
        personalizers: (name) => (name === 'welcome' ? personalizer : undefined),
      },
    );
    const scenario = new JourneyScenario(
      journey,
      { id: 'cus_1', attributes: {} },
      { start: START, seed: 's' },
    );
    const first = scenario.enroll();
    const second = scenario.enroll(
      { source: 'scenario' },
      {
        previous: first.decision === 'enrolled' ? [first.enrollment] : [],
      },
    );
    expect(second.decision).toBe('enrolled');
    // Two enrollments, one point: the customer keeps their variant.
    expect(personalizer.points).toHaveLength(2);
    expect(personalizer.points[1]).toBe(personalizer.points[0]);
    expect(sends(scenario.effects).map((s) => [s.variant, s.message.content['body']])).toEqual([
      ['long', 'Long'],
      ['long', 'Long'],
    ]);
  });

  it('falls back to the weights when no personalizer is given or it has no answer', () => {
    const silent: VariantPersonalizer = { template: 'welcome', choose: () => null };
    for (const personalizers of [undefined, () => silent]) {
      const journey = compileJourney(
        {
          id: 'j',
          stages: [{ id: 'm', steps: [{ type: 'send', channel: 'email', template: 'welcome' }] }],
        },
        1,
        { templates: TEMPLATES, ...(personalizers === undefined ? {} : { personalizers }) },
      );
      const scenario = new JourneyScenario(
        journey,
        { id: 'cus_1', attributes: {} },
        { start: START, seed: 's' },
      );
      scenario.enroll();
      expect(['short', 'long']).toContain(sends(scenario.effects)[0]?.variant);
    }
  });
});
