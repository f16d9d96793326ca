import { assertNever } from '../core/index.js';
import type { JourneyDefinition } from './journey-schema.js';
import type { ConfigPath } from './problems.js';

/**
 * Steps that read `event.…` where a run can have no event. A journey's steps see as `event` the
 * event their run is handling (docs/journeys.md, "What steps read"): the enrolling event up to the
 * first wait, the awaited event after a `wait_for_event` it ended — and none after a timed `wait`
 * or a timeout, where `{{ event.properties.x }}` renders empty and a branch on `event.*` never
 * holds. That is easy to miss when writing a journey, so `waymark validate` warns, pointing at
 * `journey.entry_event`.
 *
 * A walk over the step graph (next steps, branch, split and wait targets, `goto`, falling off a
 * stage into the next): a step is flagged when some path from the first step reaches it through
 * a timed wait or a timeout with no `wait_for_event` event path after it. Entering a stage by
 * `advance_stage` (API or rule) also runs without an event but is not followed: it is a jump from
 * outside the journey, and counting it would flag every stage's first step.
 */
export function eventReadsWithoutEvent(
  journey: JourneyDefinition,
  at: ConfigPath,
  templates: Readonly<Record<string, unknown>> | undefined,
): { path: ConfigPath; message: string }[] {
  const stageIndex = new Map(journey.stages.map((stage, s) => [stage.id, s]));
  type Position = readonly [stage: number, step: number];
  /** The position after `[s, i]` when a step just continues (null: the journey ends). */
  const after = ([s, i]: Position): Position | null => {
    const stage = journey.stages[s];
    if (stage === undefined) return null;
    if (i + 1 < stage.steps.length) return [s, i + 1];
    for (let next = s + 1; next < journey.stages.length; next++) {
      if ((journey.stages[next]?.steps.length ?? 0) > 0) return [next, 0];
    }
    return null;
  };
  const target = (from: Position, next: string | undefined): Position | null => {
    if (next === undefined) return after(from);
    const s = stageIndex.get(next);
    if (s === undefined) return null; // exit, complete (or an unknown target, reported elsewhere)
    return (journey.stages[s]?.steps.length ?? 0) > 0
      ? [s, 0]
      : after([s, Number.MAX_SAFE_INTEGER]);
  };

  // Positions a run may reach with no event; found by a worklist from the first step, which has
  // one (the enrolling event) on the common paths.
  const withoutEvent = new Set<string>();
  const seen = new Set<string>();
  const key = ([s, i]: Position) => `${s}/${i}`;
  const work: { at: Position; noEvent: boolean }[] = [];
  const first = journey.stages.findIndex((stage) => stage.steps.length > 0);
  if (first >= 0) work.push({ at: [first, 0], noEvent: false });
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const id = `${key(item.at)}:${String(item.noEvent)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (item.noEvent) withoutEvent.add(key(item.at));
    const step = journey.stages[item.at[0]]?.steps[item.at[1]];
    if (step === undefined) continue;
    const go = (position: Position | null, noEvent: boolean) => {
      if (position !== null) work.push({ at: position, noEvent });
    };
    switch (step.type) {
      case 'wait':
        go(after(item.at), true);
        break;
      case 'wait_for_event':
        for (const awaited of step.events) go(target(item.at, awaited.next), false);
        if (step.timeout !== undefined) go(target(item.at, step.on_timeout?.next), true);
        break;
      case 'branch':
        for (const branch of step.branches) go(target(item.at, branch.next), item.noEvent);
        go(target(item.at, step.default?.next), item.noEvent);
        break;
      case 'split':
        for (const variant of step.variants) go(target(item.at, variant.next), item.noEvent);
        break;
      case 'goto':
        go(target(item.at, step.stage), item.noEvent);
        break;
      case 'exit':
        break;
      case 'send':
      case 'task':
      case 'alert':
      case 'webhook':
      case 'update_customer':
        go(after(item.at), item.noEvent);
        break;
      default:
        assertNever(step, 'step type');
    }
  }

  const findings: { path: ConfigPath; message: string }[] = [];
  journey.stages.forEach((stage, s) => {
    stage.steps.forEach((step, i) => {
      // A wait_for_event's own conditions read the event that arrives: always there.
      if (step.type === 'wait_for_event' || !withoutEvent.has(key([s, i]))) return;
      const template = sentTemplate(step, templates);
      const readsInTemplate = template !== undefined && readsEvent(JSON.stringify(template));
      if (!readsEvent(JSON.stringify(step)) && !readsInTemplate) return;
      findings.push({
        path: [...at, 'stages', s, 'steps', i],
        message: `step '${step.id}' reads event.… but can run after a timed wait or a timeout, where there is no event and it reads as empty; journey.entry_event keeps the event that enrolled the customer`,
      });
    });
  });
  return findings;
}

/** The template a send step names, when the config defines it. */
function sentTemplate(
  step: JourneyDefinition['stages'][number]['steps'][number],
  templates: Readonly<Record<string, unknown>> | undefined,
): unknown {
  if (step.type !== 'send' || step.template === undefined || templates === undefined)
    return undefined;
  return Object.hasOwn(templates, step.template) ? templates[step.template] : undefined;
}

/** Whether JSON text of a step or template reads the `event` root: a placeholder or a condition field. */
function readsEvent(text: string): boolean {
  return /\{\{[^}]*\bevent\./u.test(text) || /"field":"event\./u.test(text);
}
