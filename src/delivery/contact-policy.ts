/**
 * Whether a message may reach a customer now: the guide's customer-level limits
 * (`rate_limits.customer`) and fatigue rules (`FatigueConfig`), decided purely from the customer's
 * profile and their contact ledger.
 *
 * Glossary
 * - contact: a message that reached or will reach the customer (queued, deferred, sent, delivered),
 *   at the instant it goes out. Deferred messages are booked at the instant they will go, so later
 *   messages see them in the right window: this is how a cap "holds" across deferrals.
 * - window: a calendar day, week (Monday to Sunday) or month in the customer's own time zone, so
 *   "3 e-mails a day" means a day where the customer lives, across DST changes.
 * - bypass: priorities (default `critical`) that are never held by caps or fatigue, but still count
 *   as contacts, so they use up the budget of what follows.
 *
 * Order of checks: disengaged suppression, cooldowns after negative feedback, then the caps.
 * A held message is deferred to the first instant every cap allows (`when_capped: defer`), unless
 * that is further away than `max_defer`, or `when_capped: suppress`; then it is suppressed.
 */
import type { FatigueConfig, RateLimits } from '../config/index.js';
import { zoneOffsetMinutes } from '../core/index.js';
import { readField as readPath } from '../journeys/index.js';

/** Priorities of a message. */
export type MessagePriority = 'critical' | 'high' | 'normal' | 'low';

/** One contact in the customer's ledger. */
export interface Contact {
  readonly channel: string;
  /** When it goes (or went) out. */
  readonly at: number;
}

/** The compiled policy of a project. */
export interface ContactPolicy {
  /** Caps by channel name, and `total` across channels. */
  readonly caps: ReadonlyMap<string, CalendarCaps>;
  readonly whenCapped: 'defer' | 'suppress';
  readonly maxDeferMs: number;
  readonly bypass: ReadonlySet<MessagePriority>;
  readonly cooldowns: readonly { readonly feedback: Feedback; readonly ms: number }[];
  /** Engagement level → cap multiplier and suppression. */
  readonly engagement: ReadonlyMap<
    string,
    { readonly multiplier: number; readonly suppress: boolean }
  >;
  readonly engagementField: string;
}

/** Caps per local calendar window; absent means no cap. */
export interface CalendarCaps {
  readonly daily?: number | undefined;
  readonly weekly?: number | undefined;
  readonly monthly?: number | undefined;
}

/** Negative feedback kinds with a cooldown. */
export type Feedback = 'unsubscribe' | 'complaint' | 'bounce';

/** What to do with one message. */
export type ContactDecision =
  | { readonly kind: 'send'; readonly bypassed: boolean }
  | {
      readonly kind: 'defer';
      readonly until: number;
      readonly reason: string;
      readonly limit: string | null;
    }
  | {
      readonly kind: 'suppress';
      readonly reason: string;
      readonly limit: string | null;
      readonly recommendation: string | null;
    };

/** Builds the policy from the config sections; null when nothing is configured (the fast path). */
export function compileContactPolicy(
  rateLimits: RateLimits,
  fatigue: FatigueConfig,
): ContactPolicy | null {
  const caps = new Map<string, CalendarCaps>(Object.entries(rateLimits.customer));
  const cooldowns: { feedback: Feedback; ms: number }[] = [];
  const periods = fatigue.cooldown_periods;
  if (periods.after_unsubscribe)
    cooldowns.push({ feedback: 'unsubscribe', ms: periods.after_unsubscribe.ms });
  if (periods.after_complaint)
    cooldowns.push({ feedback: 'complaint', ms: periods.after_complaint.ms });
  if (periods.after_bounce) cooldowns.push({ feedback: 'bounce', ms: periods.after_bounce.ms });
  const engagement = new Map(Object.entries(fatigue.engagement_based));
  if (caps.size === 0 && cooldowns.length === 0 && engagement.size === 0) return null;
  return {
    caps,
    whenCapped: rateLimits.when_capped,
    maxDeferMs: rateLimits.max_defer.ms,
    bypass: new Set(rateLimits.bypass),
    cooldowns,
    engagement,
    engagementField: fatigue.engagement_field,
  };
}

const WINDOWS = [
  ['daily', 'day'],
  ['weekly', 'week'],
  ['monthly', 'month'],
] as const;

