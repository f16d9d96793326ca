/**
 * The journey runtime: a pure state machine for enrollments.
 *
 * `compileJourney` turns a definition into a `CompiledJourney` once; `enroll` decides whether a
 * customer enters and runs the first steps; `advance` applies one input (event, timer, profile
 * change, operator action, version migration) to an enrollment. Both return the new enrollment and
 * a list of effects for the orchestrator to commit together (transactional outbox). Nothing here
 * does I/O or reads the clock: time, ids and randomness are inputs. Semantics: docs/journeys.md.
 */
export {
  compileJourney,
  compileSendTime,
  templateContents,
  DEFAULT_SEND_TIME_WINDOW_MS,
  type CompiledSendStep,
  type ContentAlternative,
  type VariantPersonalizer,
  type CompileJourneyOptions,
  type CompiledJourney,
  type CompiledStage,
  type CompiledStep,
  type CompiledGoal,
  type ResolvedTarget,
} from './compile.js';
export type {
  JourneyDefinition,
  JourneyDuration,
  StageDefinition,
  StepDefinition,
  StepType,
  StepTarget,
  MessagePriority,
  ReEntryPolicy,
  JourneyEntryDefinition,
  JourneyExitDefinition,
  JourneyGoalDefinition,
  SendStepDefinition,
  SendTimeDefinition,
  WaitStepDefinition,
  WaitForEventStepDefinition,
  AwaitedEventDefinition,
  BranchStepDefinition,
  BranchArmDefinition,
  SplitStepDefinition,
  SplitVariantDefinition,
  TaskStepDefinition,
  AlertStepDefinition,
  WebhookStepDefinition,
  UpdateCustomerStepDefinition,
  GotoStepDefinition,
  ExitStepDefinition,
  TemplateDefinition,
  TemplateVariantDefinition,
} from './definition.js';
export {
  RUNTIME_EVENT_TYPES,
  type RuntimeEventType,
  type JourneyEffect,
  type JourneyEffectType,
  type SendMessageEffect,
  type ScheduleTimerEffect,
  type CancelTimerEffect,
  type JourneyEventEffect,
  type CreateTaskEffect,
  type CreateAlertEffect,
  type CallWebhookEffect,
  type WebhookCall,
  type CustomerPatch,
  type ProfileOperation,
} from './effects.js';
export {
  enroll,
  inGlobalHoldout,
  inJourneyHoldout,
  type EnrollOptions,
  type EnrollResult,
  type EnrollmentTrigger,
  type RejectionReason,
} from './enroll.js';
export { advance, type AdvanceResult, type IgnoredReason } from './advance.js';
export {
  DEFAULT_MAX_STEPS,
  type JourneyCustomer,
  type JourneyInput,
  type JourneyInputKind,
  type JourneyInputEvent,
  type RuntimeContext,
} from './inputs.js';
export { InvalidJourneyError, type JourneyProblem } from './errors.js';
export { journeyHash, stableStringify, unitInterval } from './hashing.js';
export { SPLIT_HOLDOUT, chooseContent, contentPoint, readField } from './steps.js';
export { copyFields, eventView, isoInstant, toJsonValue } from './content.js';
export {
  readState as readRuntimeState,
  type RuntimeState,
  type WaitState,
  type PendingTimer,
} from './state.js';
export { JourneyScenario, type ScenarioOptions } from './scenario.js';
