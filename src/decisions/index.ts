/**
 * The decision engine's models, trained and scored from CSV files: a churn model (regularised
 * logistic regression with per-prediction factors) and a next-best-action policy learned from a
 * randomised experiment. Only what the CLI needs is exported; the rest is internal.
 */
export { parseTable } from './table.js';
export type { Table } from './table.js';
export { trainChurn, scoreChurn } from './churn.js';
export type { ChurnOptions, ChurnScore } from './churn.js';
export { trainNba, decide } from './nba.js';
export type { NbaOptions, Decision } from './nba.js';
export { parseModelFile, MODEL_FORMAT_VERSION } from './model-file.js';
export type { ModelFile, ChurnModelFile, NbaModelFile } from './model-file.js';
export {
  scoreProfile,
  actionProbabilities,
  profilesTable,
  labelCell,
  PROFILE_ID_COLUMN,
} from './profile-scoring.js';
export type { ProfileScore, ProfileTableOptions } from './profile-scoring.js';
export { decideNextBestAction, ENGAGEMENT_WINDOW_MS, PRIOR_WEIGHT } from './next-best-action.js';
export type {
  NbaCandidate,
  NbaConstraints,
  NbaContact,
  NbaDecision,
  NbaInput,
  NbaTiming,
  RankedAction,
} from './next-best-action.js';
export { liftOf, wilson, normalCdf } from './uplift.js';
export type { GroupCounts, GroupRate, Lift } from './uplift.js';
