import { isAbsent, readField } from '../conditions/index.js';
import { InvalidTemplateError } from './errors.js';
import { toText, type Operand } from './filters.js';
import { parseTemplate, type Placeholder, type Segment } from './syntax.js';
import type {
  CompiledTemplate,
  TemplateContext,
  TemplateOptions,
  TemplateProblem,
  TemplateRender,
} from './types.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes the five characters that can change the meaning of HTML text or attribute values. */
export function escapeHtml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch) : text;
}

function operandValue(operand: Operand, context: TemplateContext): unknown {
  return operand.kind === 'literal' ? operand.value : readField(context, operand.path);
}

/**
 * The placeholder's value after its filters, or `undefined` when there is none. Reading a
 * context is pure data access, but contexts come from outside (a getter, a proxy): anything
 * thrown counts as no value, because rendering never throws.
 */
export function placeholderValue(placeholder: Placeholder, context: TemplateContext): unknown {
  try {
    let value = operandValue(placeholder.head, context);
    for (const filter of placeholder.filters) {
      const args = filter.args.map((arg) => operandValue(arg, context));
      value = filter.definition.apply(value, args);
    }
    return isAbsent(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Field paths a parsed template reads, each once. */
export function fieldsOf(segments: readonly Segment[]): string[] {
  const fields = new Set<string>();
  for (const segment of segments) {
    if (typeof segment === 'string') continue;
    for (const operand of [segment.head, ...segment.filters.flatMap((f) => f.args)]) {
      if (operand.kind === 'path') fields.add(operand.path.field);
    }
  }
  return [...fields];
}

/**
 * Renders parsed segments. `escape` applies to `{{ }}` only; `{{{ }}}` is always raw.
 * A placeholder without a value renders as the empty string and is listed in `missing`.
 */
export function renderSegments(
  segments: readonly Segment[],
  context: TemplateContext,
  escape: boolean,
): TemplateRender {
  let output = '';
  const missing: string[] = [];
  for (const segment of segments) {
    if (typeof segment === 'string') {
      output += segment;
      continue;
    }
    const text = toText(placeholderValue(segment, context));
    if (text === undefined) {
      if (!missing.includes(segment.name)) missing.push(segment.name);
      continue;
    }
    output += escape && !segment.raw ? escapeHtml(text) : text;
  }
  return { output, missing };
}

/**
 * Problems in a template's syntax (unbalanced braces, empty placeholders, unknown filters, bad
 * filter arguments, bad paths), each with its character offset; empty when it compiles.
 */
export function validateTemplate(
  text: string,
  options: Omit<TemplateOptions, 'escape'> = {},
): TemplateProblem[] {
  return [...parseTemplate(text, options).problems];
}

/**
 * Parses `text` once into literal text and placeholders; `render` then only reads fields and
 * concatenates. With `escape: 'html'`, `{{x}}` escapes `& < > " '` and `{{{x}}}` inserts raw;
 * with `'none'` both insert text as is.
 *
 * @throws InvalidTemplateError listing every located problem.
 */
export function compileTemplate(text: string, options: TemplateOptions): CompiledTemplate {
  const { segments, problems } = parseTemplate(text, options);
  if (problems.length > 0) throw new InvalidTemplateError(problems);
  const escape = options.escape === 'html';
  const fields = fieldsOf(segments);
  const only = segments.length === 1 ? segments[0] : undefined;
  const constant = segments.length === 0 ? '' : typeof only === 'string' ? only : undefined;
  return {
    text,
    fields,
    render: (context) =>
      constant === undefined
        ? renderSegments(segments, context, escape)
        : { output: constant, missing: [] },
  };
}
