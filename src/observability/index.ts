/**
 * Observability: Prometheus metrics in a registry of their own, fed by committed journey events
 * (the engine's sinks), by the API (ingestion, HTTP) and, at scrape time, by the store.
 */
export { createMetrics } from './metrics.js';
export type {
  Metrics,
  MetricsOptions,
  IngestResult,
  ProviderHealth,
  SourceMessageOutcome,
} from './metrics.js';
