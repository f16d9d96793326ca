/**
 * Waymark's public surface: the engine, the config language and its types, the specification's
 * interfaces, and the pure building blocks (conditions, templates, rules) a user may want to call
 * directly. Everything not exported here is internal and may change without notice.
 */

// The engine and its deployable pieces.
export { Engine, simulate, simulateJourney, toWireJourneyEvent } from './engine/index.js';
export type {
  EngineOptions,
  JourneyMetrics,
  SimulationOptions,
  SimulationResult,
  SimulatedCustomer,
  JourneyTestOptions,
  JourneyTestResult,
  JourneyEventSink,
} from './engine/index.js';
export { openStore } from './store/index.js';
export { buildApi } from './api/index.js';
export type { ApiOptions } from './api/index.js';
export { createMetrics } from './observability/index.js';
export type { Metrics } from './observability/index.js';
export { RecordingProvider, InAppInbox, BUILT_IN_PROVIDERS } from './delivery/index.js';
export type {
  DeliveryProvider,
  FailureCategory,
  OutgoingMessage,
  ProviderDefinition,
  ProviderResult,
} from './delivery/index.js';

// The config language.
export {
  loadConfig,
  loadConfigFromString,
  validateConfig,
  configJsonSchema,
  ConfigError,
  formatProblem,
} from './config/index.js';
export type {
  LoadedConfig,
  ConfigProblem,
  WaymarkConfig,
  WaymarkConfigInput,
  JourneyDefinition,
  Rule,
  Trigger,
  Schedule,
  Duration,
  Rate,
  TimeWindow,
} from './config/index.js';

// Conditions, templates and rules: pure, usable on their own.
export { compileConditions, evaluateConditions, explainConditions } from './conditions/index.js';
export type {
  Condition,
  ConditionGroup,
  ConditionContext,
  CompiledConditions,
  Operator,
} from './conditions/index.js';
export { compileTemplate, renderParams } from './templates/index.js';
export { compileRuleSet, priorityBand } from './rules/index.js';
export type { RuleDefinition, RuleSet, FiredRule, SkippedRule } from './rules/index.js';

// Core: errors, time, ids, the storage contract and the specification's interfaces.
export {
  WaymarkError,
  InvalidInputError,
  NotFoundError,
  VirtualClock,
  systemClock,
  randomIds,
  sequentialIds,
} from './core/index.js';
export type {
  Clock,
  IdSource,
  Logger,
  Store,
  Instant,
  CustomerEvent,
  BehaviorEvent,
  ServiceEvent,
  JourneyEvent,
  EventPublisher,
  AIPrediction,
  Interaction,
  NBActionRequest,
  NBActionResponse,
  Channel,
  ChannelDecision,
  DeadLetterItem,
  CustomerRecord,
  EnrollmentRecord,
  MessageRecord,
  JourneyEventRecord,
} from './core/index.js';
