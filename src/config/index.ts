/**
 * The config language: YAML files (one, or a directory merged) → one zod schema → a compiled,
 * located `WaymarkConfig`. Everything other components need about config comes from here.
 * Reference: docs/config.md.
 */
export {
  loadConfig,
  loadConfigFromString,
  validateConfig,
  validateConfigSources,
  listConfigFiles,
  type ConfigSource,
  type LoadedConfig,
  type SourceLocation,
  type ValidationResult,
} from './loader.js';
export {
  ConfigError,
  ConfigNotFoundError,
  formatPath,
  formatProblem,
  type ConfigPath,
  type ConfigProblem,
  type ProblemSeverity,
} from './problems.js';
export { configJsonSchema } from './json-schema.js';
export { eventReadsWithoutEvent } from './journey-event-reads.js';
export {
  configSchema,
  configShape,
  SECTION_NAMES,
  serverSchema,
  defaultsSchema,
  type ProjectDefaults,
  type SectionName,
  type ServerSettings,
  type WaymarkConfig,
  type WaymarkConfigInput,
} from './config-schema.js';
export type { NatsSourceSettings, SourceSettings } from './source-schema.js';
export {
  CONDITION_OPERATORS,
  conditionGroupSchema,
  conditionSchema,
  type ConditionOperator,
  type ConfigCondition,
  type ConfigConditionGroup,
} from './conditions-schema.js';
export {
  ACTION_TYPES,
  ALERT_SEVERITIES,
  BUILTIN_ACTIONS,
  MESSAGE_PRIORITIES,
  actionSchema,
  parseActionReference,
  type Action,
  type ActionReference,
  type ActionType,
  type BuiltinAction,
} from './action-schema.js';
export {
  RESERVED_TARGETS,
  STEP_TYPES,
  journeySchema,
  stepSchema,
  type JourneyDefinition,
  type Stage,
  type Step,
  type StepType,
} from './journey-schema.js';
export {
  PREDICTION_USES,
  TRIGGER_KINDS,
  predictionSchema,
  scheduleSchema,
  triggerSchema,
  type EvaluationFrequency,
  type Prediction,
  type Schedule,
  type Trigger,
} from './trigger-schema.js';
export { DEFAULT_RULE_PRIORITY, WEEKDAYS, ruleSchema, type Rule } from './rule-schema.js';
export {
  CHANNEL_TYPES,
  channelsSchema,
  fatigueSchema,
  rateLimitsSchema,
  templateSchema,
  type ChannelConfig,
  type ChannelType,
  type FatigueConfig,
  type MessageTemplate,
  type RateLimits,
} from './delivery-schema.js';
export {
  BACKOFF_TYPES,
  defaultBackoff,
  retryPolicySchema,
  type Backoff,
  type RetryPolicy,
  type RetryReference,
} from './retry-schema.js';
export {
  ALERT_RULE_SEVERITIES,
  PANEL_TYPES,
  alertSchema,
  dashboardSchema,
  webhookSchema,
  type AlertRule,
  type DashboardConfig,
  type WebhookConfig,
} from './observability-schema.js';
export {
  JOURNEY_EVENT_TYPES,
  eventPatternMatches,
  eventPatternProblem,
  type JourneyEventType,
} from './event-types.js';
export {
  parseDuration,
  durationFromMs,
  DURATION_EXAMPLES,
  type Duration,
  type DurationUnit,
} from './duration.js';
export { parseRate, type Rate } from './rate.js';
export { parseTimeWindow, parseTimeOfDay, type TimeOfDay, type TimeWindow } from './time-window.js';
export { parsePercentage } from './percentage.js';
export { parseCron, type CronExpression } from './cron-expression.js';
export { parseTimeZone, parseZoneName, type TimeZoneSetting } from './time-zone.js';
export {
  parseAlertCondition,
  parsePanelThreshold,
  type AlertCondition,
  type PanelThreshold,
  type ThresholdOperator,
} from './threshold.js';
export type { ParseResult } from './parse-result.js';
export {
  modelSchema,
  modelTrainingSchema,
  nextBestActionSchema,
  nbaActionSchema,
} from './decision-schema.js';
export type { ModelConfig, NextBestActionConfig, NbaActionConfig } from './decision-schema.js';
