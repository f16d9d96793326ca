/**
 * Scheduling: the pure time arithmetic of the engine, always in a customer's own time zone — cron
 * timetables, dates relative to a customer field, waits, business hours and quiet-hours windows.
 * Nothing here reads the clock; the instant is always an argument.
 */
export {
  addDuration,
  addToInstant,
  atTimeOfDay,
  customerZone,
  minuteOfDay,
  parseTimeOfDay,
  readAnchor,
  type AnchorProblem,
  type CalendarDuration,
  type TimeOfDay,
} from './calendar.js';
export { CronTimetable } from './cron-timetable.js';
export { anchoredFireAt } from './anchored.js';
export { insideWindow, windowEnd, type DailyWindow } from './daily-window.js';
export { nextOpenMoment, type BusinessHours } from './business-hours.js';
