/**
 * The contract with the config loader: what it loads, the runtime compiles and runs. The type-level
 * half is the two assignments below (a compile error if the loader's output drifts from what the
 * runtime accepts); the runtime half loads the full example of docs/journeys.md and drives it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  loadConfigFromString,
  type JourneyDefinition as LoadedJourney,
  type MessageTemplate,
} from '../config/index.js';
import {
  compileJourney,
  inJourneyHoldout,
  JourneyScenario,
  type JourneyDefinition,
  type TemplateDefinition,
} from './index.js';

export const loadedJourneyIsAccepted = (journey: LoadedJourney): JourneyDefinition => journey;
export const loadedTemplateIsAccepted = (template: MessageTemplate): TemplateDefinition => template;

const DOCS = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/journeys.md');
const START = Date.parse('2026-01-05T14:00:00Z');
const DAY = 86_400_000;

function docsExample(): string {
  const markdown = readFileSync(DOCS, 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(markdown);
  if (block?.[1] === undefined) throw new Error('docs/journeys.md has no yaml example');
  return block[1];
}

describe('journeys from the config loader', () => {
  const loaded = loadConfigFromString(docsExample(), 'docs/journeys.md');
  const definition = loaded.config.journeys[0];
  if (definition === undefined) throw new Error('the example defines no journey');
  const journey = compileJourney(definition, 1, {
    templates: loaded.config.templates,
    defaultTimezone: loaded.config.defaults.timezone,
  });

  it('loads the documented example with reference warnings only', () => {
    expect(loaded.warnings.every((w) => w.severity === 'warning')).toBe(true);
    expect(journey.stages.map((s) => s.id)).toEqual([
      'welcome',
      'nudge',
      'concierge',
      'activation',
      'tips_email',
    ]);
    expect(journey.reEntry).toBe('cooldown');
    expect(journey.cooldownMs).toBe(90 * DAY);
    expect(journey.holdout).toBeCloseTo(0.1);
    expect(journey.exitEvents.has('customer.deleted')).toBe(true);
  });

  it('runs the example: welcome, nudge after 3 days, concierge for high value, then activation', () => {
    const customerId =
      Array.from({ length: 100 }, (_, i) => `cus_${i}`).find(
        (id) => !inJourneyHoldout(journey, id, 'docs'),
      ) ?? '';
    const s = new JourneyScenario(
      journey,
      {
        id: customerId,
        attributes: {
          first_name: 'Ada',
          name: 'Ada Corp',
          csm_id: 'csm_7',
          csm_name: 'Grace',
          arr: 50_000,
          type: 'paid',
          timezone: 'America/New_York',
          contract: { end_date: '2026-12-31' },
        },
      },
      { start: START, seed: 'docs' },
    );
    expect(s.enroll().decision).toBe('enrolled');
    const welcome = s.effects.find((e) => e.type === 'send_message');
    expect(welcome?.type === 'send_message' && welcome.message.content['subject']).toBe(
      'Welcome, Ada',
    );
    expect(welcome?.type === 'send_message' && welcome.variant).toMatch(/^(short|long)$/);
    // No login within 3 days: nudge, then 2 days later at 09:00 New York, the high-value branch.
    s.wait(3 * DAY);
    expect(s.enrollment?.stage).toBe('nudge');
    s.wait(3 * DAY);
    expect(s.eventTypes).toContain('step.completed');
    const task = s.effects.find((e) => e.type === 'create_task');
    expect(task?.type === 'create_task' && task.task).toMatchObject({
      title: 'Call Ada Corp',
      assignee: 'csm_7',
    });
    expect(['activation', 'tips_email']).toContain(s.enrollment?.stage);
    // Expanding reaches the goal with exit: true.
    s.updateProfile({ seats: 25 });
    expect(s.enrollment).toMatchObject({ status: 'exited', exitReason: 'goal_reached' });
    expect(s.timers.size).toBe(0);
  });
});

describe('the enrolling-event example of docs/journeys.md ("What steps read")', () => {
  it('loads without warnings and thanks, then asks about the same order a week later', () => {
    const markdown = readFileSync(DOCS, 'utf8');
    const block = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) =>
      m[1]?.includes('order_follow_up'),
    );
    if (block?.[1] === undefined)
      throw new Error('docs/journeys.md lost its order_follow_up example');
    const loaded = loadConfigFromString(block[1], 'docs/journeys.md');
    expect(loaded.warnings.filter((w) => w.message.includes('reads event.'))).toEqual([]);
    const definition = loaded.config.journeys[0];
    if (definition === undefined) throw new Error('the example defines no journey');
    const journey = compileJourney(definition, 1);
    const s = new JourneyScenario(journey, { id: 'cus_1', attributes: {} }, { start: START });
    s.enroll({
      source: 'event',
      event: {
        type: 'order.placed',
        customerId: 'cus_1',
        occurredAt: START,
        receivedAt: START,
        payload: { properties: { order_id: 'A-17' } },
        seq: 1,
      },
    });
    s.wait(7 * DAY);
    expect(
      s.effects.flatMap((e) => (e.type === 'send_message' ? [e.message.content['body']] : [])),
    ).toEqual(['Thanks for order A-17!', 'How was order A-17?']);
  });
});
