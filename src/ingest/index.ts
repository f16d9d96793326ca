export {
  parseEventInput,
  parseEventBatch,
  parseInstant,
  BatchTooLargeError,
  MAX_EVENTS_PER_BATCH,
  MAX_IDENTIFIER_LENGTH,
} from './event-input.js';
export type { EventProblem } from './event-input.js';
