/**
 * Waymark's public surface: the engine, the config types and the specification's interfaces.
 * Everything not exported here is internal and may change without notice.
 */
export {
  WaymarkError,
  InvalidInputError,
  NotFoundError,
  VirtualClock,
  systemClock,
} from './core/index.js';
export type { Clock } from './core/index.js';
