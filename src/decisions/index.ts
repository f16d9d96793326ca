/**
 * The decision engine's models, trained and scored from CSV files: a churn model (regularised
 * logistic regression with per-prediction factors) and a next-best-action policy learned from a
 * randomised experiment. Only what the CLI needs is exported; the rest is internal.
 */
// The bandits of the live engine (send time, channel, content) and what they learn from.
export { EngagementLearning, DAYPARTS, mergeLearningSnapshots } from './engagement-learning.js';
export type {
  LearningOptions,
  LearnedEngagement,
  LearnedSend,
  PopulationRate,
  UnsavedLearning,
  VariantCounts,
} from './engagement-learning.js';
export { LEARNING_SNAPSHOT_FORMAT, parseLearningSnapshot } from './learning-snapshot.js';
export type { LearningSnapshot, SnapshotCells, SnapshotVariant } from './learning-snapshot.js';
export { learningHeadline, learningMetrics } from './learning-metrics.js';
export { optimalSendTime, sendTimePosterior } from './send-time.js';
export type { SendTimeDecision, SendTimeRequest, SendTimeSettings } from './send-time.js';
export { rankChannels } from './channel-bandit.js';
export type { ChannelBanditRequest, ChannelRanking, RankedChannel } from './channel-bandit.js';
export { chooseVariant } from './content-bandit.js';
export type { PersonalizerSettings, VariantChoice, VariantOption } from './content-bandit.js';
export { randomFor, seedOf } from './beta.js';
export { HOURS_PER_WEEK, hourOfWeek, cellLabel } from './hour-of-week.js';
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
  modelView,
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
export { ipsValue, seededRandom, shuffled } from './metrics.js';
export { recordActivity, activityFeatures, ACTIVITY_DAYS, ACTIVITY_WINDOWS } from './activity.js';
export type { ActivityCounter, ActivityRecord } from './activity.js';
