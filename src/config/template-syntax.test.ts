import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templateSyntaxProblem } from './template-syntax.js';

describe('templateSyntaxProblem', () => {
  it.each([
    '{{customer.csm_id}}',
    'Hi {{customer.first_name}}, see {{ event.url }}',
    'no placeholders',
    '{{{raw}}}',
  ])('accepts %j', (text) => {
    expect(templateSyntaxProblem(text)).toBeUndefined();
  });

  it.each([
    ['{{customer.csm_id', /'\{\{' at character 1 is not closed/],
    ['Hi {{a {{b}}', /'\{\{' at character 4 is not closed/],
    ['done}}', /'\}\}' at character 5 has no opening/],
    ['{{ }}', /empty template placeholder/],
  ])('rejects %j', (text, message) => {
    expect(templateSyntaxProblem(text)).toMatch(message);
  });

  it('property: text without braces is always fine; any text never throws', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const problem = templateSyntaxProblem(text);
        if (!text.includes('{') && !text.includes('}')) expect(problem).toBeUndefined();
      }),
    );
  });
});
