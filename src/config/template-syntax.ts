/**
 * Load-time check of `{{ ... }}` placeholders in text that will be rendered later (message
 * bodies, task titles, action params such as `assignee: "{{customer.csm_id}}"`). Only the braces
 * are checked here; what a placeholder may name is the templates component's business.
 */

/** A message describing the first brace problem in `text`, or undefined when it is well formed. */
export function templateSyntaxProblem(text: string): string | undefined {
  let index = 0;
  for (;;) {
    const open = text.indexOf('{{', index);
    const stray = text.indexOf('}}', index);
    if (stray !== -1 && (open === -1 || stray < open)) {
      return `unbalanced template braces: '}}' at character ${stray + 1} has no opening '{{'`;
    }
    if (open === -1) return undefined;
    const close = text.indexOf('}}', open + 2);
    const nextOpen = text.indexOf('{{', open + 2);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close && text[nextOpen - 1] !== '{')) {
      return `unbalanced template braces: '{{' at character ${open + 1} is not closed by '}}'`;
    }
    const inner = text
      .slice(open + 2, close)
      .replace(/^\{/, '')
      .trim();
    if (inner === '') return `empty template placeholder '{{}}' at character ${open + 1}`;
    index = close + 2;
    // A triple-brace placeholder `{{{x}}}` ends with one extra '}'.
    if (text[index] === '}' && text[open + 2] === '{') index += 1;
  }
}

/** Every string inside a JSON-like value with its relative path, for deep template checks. */
export function* stringsWithin(
  value: unknown,
  path: (string | number)[] = [],
): Generator<[string, (string | number)[]]> {
  if (typeof value === 'string') {
    yield [value, path];
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* stringsWithin(item, [...path, i]);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) yield* stringsWithin(item, [...path, key]);
  }
}
