import type { CompileOptions } from '../conditions/index.js';
import { InvalidTemplateError } from './errors.js';
import { placeholderValue, renderSegments } from './render.js';
import { parseTemplate } from './syntax.js';
import type {
  CompiledParams,
  ParamsRender,
  TemplateContext,
  TemplateEscape,
  TemplateProblem,
} from './types.js';

/** Options for params: path resolution, and escaping of interpolated strings (default `none`). */
export interface ParamsOptions extends CompileOptions {
  escape?: TemplateEscape;
}

type Render = (context: TemplateContext, missing: string[]) => unknown;

function note(missing: string[], name: string): void {
  if (!missing.includes(name)) missing.push(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function compileString(
  text: string,
  path: readonly (string | number)[],
  options: ParamsOptions,
  problems: TemplateProblem[],
): Render {
  if (!text.includes('{{') && !text.includes('}}')) return () => text;
  const parsed = parseTemplate(text, options);
  for (const problem of parsed.problems) problems.push({ ...problem, path });
  const [first] = parsed.segments;
  if (parsed.segments.length === 1 && first !== undefined && typeof first !== 'string') {
    // Exactly one placeholder: the value itself, so numbers stay numbers; missing is null.
    return (context, missing) => {
      const value = placeholderValue(first, context);
      if (value !== undefined) return value;
      note(missing, first.name);
      return null;
    };
  }
  const escape = options.escape === 'html';
  return (context, missing) => {
    const rendered = renderSegments(parsed.segments, context, escape);
    for (const name of rendered.missing) note(missing, name);
    return rendered.output;
  };
}

function compileValue(
  value: unknown,
  path: readonly (string | number)[],
  options: ParamsOptions,
  problems: TemplateProblem[],
): Render {
  if (typeof value === 'string') return compileString(value, path, options, problems);
  if (Array.isArray(value)) {
    const items = value.map((item: unknown, index) =>
      compileValue(item, [...path, index], options, problems),
    );
    return (context, missing) => items.map((item) => item(context, missing));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(
      ([key, item]) => [key, compileValue(item, [...path, key], options, problems)] as const,
    );
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    return (context, missing) =>
      Object.fromEntries(entries.map(([key, item]) => [key, item(context, missing)]));
  }
  return () => value;
}

/**
 * Problems in every template string inside `params`, each located by its path in `params` and
 * its character offset in the string.
 */
export function validateParams(params: unknown, options: ParamsOptions = {}): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  compileValue(params, [], options, problems);
  return problems;
}

/**
 * Compiles action params once. Walks arrays and plain objects; a string that is exactly one
 * placeholder (`"{{customer.arr}}"`) renders to the value itself (numbers stay numbers, missing
 * becomes `null`); other strings interpolate (missing becomes `''`); everything else is kept.
 * The returned function never throws and reports every missing path once.
 *
 * @throws InvalidTemplateError listing every problem, located by path and offset.
 */
export function compileParams(params: unknown, options: ParamsOptions = {}): CompiledParams {
  const problems: TemplateProblem[] = [];
  const render = compileValue(params, [], options, problems);
  if (problems.length > 0) throw new InvalidTemplateError(problems);
  return (context) => {
    const missing: string[] = [];
    return { value: render(context, missing), missing };
  };
}

/** Renders `params` against `context` in one go; prefer `compileParams` when rendering often. */
export function renderParams(
  params: unknown,
  context: TemplateContext,
  options: ParamsOptions = {},
): ParamsRender {
  return compileParams(params, options)(context);
}
