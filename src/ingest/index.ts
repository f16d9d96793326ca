export {
  parseEventInput,
  parseEventBatch,
  parseInstant,
  payloadProblems,
  BatchTooLargeError,
  MAX_EVENTS_PER_BATCH,
  MAX_IDENTIFIER_LENGTH,
  MAX_PAYLOAD_DEPTH,
} from './event-input.js';
export type { EventProblem } from './event-input.js';
export { parseCsv, inferColumnType, convertCell } from './csv.js';
export type { CsvProblem, CsvRow, ColumnType } from './csv.js';
export { parseCustomerFile } from './customer-file.js';
export type { CustomerFile, CustomerInput, FileProblem } from './customer-file.js';
