import { closestName } from './closest-name.js';

/**
 * The journey event types Waymark publishes (the specification's `JourneyEvent.type` names plus the
 * ones the runtime adds). Webhooks subscribe to these; `waymark simulate` prints them; the dashboard
 * counts them.
 */
export const JOURNEY_EVENT_TYPES = [
  'journey.enrolled',
  'journey.stage_changed',
  'journey.completed',
  'journey.exited',
  'journey.goal_reached',
  'message.sent',
  'message.engaged',
  'message.delivered',
  'message.failed',
  'message.suppressed',
  'message.deferred',
  'message.dead_lettered',
  'task.created',
  'alert.created',
  'step.completed',
] as const;

/** One of {@link JOURNEY_EVENT_TYPES}. */
export type JourneyEventType = (typeof JOURNEY_EVENT_TYPES)[number];

const EVENT_TYPES: ReadonlySet<string> = new Set(JOURNEY_EVENT_TYPES);
const PREFIXES: ReadonlySet<string> = new Set(JOURNEY_EVENT_TYPES.map((t) => t.split('.')[0] ?? t));

/**
 * Checks a webhook subscription: an exact event type, `*` (everything) or `<prefix>.*`
 * (`message.*`). Returns a message when the pattern can never match, else undefined.
 */
export function eventPatternProblem(pattern: string): string | undefined {
  if (pattern === '*' || EVENT_TYPES.has(pattern)) return undefined;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -2);
    if (PREFIXES.has(prefix)) return undefined;
    const near = closestName(prefix, PREFIXES);
    const hint = near === undefined ? '' : ` (did you mean '${near}.*'?)`;
    return `unknown event prefix in '${pattern}'${hint}; expected one of ${[...PREFIXES].map((p) => `'${p}.*'`).join(', ')}`;
  }
  const near = closestName(pattern, EVENT_TYPES);
  const hint = near === undefined ? '' : ` (did you mean '${near}'?)`;
  return `unknown journey event type '${pattern}'${hint}; expected '*', '<prefix>.*' or one of ${JOURNEY_EVENT_TYPES.join(', ')}`;
}

/** True when the subscription `pattern` (as accepted by {@link eventPatternProblem}) matches `type`. */
export function eventPatternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
