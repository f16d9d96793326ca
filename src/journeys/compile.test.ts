import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaymarkError } from '../core/index.js';
import {
  compileJourney,
  InvalidJourneyError,
  journeyHash,
  stableStringify,
  type JourneyDefinition,
} from './index.js';

const days = (n: number) => ({ text: `${n} days`, amount: n, unit: 'day', ms: n * 86_400_000 });

const onboarding: JourneyDefinition = {
  id: 'onboarding_v2',
  name: 'Onboarding',
  stages: [
    {
      id: 'welcome',
      steps: [
        { id: 'welcome_msg', type: 'send', channel: 'in_app', content: { body: 'Hi' } },
        { type: 'wait', duration: days(2) },
        { type: 'goto', stage: 'activation' },
      ],
    },
    {
      id: 'activation',
      steps: [
        {
          type: 'wait_for_event',
          events: [{ event: 'login.first', next: 'complete' }],
          timeout: days(3),
          on_timeout: { next: 'welcome' },
        },
      ],
    },
  ],
};

function problemsOf(definition: JourneyDefinition, templates?: Record<string, { body: string }>) {
  try {
    compileJourney(definition, 1, { templates });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidJourneyError);
    expect((error as WaymarkError).code).toBe('JOURNEY_INVALID');
    return (error as InvalidJourneyError).problems;
  }
  throw new Error('expected the journey to be invalid');
}

describe('compileJourney', () => {
  it('defaults step ids to <stage>.<index> and indexes stages and steps', () => {
    const journey = compileJourney(onboarding, 3);
    expect(journey.version).toBe(3);
    expect(journey.name).toBe('Onboarding');
    expect(journey.stages.map((s) => s.steps.map((step) => step.id))).toEqual([
      ['welcome_msg', 'welcome.1', 'welcome.2'],
      ['activation.0'],
    ]);
    expect(journey.stageIndex.get('activation')).toBe(1);
    expect(journey.steps.get('welcome.2')).toMatchObject({ type: 'goto', stageIndex: 0, index: 2 });
  });

  it('resolves targets to stage indexes, exit and complete', () => {
    const journey = compileJourney(onboarding, 1);
    expect(journey.steps.get('welcome.2')).toMatchObject({
      target: { kind: 'stage', stageIndex: 1, stageId: 'activation' },
    });
    expect(journey.steps.get('activation.0')).toMatchObject({
      events: [{ event: 'login.first', target: { kind: 'complete' } }],
      onTimeout: { kind: 'stage', stageIndex: 0 },
    });
  });

  it('applies defaults: re-entry never, no holdout, UTC, normal priority', () => {
    const journey = compileJourney(onboarding, 1);
    expect(journey.reEntry).toBe('never');
    expect(journey.holdout).toBe(0);
    expect(journey.defaultTimezone).toBe('UTC');
    expect(journey.steps.get('welcome_msg')).toMatchObject({ priority: 'normal' });
  });

  it('reports every problem with its path', () => {
    const problems = problemsOf({
      id: 'broken',
      stages: [
        {
          id: 'a',
          steps: [
            { id: 'x', type: 'goto', stage: 'nowhere' },
            { id: 'x', type: 'send', channel: 'email', template: 't', content: { body: 'b' } },
            { type: 'split', variants: [{ name: 'v', weight: 0 }] },
          ],
        },
        { id: 'a', steps: [] },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'stages[1].id',
        'stages[0].steps[0].stage',
        'stages[0].steps[1]',
        'stages[0].steps[1].id',
        'stages[0].steps[2].variants[0].weight',
      ]),
    );
    expect(problems.find((p) => p.path === 'stages[0].steps[0].stage')?.message).toContain(
      "unknown target 'nowhere'",
    );
  });

  it('rejects a journey without stages, a cooldown without duration and a bad holdout', () => {
    expect(problemsOf({ id: 'empty', stages: [] }).map((p) => p.path)).toEqual(['stages']);
    const problems = problemsOf({
      id: 'j',
      entry: { re_entry: 'cooldown' },
      holdout: 1.5,
      stages: [{ id: 's', steps: [] }],
    });
    expect(problems.map((p) => p.path)).toEqual(['entry.cooldown', 'holdout']);
  });

  it('checks template names against the library when one is given', () => {
    const definition: JourneyDefinition = {
      id: 'j',
      stages: [{ id: 's', steps: [{ type: 'send', channel: 'email', template: 'welcome' }] }],
    };
    expect(problemsOf(definition, { other: { body: 'x' } })[0]?.message).toContain(
      "unknown template 'welcome'",
    );
    expect(() => compileJourney(definition, 1)).not.toThrow();
  });

  it('reports conditions that do not compile', () => {
    const problems = problemsOf({
      id: 'j',
      exit: {
        conditions: {
          logic: 'AND',
          conditions: [{ field: 'x', operator: 'bogus' as 'eq', value: 1 }],
        },
      },
      stages: [{ id: 's', steps: [] }],
    });
    expect(problems[0]?.path).toBe('exit.conditions');
  });

  it('accepts the config loader parsed forms of at and until', () => {
    const journey = compileJourney(
      {
        id: 'j',
        stages: [
          {
            id: 's',
            steps: [
              { type: 'wait', until_field: 'renewal', at: { text: '09:30', minute: 570 } },
              { type: 'wait', until: { text: '2026-03-01T09:00:00Z', epochMs: 1772355600000 } },
            ],
          },
        ],
      },
      1,
    );
    expect(journey.steps.get('s.0')).toMatchObject({ at: { hour: 9, minute: 30 } });
    expect(journey.steps.get('s.1')).toMatchObject({
      mode: { kind: 'until', instant: 1772355600000 },
    });
  });
});

describe('journeyHash', () => {
  it('ignores key order and changes with content', () => {
    const reordered = JSON.parse(
      JSON.stringify({ stages: onboarding.stages, name: onboarding.name, id: onboarding.id }),
    ) as JourneyDefinition;
    expect(journeyHash(reordered)).toBe(journeyHash(onboarding));
    expect(journeyHash({ ...onboarding, name: 'Other' })).not.toBe(journeyHash(onboarding));
    expect(compileJourney(onboarding, 1).hash).toBe(journeyHash(onboarding));
    expect(journeyHash(onboarding)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stableStringify equals JSON.stringify up to key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const sorted = stableStringify(value);
        expect(JSON.parse(sorted)).toEqual(JSON.parse(JSON.stringify(value)));
        // Sorting is idempotent: re-serialising the parsed result gives the same text.
        expect(stableStringify(JSON.parse(sorted))).toBe(sorted);
      }),
    );
  });
});
