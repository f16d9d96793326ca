/**
 * Planning schedule triggers for one customer, purely: given the profile, the current plan and
 * `now`, what the plan should be and which durable timer carries its next fire. Used by the
 * processor (in the customer's order, after each batch of inputs) and by the planner (customers
 * that never had a plan, such as imported ones) alike, so both plan the same way.
 *
 * A plan remembers the anchor it was computed from: the customer's zone for a cron schedule, the
 * date value (and zone) for an anchored one, the event time for `after_event`. It is recomputed
 * only when that anchor changes — a moved contract end moves the reminder, a removed one cancels
 * it — and `firedAnchor` keeps an anchored schedule from firing twice for the same value.
 */
import type {
  CustomerRecord,
  IdSource,
  Instant,
  SchedulePlanRecord,
  TimerRecord,
} from '../core/index.js';
import { readField } from '../journeys/index.js';
import { anchoredFireAt, customerZone, nextOpenMoment } from '../scheduling/index.js';
import type { ScheduleTrigger } from './project.js';

const DAY_MS = 86_400_000;

/** What planning decided: the new plan, a timer to add, a timer to cancel, and why (for decisions). */
export interface PlanChange {
  plan: SchedulePlanRecord;
  timer: TimerRecord | null;
  /** The timer is the plan's own, just fired, due again: reschedule that row instead of adding one. */
  reschedule: boolean;
  cancelTimerId: string | null;
  /** Set when a fire was not planned although the anchor is there (already fired, missed, invalid). */
  note: 'already_fired' | 'missed' | 'invalid_anchor' | 'no_anchor' | 'never_fires' | null;
}

/** The zone a schedule runs in for this customer. */
export function scheduleZone(
  trigger: ScheduleTrigger,
  attributes: Readonly<Record<string, unknown>>,
  defaultZone: string,
): string {
  const zone = trigger.zone;
  if (zone?.kind === 'zone') return zone.zone;
  if (zone?.kind === 'field') {
    const value = readField(attributes, zone.field);
    return customerZone({ timezone: value }, defaultZone);
  }
  return customerZone(attributes, defaultZone);
}

/**
 * Plans one schedule trigger for one customer. `eventAt` is the time of the latest `after_event`
 * event seen in this batch, if any; `fired` says the plan's cron timer fired in this batch. Returns
 * null when the current plan stands.
 */
export function planSchedule(
  trigger: ScheduleTrigger,
  customer: CustomerRecord,
  current: SchedulePlanRecord | null,
  now: Instant,
  ids: IdSource,
  defaultZone: string,
  eventAt: Instant | null = null,
  fired = false,
): PlanChange | null {
  const zone = scheduleZone(trigger, customer.attributes, defaultZone);
  const timing = trigger.timing;
  let anchor: string | null;
  let fireAt: () => number | 'invalid_anchor' | null;
  switch (timing.kind) {
    case 'cron':
      anchor = zone;
      fireAt = () => timing.timetable.nextAfter(now, zone);
      break;
    case 'anchor': {
      const value = readField(customer.attributes, timing.field);
      anchor =
        value === undefined || value === null || value === ''
          ? null
          : `${JSON.stringify(value)}@${zone}`;
      fireAt = () => {
        const at = anchoredFireAt(value, timing.offset, zone, timing.at);
        return typeof at === 'number' ? at : 'invalid_anchor';
      };
      break;
    }
    case 'after_event': {
      const from = eventAt;
      // Only a new event re-plans; without one the current plan (or none) stands.
      anchor =
        from === null ? (current?.anchor ?? null) : `${new Date(from).toISOString()}@${zone}`;
      // The event time is an anchor like a date field's (an epoch instant): same offset rules.
      fireAt = () => {
        if (from === null) return null;
        const at = anchoredFireAt(from, timing.offset, zone, timing.at);
        return typeof at === 'number' ? at : 'invalid_anchor';
      };
      break;
    }
  }

  const base: SchedulePlanRecord = current ?? {
    customerId: customer.id,
    triggerName: trigger.name,
    timerId: null,
    anchor: null,
    firedAnchor: null,
  };
  // A cron plan's timer that fired in this batch is reused for the next fire (one timer row per
  // customer and schedule, however often it recurs): nothing to cancel.
  const firedTimerId = fired && base.timerId !== null ? base.timerId : null;
  const cancelTimerId = firedTimerId === null ? base.timerId : null;
  const idle = (note: PlanChange['note']): PlanChange => ({
    plan: { ...base, timerId: null, anchor },
    timer: null,
    reschedule: false,
    cancelTimerId,
    note,
  });

  if (anchor === null) {
    // No anchor (never set, or removed): cancel what was planned. An idle plan is still written
    // the first time, so the planner does not come back to this customer on every pass.
    if (current !== null && current.anchor === null && current.timerId === null) return null;
    return idle('no_anchor');
  }
  // Unchanged anchor: a cron plan stands while its timer is pending (after a fire it plans the
  // next); an anchored plan stands either way (fired, missed or pending).
  if (current !== null && current.anchor === anchor) {
    if (timing.kind !== 'cron' || (current.timerId !== null && firedTimerId === null)) return null;
  }
  if (timing.kind !== 'cron' && base.firedAnchor === anchor) return idle('already_fired');

  const computed = fireAt();
  if (computed === 'invalid_anchor') return idle('invalid_anchor');
  if (computed === null) return idle('never_fires');
  let due = computed;
  if (due < now) {
    // Already past when planned (an anchor set late, a date in the past): fire once now if still
    // within the grace, else it is missed.
    if (trigger.misfire === 'skip' || now - due > (trigger.misfireGraceMs ?? DAY_MS)) {
      return idle('missed');
    }
    due = now;
  }
  if (trigger.businessHours !== null) due = nextOpenMoment(trigger.businessHours, due, zone) ?? due;
  const timer: TimerRecord = {
    id: firedTimerId ?? ids.next('tmr'),
    customerId: customer.id,
    enrollmentId: null,
    kind: 'schedule',
    dueAt: due,
    payload: { trigger: trigger.name, schedule: trigger.scheduleName, anchor, zone },
    status: 'pending',
  };
  return {
    plan: { ...base, timerId: timer.id, anchor },
    timer,
    reschedule: firedTimerId !== null,
    cancelTimerId,
    note: null,
  };
}
