/**
 * Rule actions, compiled once per rule set and resolved per fired rule: params rendered from the
 * customer's context, the delay turned into an instant, the retry setting handed on.
 */
import type { ConditionContext } from '../conditions/index.js';
import { WaymarkError } from '../core/index.js';
import { compileParams, type CompiledParams } from '../templates/index.js';
import {
  InvalidRuleError,
  type RuleActionDefinition,
  type RuleDuration,
  type RuleRetry,
} from './definition.js';

/** An action of a fired rule, ready to be scheduled for one customer. */
export interface ResolvedAction {
  /** The action type, as defined. */
  readonly type: string;
  /**
   * Params with every placeholder rendered from the context. A value without placeholders may be
   * the very object of the definition, shared by every customer: treat params as read-only.
   */
  readonly params: Readonly<Record<string, unknown>>;
  /** Placeholder paths that had no value in the context (empty when all resolved). */
  readonly missing: readonly string[];
  /** When to run the action: the batch's `now`, plus the action's `delay` if it has one. */
  readonly runAt: number;
  /** The action's delay as defined, when it has one. */
  readonly delay?: RuleDuration | undefined;
  /** The action's retry setting, untouched, when it has one. */
  readonly retry?: RuleRetry | undefined;
}

const NO_MISSING: readonly string[] = Object.freeze([]);

/**
 * Whether `value` has a string that the template compiler would treat as a template (it leaves
 * strings without `{{` or `}}` untouched), anywhere inside arrays and objects.
 */
function holdsPlaceholder(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('}}');
  if (Array.isArray(value)) return value.some(holdsPlaceholder);
  if (typeof value === 'object' && value !== null) {
    return Object.values(value).some(holdsPlaceholder);
  }
  return false;
}

/** One action with its params compiled. */
export class CompiledAction {
  readonly #definition: RuleActionDefinition;
  readonly #render: CompiledParams;
  /** The params when they hold no placeholder: rendered once, shared by every customer. */
  readonly #constant: { readonly value: unknown; readonly missing: readonly string[] } | undefined;
  readonly #delayMs: number;

  /**
   * @param path the action's path in the rule (`actions[1]`), for errors.
   * @throws InvalidRuleError on a missing type, a negative or non-finite delay, or malformed
   *   placeholders in params (the template compiler's error is the cause, its problems the
   *   details' `problems`).
   */
  constructor(definition: RuleActionDefinition, ruleId: string, path: string) {
    if (typeof definition.type !== 'string' || definition.type === '') {
      throw new InvalidRuleError(`rule '${ruleId}': ${path}.type must be a non-empty string`, {
        ruleId,
        path: `${path}.type`,
      });
    }
    const delay = definition.delay;
    if (delay !== undefined && !(Number.isFinite(delay.ms) && delay.ms >= 0)) {
      throw new InvalidRuleError(
        `rule '${ruleId}': ${path}.delay must be a finite duration >= 0, got '${delay.text}'`,
        { ruleId, path: `${path}.delay` },
      );
    }
    this.#definition = definition;
    try {
      this.#render = compileParams(definition.params ?? {});
    } catch (error) {
      if (!(error instanceof WaymarkError)) throw error;
      throw new InvalidRuleError(
        `rule '${ruleId}': ${path}.params: ${error.message}`,
        { ruleId, path: `${path}.params`, problems: error.details },
        error,
      );
    }
    this.#delayMs = delay?.ms ?? 0;
    const params = definition.params ?? {};
    this.#constant = holdsPlaceholder(params) ? undefined : { value: params, missing: NO_MISSING };
  }

  /** Renders the action for one context at the batch's `now`. */
  resolve(context: ConditionContext, now: number): ResolvedAction {
    const { value, missing } = this.#constant ?? this.#render(context);
    const definition = this.#definition;
    return {
      type: definition.type,
      params: value as Readonly<Record<string, unknown>>,
      // Most renders miss nothing; one shared empty list keeps results small.
      missing: missing.length === 0 ? NO_MISSING : missing,
      runAt: now + this.#delayMs,
      delay: definition.delay,
      retry: definition.retry,
    };
  }
}
