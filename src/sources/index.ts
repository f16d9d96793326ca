/**
 * Event sources: streams the server consumes events from besides HTTP (today NATS JetStream),
 * each validated exactly like `POST /v1/events` and acknowledged only after its events are
 * committed.
 */
export { NatsEventSource, MAX_EVENTS_PER_COMMIT } from './nats-source.js';
export type { NatsSourceOptions, NatsCredentials } from './nats-source.js';
export { decodeMessage } from './message-events.js';
export type { StreamMessage, DecodedMessage, MessageRejection } from './message-events.js';
export { SourceError } from './source.js';
export type {
  EventSource,
  IngestEvents,
  SourceHealth,
  SourceMetrics,
  SourceState,
  SourceErrorCode,
} from './source.js';
export { openSources } from './open-sources.js';
export type { OpenSourcesOptions } from './open-sources.js';
