/**
 * Rule schedules: may a rule fire at this instant, in this customer's local time?
 *
 * This is the only place the rules engine needs calendar arithmetic, and the only place it uses
 * luxon. Converting an instant to a zone's local weekday and minute is far more expensive than a
 * compiled condition, so it is done once per batch per distinct time zone (`LocalTimeTable`) and the
 * per-rule check is then a bit test and two integer comparisons.
 */
import { DateTime } from 'luxon';
import { isValidTimeZone } from '../core/index.js';
import { InvalidRuleError, type LocalTimeWindow, type RuleSchedule } from './definition.js';

/** An instant seen in one time zone. */
export interface LocalTime {
  /** IANA zone name. */
  readonly timezone: string;
  /** ISO weekday, 1 = Monday ... 7 = Sunday. */
  readonly weekday: number;
  /** Minutes since local midnight, 0-1439. */
  readonly minuteOfDay: number;
  /** ISO-8601 local date-time with offset, for explanations (`2026-01-05T09:30:00+01:00`). */
  readonly iso: string;
}

/** Why a schedule was open or closed for one customer: part of a rule's explanation. */
export interface ScheduleExplanation {
  /** Whether the rule's schedule admitted the instant. */
  readonly open: boolean;
  /** The zone used (the customer's own when the schedule reads one and it is valid). */
  readonly timezone: string;
  /** The instant in that zone. */
  readonly localTime: string;
  /** ISO weekday of the instant in that zone. */
  readonly weekday: number;
  /** The schedule's days (all seven when the schedule has none). */
  readonly days: readonly number[];
  /** The schedule's windows as `HH:MM-HH:MM` (empty = the whole day). */
  readonly windows: readonly string[];
}

/** Converts one batch's `now` to local time, once per zone. Never shared between batches. */
export class LocalTimeTable {
  readonly #now: number;
  readonly #byZone = new Map<string, LocalTime | null>();

  /** @param now the batch's instant, epoch ms. */
  constructor(now: number) {
    this.#now = now;
  }

  /** The batch's instant in `timezone`, or `undefined` when the zone is not a valid IANA zone. */
  in(timezone: string): LocalTime | undefined {
    let local = this.#byZone.get(timezone);
    if (local === undefined) {
      local = toLocalTime(this.#now, timezone);
      this.#byZone.set(timezone, local);
    }
    return local ?? undefined;
  }
}

function toLocalTime(now: number, timezone: string): LocalTime | null {
  if (!isValidTimeZone(timezone)) return null;
  const dt = DateTime.fromMillis(now, { zone: timezone });
  if (!dt.isValid) return null;
  return {
    timezone,
    weekday: dt.weekday,
    minuteOfDay: dt.hour * 60 + dt.minute,
    iso: dt.toISO({ suppressMilliseconds: true }),
  };
}

const ALL_DAYS_MASK = 0b1111_1110; // bits 1..7, one per ISO weekday
const MINUTES_PER_DAY = 1440;

/** A schedule prepared for fast checks. */
export class CompiledSchedule {
  /** The definition this was compiled from. */
  readonly definition: RuleSchedule;
  readonly #dayMask: number;
  readonly #windows: readonly LocalTimeWindow[];

  /**
   * @param schedule an already-validated schedule; checked again here because a bad schedule would
   *   otherwise silently never (or always) fire.
   * @param ruleId for error messages.
   * @throws InvalidRuleError on an unknown zone, a weekday outside 1-7 or a malformed window.
   */
  constructor(schedule: RuleSchedule, ruleId: string) {
    if (!isValidTimeZone(schedule.timezone)) {
      throw new InvalidRuleError(
        `rule '${ruleId}': schedule timezone '${schedule.timezone}' is not an IANA time zone`,
        { ruleId, path: 'schedule.timezone' },
      );
    }
    let mask = schedule.days === undefined ? ALL_DAYS_MASK : 0;
    schedule.days?.forEach((day, i) => {
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        throw new InvalidRuleError(
          `rule '${ruleId}': schedule day ${String(day)} is not an ISO weekday (1 = Monday ... 7 = Sunday)`,
          { ruleId, path: `schedule.days[${i}]` },
        );
      }
      mask |= 1 << day;
    });
    schedule.windows?.forEach((window, i) => {
      const { startMinute: start, endMinute: end } = window;
      const valid =
        Number.isInteger(start) &&
        Number.isInteger(end) &&
        start >= 0 &&
        start < MINUTES_PER_DAY &&
        end > 0 &&
        end <= MINUTES_PER_DAY &&
        start !== end;
      if (!valid) {
        throw new InvalidRuleError(
          `rule '${ruleId}': schedule window ${String(start)}-${String(end)} must be whole minutes ` +
            'with 0 <= start < 1440, 0 < end <= 1440 and start != end',
          { ruleId, path: `schedule.windows[${i}]` },
        );
      }
    });
    this.definition = schedule;
    this.#dayMask = mask;
    this.#windows = schedule.windows ?? [];
  }

  /** Whether a moment with this local weekday and minute of day is inside the schedule. */
  admits(weekday: number, minuteOfDay: number): boolean {
    const windows = this.#windows;
    if (windows.length === 0) return (this.#dayMask & (1 << weekday)) !== 0;
    for (const { startMinute, endMinute } of windows) {
      if (startMinute < endMinute) {
        if (minuteOfDay >= startMinute && minuteOfDay < endMinute) {
          if ((this.#dayMask & (1 << weekday)) !== 0) return true;
        }
      } else if (minuteOfDay >= startMinute) {
        if ((this.#dayMask & (1 << weekday)) !== 0) return true;
      } else if (minuteOfDay < endMinute) {
        // After midnight in a wrapping window: the window opened the previous day.
        const previous = weekday === 1 ? 7 : weekday - 1;
        if ((this.#dayMask & (1 << previous)) !== 0) return true;
      }
    }
    return false;
  }

  /** Builds the explanation for one check. */
  explain(local: LocalTime, open: boolean): ScheduleExplanation {
    return {
      open,
      timezone: local.timezone,
      localTime: local.iso,
      weekday: local.weekday,
      days: this.definition.days ?? [1, 2, 3, 4, 5, 6, 7],
      windows: this.#windows.map(formatWindow),
    };
  }
}

function formatWindow(window: LocalTimeWindow): string {
  return `${formatMinute(window.startMinute)}-${formatMinute(window.endMinute)}`;
}

function formatMinute(minute: number): string {
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `${hh}:${mm}`;
}
