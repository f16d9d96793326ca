/**
 * When a wait ends: the calendar arithmetic lives in the scheduling component (anchored schedules
 * use the same rules), re-exported here for the journey runtime.
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
  type TimeOfDay,
} from '../scheduling/index.js';
