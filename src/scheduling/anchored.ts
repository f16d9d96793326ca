import {
  addDuration,
  atTimeOfDay,
  readAnchor,
  type AnchorProblem,
  type CalendarDuration,
  type TimeOfDay,
} from './calendar.js';

/** Units that count whole local days or longer: their fires land on a local time of day. */
const DAY_UNITS = /^(d|days?|w|weeks?|mo|months?|q|quarters?|y|years?)$/i;

/**
 * When a schedule relative to a customer date fires ("30 days before contract.end_date"): the
 * anchor read in the customer's zone, moved by the offset in calendar units (so Feb 29 + 1 year is
 * Feb 28, and -30 days keeps the local time across a DST change), then, for offsets in days or
 * longer, set to the schedule's local time of day. Returns why not when the anchor is missing or
 * not a date.
 */
export function anchoredFireAt(
  anchorValue: unknown,
  offset: CalendarDuration,
  zone: string,
  at: TimeOfDay,
): number | AnchorProblem {
  const anchor = readAnchor(anchorValue, zone);
  if (typeof anchor === 'string') return anchor;
  const moved = addDuration(anchor, offset);
  const inDays = offset.unit !== undefined && DAY_UNITS.test(offset.unit);
  return (inDays ? atTimeOfDay(moved, at) : moved).toMillis();
}
