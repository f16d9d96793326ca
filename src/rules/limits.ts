/**
 * Rule limits: how often a rule may fire, per customer and across all customers.
 *
 * The engine is pure, so past fires come in as data (`RuleFireHistory`, usually backed by the
 * store) and the engine adds the fires it decides within the batch it is evaluating: the same
 * customer may appear several times in one batch (several events), and a global limit is shared by
 * every customer of the batch. Fires of the current batch happen at `now`, so they fall within
 * every window, whatever the window's alignment.
 */
import {
  InvalidRuleError,
  type CustomerRuleLimits,
  type GlobalRuleLimits,
  type RuleLimits,
} from './definition.js';

/**
 * How often a rule already fired for one customer, per window ending at the batch's `now`.
 * Omitted windows count as zero. How the windows are aligned (rolling 24 h / 7 d / 30 d, or calendar
 * periods) is the history provider's choice and its documentation's job.
 */
export interface CustomerFireCounts {
  readonly daily?: number | undefined;
  readonly weekly?: number | undefined;
  readonly monthly?: number | undefined;
  /** Over the customer's whole history. */
  readonly total?: number | undefined;
}

/** How often a rule already fired for all customers together, per window ending at `now`. */
export interface GlobalFireCounts {
  readonly per_minute?: number | undefined;
  readonly per_hour?: number | undefined;
  readonly per_day?: number | undefined;
}

/** Past fires, as pure input to `RuleSet.evaluate` (only consulted for rules with `limits`). */
export interface RuleFireHistory {
  /** Past fires of `ruleId` for `customerId`; `undefined` = none. */
  customerFires(customerId: string, ruleId: string): CustomerFireCounts | undefined;
  /** Past fires of `ruleId` for everyone; `undefined` = none. */
  globalFires(ruleId: string): GlobalFireCounts | undefined;
}

/** Plain-data form of a history: customer id → rule id → counts, and rule id → global counts. */
export interface FireCountsData {
  readonly customers?: Readonly<Record<string, Readonly<Record<string, CustomerFireCounts>>>>;
  readonly global?: Readonly<Record<string, GlobalFireCounts>>;
}

/**
 * A `RuleFireHistory` over plain data (tests, simulation, a store that loads counts up front).
 * Only own properties are read, so ids like `__proto__` or `constructor` are ordinary ids.
 */
export function fireHistoryFromCounts(data: FireCountsData): RuleFireHistory {
  const customers = new Map<string, Map<string, CustomerFireCounts>>();
  for (const [customerId, byRule] of Object.entries(data.customers ?? {})) {
    customers.set(customerId, new Map(Object.entries(byRule)));
  }
  const global = new Map(Object.entries(data.global ?? {}));
  return {
    customerFires: (customerId, ruleId) => customers.get(customerId)?.get(ruleId),
    globalFires: (ruleId) => global.get(ruleId),
  };
}

/** Which limit stopped a rule, with the count that reached it: part of a rule's explanation. */
export interface LimitExplanation {
  readonly scope: 'per_customer' | 'global';
  readonly window: keyof CustomerRuleLimits | keyof GlobalRuleLimits;
  /** The configured maximum. */
  readonly max: number;
  /** Fires so far in the window: from the history plus this batch. */
  readonly count: number;
  /** The part of `count` decided earlier in this batch. */
  readonly firedInBatch: number;
}

const CUSTOMER_WINDOWS = ['daily', 'weekly', 'monthly', 'total'] as const;
const GLOBAL_WINDOWS = ['per_minute', 'per_hour', 'per_day'] as const;

/**
 * Checks that every configured maximum is a non-negative integer (0 = never fires).
 *
 * @throws InvalidRuleError naming the offending limit.
 */
export function checkRuleLimits(limits: RuleLimits, ruleId: string): void {
  const check = (value: number | undefined, path: string): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw new InvalidRuleError(
        `rule '${ruleId}': ${path} must be a whole number >= 0, got ${String(value)}`,
        { ruleId, path },
      );
    }
  };
  for (const window of CUSTOMER_WINDOWS) {
    check(limits.per_customer?.[window], `limits.per_customer.${window}`);
  }
  for (const window of GLOBAL_WINDOWS) check(limits.global?.[window], `limits.global.${window}`);
}

/**
 * Fires decided so far in one batch, per rule (global) and per customer and rule. Only rules with
 * limits are tallied, so a batch without limited rules allocates nothing here.
 */
export class BatchFireTally {
  readonly #ruleCount: number;
  readonly #global: Int32Array;
  readonly #perCustomer = new Map<string, Int32Array>();

  /** @param ruleCount number of rules in the rule set (rules are identified by index). */
  constructor(ruleCount: number) {
    this.#ruleCount = ruleCount;
    this.#global = new Int32Array(ruleCount);
  }

  /** Records one fire of rule `ruleIndex` for `customerId`. */
  record(ruleIndex: number, customerId: string): void {
    this.#global[ruleIndex] = (this.#global[ruleIndex] ?? 0) + 1;
    let counts = this.#perCustomer.get(customerId);
    if (counts === undefined) {
      counts = new Int32Array(this.#ruleCount);
      this.#perCustomer.set(customerId, counts);
    }
    counts[ruleIndex] = (counts[ruleIndex] ?? 0) + 1;
  }

  /** Fires of rule `ruleIndex` in this batch, all customers. */
  global(ruleIndex: number): number {
    return this.#global[ruleIndex] ?? 0;
  }

  /** Fires of rule `ruleIndex` for `customerId` in this batch. */
  customer(ruleIndex: number, customerId: string): number {
    return this.#perCustomer.get(customerId)?.[ruleIndex] ?? 0;
  }
}

/**
 * The first limit (per-customer windows first, then global; shortest window first) that one more
 * fire would exceed, or `undefined` when the rule may fire.
 */
export function reachedLimit(
  limits: RuleLimits,
  ruleId: string,
  ruleIndex: number,
  customerId: string,
  history: RuleFireHistory | undefined,
  tally: BatchFireTally,
): LimitExplanation | undefined {
  const perCustomer = limits.per_customer;
  if (perCustomer !== undefined) {
    const past = history?.customerFires(customerId, ruleId);
    const inBatch = tally.customer(ruleIndex, customerId);
    for (const window of CUSTOMER_WINDOWS) {
      const max = perCustomer[window];
      if (max === undefined) continue;
      const count = (past?.[window] ?? 0) + inBatch;
      if (count >= max) {
        return { scope: 'per_customer', window, max, count, firedInBatch: inBatch };
      }
    }
  }
  const global = limits.global;
  if (global !== undefined) {
    const past = history?.globalFires(ruleId);
    const inBatch = tally.global(ruleIndex);
    for (const window of GLOBAL_WINDOWS) {
      const max = global[window];
      if (max === undefined) continue;
      const count = (past?.[window] ?? 0) + inBatch;
      if (count >= max) return { scope: 'global', window, max, count, firedInBatch: inBatch };
    }
  }
  return undefined;
}
