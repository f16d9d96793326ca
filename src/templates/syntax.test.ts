import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate, validateTemplate } from './index.js';

function problems(text: string): [number, string][] {
  return validateTemplate(text).map((p) => [p.offset, p.message]);
}

describe('validateTemplate', () => {
  it('accepts well-formed templates', () => {
    for (const text of [
      '',
      'plain',
      '{{a}}',
      '{{{ a }}}',
      'x {{ a.b | default: "it\'s" | upper }} y',
      '{{ a | date: \'yyyy-MM-dd\', customer.timezone, "en-GB" }}',
      '{{ a | default: -1.5 }}{{ b | default: null }}{{ c | default: false }}',
      '{ single } braces',
    ]) {
      expect(problems(text)).toEqual([]);
    }
  });

  it.each([
    ['Hi {{ name', 3, "'{{' is never closed with '}}'"],
    ['Hi {{{ name }}', 12, "the placeholder opened at offset 3 must close with '}}}'"],
    ['Hi {{{ name', 3, "'{{{' is never closed with '}}}'"],
    ['done }} here', 5, "'}}' without a matching '{{'"],
    ['{{   }}', 0, 'empty placeholder'],
    ['{{ a..b }}', 3, 'bad field path "a..b": segment 2 is empty'],
    [
      '{{ customer.__proto__ }}',
      3,
      'bad field path "customer.__proto__": \'__proto__\' is a reserved name',
    ],
    ['{{ a | date: "x", "Nowhere/City" }}', 18, 'unknown time zone "Nowhere/City"'],
    ['{{ a | date: yyyy }}', 13, 'date needs a quoted format'],
    ['{{ a | default }}', 7, 'filter default takes 1 argument(s), got 0'],
    ['{{ a | }}', 5, "expected a filter name after '|'"],
    ['{{ a b }}', 5, "expected '|' before a filter"],
    ['{{ "open }}', 3, 'unterminated string'],
    ['{{ a {{ b }}', 5, "'{{' inside a placeholder"],
    ['{{ a } }}', 5, "unexpected '}' in a placeholder"],
  ])('%j: problem at offset %i', (text, offset, message) => {
    const [first] = problems(text);
    expect(first?.[0]).toBe(offset);
    expect(first?.[1]).toContain(message);
  });

  it('reports problems in several placeholders and stray braces', () => {
    expect(problems('}} {{ a | nope }} {{ b..c }} }}').map(([offset]) => offset)).toEqual([
      0, 10, 21, 29,
    ]);
  });

  it('never throws on arbitrary text, and compiles exactly what it accepts', () => {
    const piece = fc.constantFrom(
      '{{',
      '}}',
      '{{{',
      '}}}',
      '{',
      '}',
      '|',
      ':',
      ',',
      '"',
      "'",
      ' ',
      'a',
      '.',
      'upper',
      'date',
      '\\',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
        (text) => {
          const found = validateTemplate(text);
          for (const p of found) {
            expect(p.offset).toBeGreaterThanOrEqual(0);
            expect(p.offset).toBeLessThanOrEqual(text.length);
          }
          if (found.length === 0) {
            expect(() => compileTemplate(text, { escape: 'html' }).render({})).not.toThrow();
          } else {
            expect(() => compileTemplate(text, { escape: 'html' })).toThrow();
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
