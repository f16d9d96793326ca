import type { Logger } from '../core/index.js';
import type { Engine } from '../engine/index.js';
import type { Metrics } from '../observability/index.js';
import type { EventSource } from '../sources/index.js';

/** What route handlers work with. */
export interface ApiContext {
  engine: Engine;
  metrics: Metrics;
  log: Logger;
  /** Stream sources the server runs (reported by `/healthz`). */
  sources: readonly EventSource[];
}