/** Decides one message; see the module comment. */
export function decideContact(
  policy: ContactPolicy,
  message: { readonly channel: string; readonly priority: MessagePriority },
  contacts: readonly Contact[],
  attributes: Readonly<Record<string, unknown>>,
  now: number,
  zone: string,
): ContactDecision {
  const bypassed = policy.bypass.has(message.priority);
  const level = readPath(attributes, policy.engagementField);
  const engagement = typeof level === 'string' ? policy.engagement.get(level) : undefined;
  if (bypassed) return { kind: 'send', bypassed: true };
  if (engagement?.suppress === true) {
    return {
      kind: 'suppress',
      reason: 'disengaged',
      limit: null,
      recommendation: 'Consider re-engagement campaign',
    };
  }
  for (const cooldown of policy.cooldowns) {
    const last = lastFeedback(attributes, message.channel, cooldown.feedback);
    if (last !== null && now < last + cooldown.ms) {
      return hold(policy, now, last + cooldown.ms, `cooldown_after_${cooldown.feedback}`, null);
    }
  }
  const multiplier = engagement?.multiplier ?? 1;
  let at = now;
  let heldBy: string | null = null;
  // Each step moves `at` to the end of a full window; a few steps settle day, week and month
  // together, and the bound stops a search no window can end (a cap of 0).
  for (let step = 0; step < 24; step++) {
    const full = fullWindow(policy, message.channel, contacts, at, zone, multiplier);
    if (full === null) {
      return at === now
        ? { kind: 'send', bypassed: false }
        : hold(policy, now, at, 'rate_limit', heldBy);
    }
    heldBy = full.limit;
    if (full.cap === 0) break;
    at = full.end;
  }
  return hold(policy, now, Number.POSITIVE_INFINITY, 'rate_limit', heldBy);
}

const DAY_MS = 86_400_000;

/**
 * The local calendar day, week (Monday to Sunday) or month around `at` in `zone`, as instants.
 * Plain arithmetic on the local wall time with cached zone offsets: building a luxon date per
 * window cost a third of a millisecond per message (the delivery benchmark); a property test pins
 * this to luxon's `startOf`.
 */
export function calendarWindow(
  at: number,
  zone: string,
  unit: 'day' | 'week' | 'month',
): { start: number; end: number } {
  const offset = zoneOffsetMinutes(zone, at);
  const local = new Date(at + offset * 60_000);
  const year = local.getUTCFullYear();
  const month = local.getUTCMonth();
  const day = local.getUTCDate();
  let startLocal: number;
  let endLocal: number;
  if (unit === 'day') {
    startLocal = Date.UTC(year, month, day);
    endLocal = startLocal + DAY_MS;
  } else if (unit === 'week') {
    const sinceMonday = (local.getUTCDay() + 6) % 7;
    startLocal = Date.UTC(year, month, day - sinceMonday);
    endLocal = Date.UTC(year, month, day - sinceMonday + 7);
  } else {
    startLocal = Date.UTC(year, month, 1);
    endLocal = Date.UTC(year, month + 1, 1);
  }
  return { start: fromLocal(startLocal, zone, offset), end: fromLocal(endLocal, zone, offset) };
}

/**
 * The instant a local wall time names in `zone`, starting from the offset `guess` (the offset at
 * the instant the window was asked for). Luxon's own correction: two passes settle the offset
 * across a DST change, and a wall time inside a spring-forward gap (midnight in a few zones) takes
 * the earlier offset, landing just after the gap.
 */
function fromLocal(localMs: number, zone: string, guess: number): number {
  const first = localMs - guess * 60_000;
  const o2 = zoneOffsetMinutes(zone, first);
  if (o2 === guess) return first;
  const second = first - (o2 - guess) * 60_000;
  const o3 = zoneOffsetMinutes(zone, second);
  if (o2 === o3) return second;
  return localMs - Math.min(o2, o3) * 60_000;
}

/** The cap as it applies at an engagement multiplier: scaled down, never below 1 unless it is 0. */
export function effectiveCap(cap: number, multiplier: number): number {
  if (cap === 0) return 0;
  return Math.max(1, Math.floor(cap * multiplier));
}

function fullWindow(
  policy: ContactPolicy,
  channel: string,
  contacts: readonly Contact[],
  at: number,
  zone: string,
  multiplier: number,
): { end: number; limit: string; cap: number } | null {
  let found: { end: number; limit: string; cap: number } | null = null;
  for (const scope of [channel, 'total']) {
    const caps = policy.caps.get(scope);
    if (caps === undefined) continue;
    for (const [name, unit] of WINDOWS) {
      const raw = caps[name];
      if (raw === undefined) continue;
      const cap = effectiveCap(raw, multiplier);
      const { start, end } = calendarWindow(at, zone, unit);
      let used = 0;
      for (const contact of contacts) {
        if (scope !== 'total' && contact.channel !== scope) continue;
        if (contact.at >= start && contact.at < end) used++;
      }
      if (used >= cap && (found === null || end > found.end)) {
        found = { end, limit: `${scope}.${name}`, cap };
      }
    }
  }
  return found;
}

function hold(
  policy: ContactPolicy,
  now: number,
  until: number,
  reason: string,
  limit: string | null,
): ContactDecision {
  if (policy.whenCapped === 'suppress' || until - now > policy.maxDeferMs) {
    return { kind: 'suppress', reason, limit, recommendation: null };
  }
  return { kind: 'defer', until, reason, limit };
}

/**
 * When the customer last gave this feedback on the channel: `fatigue.<channel>.last_<kind>_at`,
 * else `fatigue.last_<kind>_at` (any channel), as ISO text or epoch ms.
 */
export function lastFeedback(
  attributes: Readonly<Record<string, unknown>>,
  channel: string,
  kind: Feedback,
): number | null {
  const value =
    readPath(attributes, `fatigue.${channel}.last_${kind}_at`) ??
    readPath(attributes, `fatigue.last_${kind}_at`);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return null;
}
