/**
 * The condition compiler: turns a condition group into the source of one specialised function,
 * built once with `new Function`.
 *
 * Safety rests on one rule: nothing from config is ever written into the source except
 * property names passed through `JSON.stringify` (a string literal, whatever the name holds).
 * Values — strings, numbers, lists, dates — live in the constants array `k` and are referred to
 * by generated identifiers (`k0`, `k1`, ...). Operators and logic are closed enums mapped to
 * fixed source text. So a value such as `"); process.exit(1); ("` is only ever data.
 *
 * Speed rests on specialising by the value's type at compile time: `usage_percentage gte 80`
 * becomes a property read, a `typeof` check and a comparison, with no call, no allocation and
 * no per-condition closure. Less common kinds (deep equality, lists, dates in fields) call the
 * reference semantics in `semantics.ts` through `h`.
 */
import { assertNever } from '../core/index.js';
import { resolveFieldPath } from './field-path.js';
import { assertValidConditions, evaluateGroup, isGroup } from './interpreter.js';
import {
  contains,
  dateValue,
  equals,
  matchesEq,
  fieldInstant,
  isIn,
  type OrderOperator,
} from './semantics.js';
import type {
  CompileOptions,
  CompiledConditions,
  Condition,
  ConditionGroup,
  FieldRoot,
} from './types.js';

/** What generated code may call; passed in as `h`. */
const runtime = { contains, equals, fieldInstant, isIn, matchesEq } as const;

/** The generated source and the constants it refers to; exposed for tests and debugging. */
export interface GeneratedConditions {
  /** Body of `new Function('k', 'h', source)`, which returns the predicate. */
  readonly source: string;
  /** The constants `k`: configured values, pre-parsed instants and lookup sets. */
  readonly constants: readonly unknown[];
}

/** Source variable names per root: the raw value and the same value only if it is an object. */
const ROOT_VARIABLES: Record<FieldRoot, { raw: string; object: string }> = {
  customer: { raw: 'rc', object: 'c' },
  event: { raw: 're', object: 'e' },
  journey: { raw: 'rj', object: 'j' },
};

const ORDER_SOURCE: Record<OrderOperator, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

const ABSENT = `(v === undefined || v === null || typeof v === 'function')`;

/**
 * A list whose elements a `Set` can test exactly as `equals` would for a scalar field: non-date
 * strings, numbers other than NaN, and booleans (absent elements can never match a present
 * scalar, so they are skipped).
 */
function lookupSet(list: readonly unknown[]): Set<unknown> | undefined {
  const set = new Set<unknown>();
  for (const element of list) {
    if (element === null || element === undefined) continue;
    if (typeof element === 'boolean') set.add(element);
    else if (typeof element === 'number' && !Number.isNaN(element)) set.add(element);
    else if (typeof element === 'string' && dateValue(element) === undefined) set.add(element);
    else return undefined;
  }
  return set;
}

class Emitter {
  readonly #constants: unknown[] = [];
  readonly #roots = new Set<string>();
  readonly #options: CompileOptions;

  constructor(options: CompileOptions) {
    this.#options = options;
  }

  /** A generated identifier that reads `value` from the constants. */
  constant(value: unknown): string {
    this.#constants.push(value);
    return `k${this.#constants.length - 1}`;
  }

