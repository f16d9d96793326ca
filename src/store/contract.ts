/**
 * The core's storage contract and records, as the store's backends see them.
 *
 * Backends live in sub-folders (`sqlite/`, later `postgres/`), and the lint rule that keeps
 * components apart reads any `../../` import as a deep import into another component; importing
 * the core once here, one level up, keeps that rule meaningful instead of silencing it per file.
 */
export * from '../core/index.js';
