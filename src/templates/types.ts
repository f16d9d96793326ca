/**
 * Templates: `{{customer.csm_id}}`-style placeholders in action params and message content.
 *
 * Glossary
 * - placeholder: `{{ expression }}` (escaped when the output is HTML) or `{{{ expression }}}`
 *   (inserted raw). An expression is a head — a field path or a literal — followed by filters.
 * - filter: `| name` or `| name: arg, arg`, applied left to right (`upper`, `default: "there"`).
 * - missing: a placeholder whose final value is absent (missing, `null`, `undefined`, a function,
 *   or a value a filter cannot use). Reported by path so callers can tell incomplete output.
 */
import type { CompileOptions, ConditionContext } from '../conditions/index.js';

/** How values are escaped: `html` escapes `& < > " '` in `{{ }}`; `none` inserts text as is. */
export type TemplateEscape = 'html' | 'none';

/** Options for compiling a text template. */
export interface TemplateOptions extends CompileOptions {
  /** Required, so that no caller gets HTML output unescaped by forgetting an option. */
  escape: TemplateEscape;
}

/** What templates are rendered against: the same roots as conditions. */
export type TemplateContext = ConditionContext;

/** The result of rendering a text template. */
export interface TemplateRender {
  output: string;
  /** Paths (as written) of placeholders that had no value, each once, in order of appearance. */
  missing: string[];
}

/** A text template parsed once into literal text and placeholders. */
export interface CompiledTemplate {
  /** The template as written. */
  readonly text: string;
  /** Field paths the template reads (heads and filter arguments), each once. */
  readonly fields: readonly string[];
  /** Renders against `context`; never throws, whatever the context holds. */
  render(context: TemplateContext): TemplateRender;
}

/** The result of rendering params. */
export interface ParamsRender {
  value: unknown;
  /** Paths of every placeholder that had no value, each once. */
  missing: string[];
}

/** Compiled params: renders the whole params value against a context. Never throws. */
export type CompiledParams = (context: TemplateContext) => ParamsRender;

/** A problem in a template, located by character offset (and, inside params, by value path). */
export interface TemplateProblem {
  /** Offset of the offending character in the template text (UTF-16 code units, from 0). */
  readonly offset: number;
  readonly message: string;
  /** Inside params: keys and indices from the params root to the string holding the problem. */
  readonly path?: readonly (string | number)[];
}
