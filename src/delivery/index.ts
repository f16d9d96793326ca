export { RecordingProvider, InAppInbox } from './channel.js';
export {
  JourneyEventWebhooks,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type JourneyEventWebhooksOptions,
} from './journey-webhooks.js';
export {
  DEFAULT_RECIPIENT_FIELDS,
  fitToLimit,
  hasOptedOut,
  needsAddress,
  recipientsOf,
} from './addressing.js';
export {
  ChannelRoute,
  buildChannelRoute,
  configuredProviders,
  providerSettingProblems,
  routeOver,
  type RouteDependencies,
  type RouteProvider,
  type RouteResult,
} from './channel-route.js';
export {
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER,
  type CircuitBreakerSettings,
  type CircuitState,
  type CircuitTransition,
} from './circuit-breaker.js';
export { Bulkhead } from './bulkhead.js';
export {
  FALLBACK_COMMAND,
  MessageDispatcher,
  messageEvent,
  outgoing,
  type MessageDispatcherOptions,
  type MessagePayload,
} from './message-dispatcher.js';
export {
  BUILT_IN_RETRY_POLICY,
  backoffDelayMs,
  decideRetry,
  resolveRetryPolicy,
  type RetryDecision,
} from './retry-plan.js';
export {
  ProviderConfigError,
  categoryOfHttpStatus,
  categoryOfNetworkError,
  parseRetryAfter,
  requireSecret,
  type DeliveryProvider,
  type FailureCategory,
  type OutgoingMessage,
  type PermanentReason,
  type ProviderDefinition,
  type ProviderDependencies,
  type ProviderResult,
  type SecretSource,
} from './provider.js';
export { DeliveryLanes } from './delivery-lanes.js';
export { BUILT_IN_PROVIDERS } from './providers/index.js';
export {
  DEAD_LETTER_RETRY_COMMAND,
  DeadLetterStateError,
  DeadLetterCustomerDeletedError,
  abandonDeadLetter,
  deadLetterJson,
  retryDeadLetter,
} from './dead-letters.js';
export {
  compileContactPolicy,
  decideContact,
  effectiveCap,
  lastFeedback,
  type CalendarCaps,
  type Contact,
  type ContactDecision,
  type ContactPolicy,
  type Feedback,
  type MessagePriority,
} from './contact-policy.js';
export {
  FEEDBACK_COMMAND,
  FEEDBACK_KINDS,
  recordFeedback,
  type DeliveryFeedback,
  type FeedbackResult,
} from './feedback.js';
export { TrackingLinks, type TrackingPurpose } from './tracking.js';
export {
  AUTO_CHANNEL,
  selectChannel,
  type ChannelCandidate,
  type ChannelDecision,
  type EngagementSample,
  type Urgency,
} from './channel-selection.js';
export { verifySendgridSignature, verifyTwilioSignature } from './feedback-signatures.js';