  /**
   * Source reading the own property `name` of the object in variable `container` (a generated
   * identifier). Plain objects take the fast path: a value that differs from what
   * `Object.prototype` holds under that name cannot be inherited, and V8 folds both the
   * prototype check and `Object.prototype[name]` to constants once it knows the object's shape.
   */
  #own(container: string, name: string): string {
    const key = JSON.stringify(name);
    return (
      `((v = ${container}[${key}]) === undefined ? undefined : ` +
      `Object.getPrototypeOf(${container}) === Object.prototype ` +
      `? (v !== Object.prototype[${key}] || Object.hasOwn(${container}, ${key}) ? v : undefined) ` +
      `: Object.hasOwn(${container}, ${key}) ? v : undefined)`
    );
  }

  #readSegments(root: FieldRoot, segments: readonly string[]): string {
    const variables = ROOT_VARIABLES[root];
    const [first, ...rest] = segments;
    this.#roots.add(root);
    if (first === undefined) return variables.raw;
    let source = `(${variables.object} === undefined ? undefined : ${this.#own(variables.object, first)})`;
    for (const segment of rest) {
      source =
        `((v = ${source}), typeof v === 'object' && v !== null ` +
        `? ((o = v), ${this.#own('o', segment)}) : undefined)`;
    }
    return source;
  }

  /** Source evaluating to the field's value (possibly absent). */
  #read(field: string): string {
    const path = resolveFieldPath(field, this.#options);
    const primary = this.#readSegments(path.root, path.segments);
    if (path.fallback === undefined) return primary;
    const fallback = this.#readSegments(path.root, path.fallback);
    return `((v = ${primary}), ${ABSENT} ? ${fallback} : v)`;
  }

  #equals(value: unknown): string {
    if (value === null) return ABSENT;
    // A list field matches a single value when some element equals it (see `matchesEq`); the
    // scalar comparison comes first so the common case costs nothing extra.
    if (typeof value === 'number' || typeof value === 'boolean') {
      const k = this.constant(value);
      return `(v === ${k} || (Array.isArray(v) && h.matchesEq(v, ${k})))`;
    }
    if (typeof value === 'string') {
      const instant = dateValue(value);
      const k = this.constant(value);
      return instant === undefined
        ? `(v === ${k} || (Array.isArray(v) && h.matchesEq(v, ${k})))`
        : `(h.fieldInstant(v) === ${this.constant(instant)} || (Array.isArray(v) && h.matchesEq(v, ${k})))`;
    }
    if (value instanceof Date) return `h.matchesEq(v, ${this.constant(value)})`;
    return `h.equals(v, ${this.constant(value)})`;
  }

  #order(operator: OrderOperator, value: unknown): string {
    const symbol = ORDER_SOURCE[operator];
    if (typeof value === 'number') {
      return `typeof v === 'number' && v ${symbol} ${this.constant(value)}`;
    }
    const instant = dateValue(value);
    if (instant !== undefined) return `h.fieldInstant(v) ${symbol} ${this.constant(instant)}`;
    if (typeof value === 'string') {
      return `typeof v === 'string' && v ${symbol} ${this.constant(value)}`;
    }
    // Validation rejects other values; an ordering against them is false by definition.
    return 'false';
  }

  #contains(value: unknown): string {
    const k = this.constant(value);
    if (typeof value === 'string') {
      return `(typeof v === 'string' ? v.includes(${k}) : Array.isArray(v) && h.contains(v, ${k}))`;
    }
    return `Array.isArray(v) && h.contains(v, ${k})`;
  }

  #in(value: unknown): string {
    const list = this.constant(value);
    const set = Array.isArray(value) ? lookupSet(value) : undefined;
    if (set === undefined) return `h.isIn(v, ${list})`;
    return (
      `(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ` +
      `? ${this.constant(set)}.has(v) : h.isIn(v, ${list}))`
    );
  }

  #test(condition: Condition): string {
    const { operator, value } = condition;
    switch (operator) {
      case 'eq':
        return this.#equals(value);
      case 'ne':
        return `!(${this.#equals(value)})`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return this.#order(operator, value);
      case 'contains':
        return this.#contains(value);
      case 'not_contains':
        return `!(${this.#contains(value)})`;
      case 'in':
        return this.#in(value);
      case 'not_in':
        return `!(${this.#in(value)})`;
      case 'exists':
        return `!${ABSENT}`;
      case 'not_exists':
        return ABSENT;
      default:
        return assertNever(operator, 'operator');
    }
  }

  /** Source of a boolean expression for a condition or a group. */
  node(node: Condition | ConditionGroup): string {
    if (!isGroup(node)) return `((v = ${this.#read(node.field)}), ${this.#test(node)})`;
    if (node.conditions.length === 0) return node.logic === 'AND' ? 'true' : 'false';
    const joiner = node.logic === 'AND' ? ' && ' : ' || ';
    return `(${node.conditions.map((child) => this.node(child)).join(joiner)})`;
  }

  finish(body: string): GeneratedConditions {
    const lines = ["'use strict';"];
    this.#constants.forEach((_, index) => {
      lines.push(`const k${index} = k[${index}];`);
    });
    lines.push('return function waymarkConditions(ctx) {');
    for (const root of this.#roots) {
      const { raw, object } = ROOT_VARIABLES[root as FieldRoot];
      lines.push(`  const ${raw} = ctx.${root};`);
      lines.push(
        `  const ${object} = typeof ${raw} === 'object' && ${raw} !== null ? ${raw} : undefined;`,
      );
    }
    lines.push('  let v, o;', `  return ${body};`, '};');
    return { source: lines.join('\n'), constants: this.#constants };
  }
}

/**
 * Generates the source of the predicate for a valid `group` without building it. Internal to
 * the component; tests use it to check that no configured value reaches the source.
 */
export function generateConditions(
  group: ConditionGroup,
  options: CompileOptions = {},
): GeneratedConditions {
  const emitter = new Emitter(options);
  const body = emitter.node(group);
  return emitter.finish(body);
}

type Factory = (k: readonly unknown[], h: typeof runtime) => CompiledConditions;

/**
 * Compiles `group` once into a specialised predicate `(context) => boolean` with exactly the
 * semantics of `evaluateConditions`. Where the runtime forbids code generation (for instance
 * `--disallow-code-generation-from-strings`), the reference interpreter is returned instead.
 *
 * @throws InvalidConditionsError when the group is malformed (see `validateConditions`).
 */
export function compileConditions(
  group: ConditionGroup,
  options: CompileOptions = {},
): CompiledConditions {
  assertValidConditions(group);
  const { source, constants } = generateConditions(group, options);
  let factory: Factory;
  try {
    // The source holds no config text except JSON-quoted property names (see the file comment).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    factory = new Function('k', 'h', source) as Factory;
  } catch (error) {
    if (!(error instanceof EvalError)) throw error;
    return (context) => evaluateGroup(group, context, options);
  }
  return factory(constants, runtime);
}
