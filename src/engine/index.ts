export { Engine } from './engine.js';
export type {
  CustomerPredictionScore,
  EngineOptions,
  EnrollOutcome,
  EnrollCommandOptions,
  SavedJourney,
  FeedbackVerification,
  JourneyMetrics,
} from './engine.js';
export { compileProject } from './compile-project.js';
export type { StoredJourneyVersions } from './compile-project.js';
export { processBatch, COMMAND_EVENT_PREFIX } from './processor.js';
export type { ProcessOptions } from './processor.js';
export type { RuntimeProject, RuntimeJourney, RuntimeTrigger, TriggerAction } from './project.js';
export { RoleLease, SCHEDULER_ROLE } from './roles.js';
export type { ProcessRole } from './roles.js';
export { Worker } from './worker.js';
export type { WorkerOptions, PassResult, BatchProcessor } from './worker.js';
export { OutboxDispatcher } from './dispatcher.js';
export type { JourneyEventPublisher, JourneyEventSink, WebhookCaller } from './dispatcher.js';
export { simulate, simulateJourney } from './simulation.js';
export { toWireJourneyEvent } from '../core/index.js';
export type {
  SimulationOptions,
  SimulationResult,
  SimulatedCustomer,
  JourneyTestOptions,
  JourneyTestResult,
} from './simulation.js';
export type { NextBestActionRequest } from './next-best-action.js';
export { trainModelFromStore } from './model-training.js';
export type { GlobalUplift, GoalUplift, JourneyUplift } from './uplift-report.js';
