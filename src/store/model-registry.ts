import { InvalidInputError } from './contract.js';
import type { RegisterModelOptions } from './contract.js';
import { StoreError } from './errors.js';

/**
 * What every backend's `registerModel` shares: the check of its options and the conflict it
 * reports, so both backends refuse the same options and name the same versions the same way.
 */

/** Refuses a name of blanks, an `after` that is not a version (or 0) and a `keep` below 1. */
export function checkModelRegistration(name: string, options: RegisterModelOptions): void {
  if (name.trim() === '') {
    throw new InvalidInputError('a model needs a name', {}, 'MODEL_NAME_INVALID');
  }
  if (options.after !== undefined && (!Number.isInteger(options.after) || options.after < 0)) {
    throw new InvalidInputError(
      `after must be a model version or 0, got ${options.after}`,
      { after: options.after },
      'MODEL_VERSION_INVALID',
    );
  }
  if (options.keep !== undefined && (!Number.isInteger(options.keep) || options.keep < 1)) {
    throw new InvalidInputError(
      `keep must be an integer of at least 1, got ${options.keep}`,
      { keep: options.keep },
      'MODEL_KEEP_INVALID',
    );
  }
}

/**
 * The refusal of a registration made `after` a version that is no longer the newest: the caller
 * reads the newest again and rebuilds its model from it. Not retryable as it stands (the same call
 * fails the same way).
 */
export function modelVersionConflict(name: string, after: number, newest: number): StoreError {
  return new StoreError(
    'STORE_CONFLICT',
    `model '${name}' is at version ${newest}, not ${after}: another version was registered meanwhile`,
    { details: { name, after, newest } },
  );
}
