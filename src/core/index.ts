export * from './errors.js';
export * from './clock.js';
export * from './spec.js';
export type * from './model.js';
export type * from './store.js';
export { emptyWorkResult } from './store.js';
export * from './ids.js';
export * from './log.js';
export * from './time-zone.js';
