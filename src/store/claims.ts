import { InvalidInputError } from './contract.js';
import type { ClaimOptions, CustomerWork, MessageStatus, StoredEvent } from './contract.js';

/**
 * What every backend's `claimWork` shares: the check of its options and the empty work of a
 * customer it is about to fill, so both backends refuse the same options the same way.
 */

/** A customer's work with nothing in it yet but `events`. */
export function emptyWork(customerId: string, events: StoredEvent[] = []): CustomerWork {
  return {
    customerId,
    customer: null,
    events,
    timers: [],
    enrollments: [],
    triggerStates: {},
    schedulePlans: [],
    contacts: [],
  };
}

/** Refuses negative or fractional budgets and a lease that is not a positive duration. */
export function checkClaimOptions(options: ClaimOptions): void {
  const counts = { maxEvents: options.maxEvents, maxTimers: options.maxTimers };
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new InvalidInputError(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (!Number.isFinite(options.leaseMs) || options.leaseMs <= 0) {
    throw new InvalidInputError(`leaseMs must be a positive number, got ${options.leaseMs}`);
  }
}

/**
 * The statuses of a message in a customer's contact ledger (`ClaimOptions.contactsSince`,
 * `Store.listContacts`): it reached them or will; failed, suppressed and dead-lettered ones did not.
 */
export const CONTACT_STATUSES: readonly MessageStatus[] = [
  'queued',
  'deferred',
  'sent',
  'delivered',
  'simulated',
];

/** `CONTACT_STATUSES` as an SQL list, for `status IN (...)`. */
export const CONTACT_STATUSES_SQL = CONTACT_STATUSES.map((s) => `'${s}'`).join(', ');
