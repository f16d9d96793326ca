import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FILTER_NAMES,
  InvalidTemplateError,
  compileTemplate,
  escapeHtml,
  type TemplateContext,
} from './index.js';

function render(text: string, context: TemplateContext, escape: 'html' | 'none' = 'none') {
  return compileTemplate(text, { escape }).render(context);
}

describe('placeholders', () => {
  const context = {
    customer: { first_name: 'Ada', csm_id: 'u-17', arr: 12000, active: true, tags: ['a', 'b'] },
    event: { type: 'feature.used', properties: { feature: 'sso' } },
    journey: { current_stage: 'welcome' },
  };

  it('interpolates fields from every root, with bare names read from the customer', () => {
    expect(
      render(
        'Hi {{customer.first_name}} ({{ first_name }}), {{event.type}}/{{event.feature}} at {{journey.current_stage}}',
        context,
      ),
    ).toEqual({ output: 'Hi Ada (Ada), feature.used/sso at welcome', missing: [] });
  });

  it('turns values into text: numbers, booleans, lists and objects as JSON, dates as ISO', () => {
    const when = new Date(Date.UTC(2024, 6, 1, 10));
    const { output } = render('{{arr}} {{active}} {{tags}} {{obj}} {{when}}', {
      customer: { arr: 12000, active: true, tags: ['a', 'b'], obj: { k: 1 }, when },
    });
    expect(output).toBe('12000 true ["a","b"] {"k":1} 2024-07-01T10:00:00.000Z');
  });

  it('renders a missing value as empty and reports each missing path once, in order', () => {
    expect(render('{{a}}-{{customer.b}}-{{a}}-{{c.d}}', { customer: { c: 5 } })).toEqual({
      output: '--' + '-',
      missing: ['a', 'customer.b', 'c.d'],
    });
  });

  it('treats null, functions and inherited members as missing', () => {
    const customer = { n: null, f: () => 'code' };
    expect(render('[{{n}}][{{f}}][{{toString}}]', { customer }).missing).toEqual([
      'n',
      'f',
      'toString',
    ]);
  });

  it('accepts literal heads, so {{ "{{" }} writes braces', () => {
    expect(render('{{ "{{" }}x{{ \'}}\' }} {{ 42 }} {{ true }}', {}).output).toBe('{{x}} 42 true');
  });

  it('keeps text without placeholders, including single braces', () => {
    expect(render('body { color: red }', {})).toEqual({
      output: 'body { color: red }',
      missing: [],
    });
    expect(render('', {})).toEqual({ output: '', missing: [] });
  });
});

describe('HTML escaping', () => {
  const customer = { name: `<script>alert("x")</script> & 'co'` };

  it('escapes & < > " \' in {{ }} when the output is HTML', () => {
    expect(render('<p>{{name}}</p>', { customer }, 'html').output).toBe(
      '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>',
    );
  });

  it('inserts {{{ }}} raw', () => {
    expect(render('{{{name}}}', { customer }, 'html').output).toBe(customer.name);
  });

  it('does not escape plain text output', () => {
    expect(render('{{name}}', { customer }, 'none').output).toBe(customer.name);
    expect(render('{{{name}}}', { customer }, 'none').output).toBe(customer.name);
  });

  it('escapes filter output too', () => {
    expect(render('{{ obj | json }}', { customer: { obj: { a: '<' } } }, 'html').output).toBe(
      '{&quot;a&quot;:&quot;&lt;&quot;}',
    );
  });

  it('escapeHtml leaves safe text alone', () => {
    expect(escapeHtml('plain text')).toBe('plain text');
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });
});

describe('filters', () => {
  it('lists its filters', () => {
    expect([...FILTER_NAMES].sort()).toEqual(
      ['capitalize', 'date', 'default', 'json', 'lower', 'upper'].sort(),
    );
  });

  it('default replaces an absent or empty value, and then nothing is missing', () => {
    const template = compileTemplate('Hi {{ customer.first_name | default: "there" }}!', {
      escape: 'none',
    });
    expect(template.render({ customer: {} })).toEqual({ output: 'Hi there!', missing: [] });
    expect(template.render({ customer: { first_name: '' } }).output).toBe('Hi there!');
    expect(template.render({ customer: { first_name: null } }).output).toBe('Hi there!');
    expect(template.render({ customer: { first_name: 'Ada' } }).output).toBe('Hi Ada!');
    expect(template.render({ customer: { first_name: 0 } }).output).toBe('Hi 0!');
  });

  it('default may read another field', () => {
    const text = '{{ nickname | default: first_name | upper }}';
    expect(render(text, { customer: { first_name: 'ada' } })).toEqual({
      output: 'ADA',
      missing: [],
    });
    expect(render(text, { customer: {} })).toEqual({ output: '', missing: ['nickname'] });
  });

  it('upper, lower and capitalize', () => {
    const customer = { name: 'mcDonald ÿ', n: 5 };
    expect(
      render('{{name | upper}}|{{name | lower}}|{{name | capitalize}}', { customer }).output,
    ).toBe('MCDONALD Ÿ|mcdonald ÿ|McDonald ÿ');
    expect(render('{{n | upper}}', { customer }).output).toBe('5');
    expect(render('{{ e | capitalize }}', { customer: { e: '' } }).output).toBe('');
    expect(render('{{ s | capitalize }}', { customer: { s: '\u{1D4B6}bc' } }).output).toBe(
      '\u{1D4B6}bc',
    );
  });

  it('an absent value passes through filters and stays missing', () => {
    expect(render('{{ gone | upper | capitalize | json }}', { customer: {} })).toEqual({
      output: '',
      missing: ['gone'],
    });
  });

  it('json encodes any value', () => {
    const customer = { s: 'a"b', n: 1.5, l: [1, null], o: { x: true } };
    expect(render('{{s|json}} {{n|json}} {{l|json}} {{o|json}}', { customer }).output).toBe(
      '"a\\"b" 1.5 [1,null] {"x":true}',
    );
  });

  it('date formats in UTC unless a zone is given', () => {
    const customer = {
      renewal: '2024-07-01T22:30:00Z',
      tz: 'Asia/Tokyo',
      bad_tz: 'Mars/Base',
      epoch: 0,
      when: new Date(Date.UTC(2024, 0, 2)),
    };
    const cases: [string, string][] = [
      ['{{ renewal | date: "yyyy-MM-dd" }}', '2024-07-01'],
      ['{{ renewal | date: "yyyy-MM-dd HH:mm", "Asia/Tokyo" }}', '2024-07-02 07:30'],
      ['{{ renewal | date: "yyyy-MM-dd", tz }}', '2024-07-02'],
      ['{{ renewal | date: "yyyy-MM-dd", bad_tz }}', '2024-07-01'],
      ['{{ renewal | date: "MMMM d", "UTC", "fr" }}', 'juillet 1'],
      ['{{ renewal | date: "MMM d" }}', 'Jul 1'],
      ['{{ epoch | date: "yyyy" }}', '1970'],
      ['{{ when | date: "dd/MM/yyyy" }}', '02/01/2024'],
      ['{{ "2024-03-05" | date: "d MMM" }}', '5 Mar'],
    ];
    for (const [text, output] of cases) expect(render(text, { customer }).output).toBe(output);
  });

  it('date on something that is not a date counts as missing', () => {
    const text = '{{ when | date: "yyyy" }}';
    for (const when of ['soon', '2024-02-30', true, { y: 1 }, Number.NaN]) {
      expect(render(text, { customer: { when } })).toEqual({ output: '', missing: ['when'] });
    }
    expect(render('{{ when | date: "yyyy" | default: "TBD" }}', { customer: {} }).output).toBe(
      'TBD',
    );
  });
});

describe('compile errors', () => {
  it('an unknown filter is an error at compile time, with its offset', () => {
    try {
      compileTemplate('Hi {{ name | shout }}', { escape: 'none' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTemplateError);
      const invalid = error as InvalidTemplateError;
      expect(invalid.code).toBe('TEMPLATE_INVALID');
      expect(invalid.problems).toEqual([
        {
          offset: 13,
          message:
            'unknown filter "shout"; use one of upper, lower, capitalize, json, default, date',
        },
      ]);
      expect(invalid.message).toContain('offset 13');
    }
  });

  it('lists the fields a template reads', () => {
    const template = compileTemplate('{{a}} {{customer.b | default: c}} {{a}} {{ "lit" }}', {
      escape: 'none',
    });
    expect(template.fields).toEqual(['a', 'customer.b', 'c']);
  });
});

// ---------------------------------------------------------------------------------------------

/** Any value at all, including the awkward ones: null prototypes, sparse arrays, dates, -0. */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: 'binary',
});
const FIELDS = ['x', 'customer.x', 'x.y', 'event.x', 'journey.x', 'x.0'];
const TEMPLATES = FIELDS.flatMap((f) => [
  `{{${f}}}`,
  `{{{${f}}}}`,
  `a{{ ${f} | upper }}b`,
  `{{ ${f} | lower | capitalize }}`,
  `{{ ${f} | json }}`,
  `{{ ${f} | date: "yyyy-MM-dd", x }}`,
  `{{ ${f} | default: x | json }}`,
]);

/** Strings and structures made mostly of markup characters. */
const markupArb = fc.oneof(
  fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '&', 'a', ' ') }),
  fc.dictionary(fc.string(), fc.string({ unit: fc.constantFrom('<', "'", 'b') })),
);

describe('render, whatever the context', () => {
  it('never throws and always returns a string', () => {
    const compiled = TEMPLATES.map((text) => compileTemplate(text, { escape: 'html' }));
    fc.assert(
      fc.property(anyValue, anyValue, (x, root) => {
        const contexts = [
          { customer: { x }, event: { x, properties: { x } }, journey: { x } },
          { customer: { x: { y: x } } },
          { customer: root, event: root, journey: root } as TemplateContext,
        ];
        for (const template of compiled) {
          for (const context of contexts) {
            const rendered = template.render(context);
            expect(typeof rendered.output).toBe('string');
            expect(Array.isArray(rendered.missing)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('html-escaped output never carries a raw < or quote from a value', () => {
    const template = compileTemplate('<p title="{{x}}">{{ x | upper }}{{ x | json }}</p>', {
      escape: 'html',
    });
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.string({ unit: 'binary' }), markupArb), (x) => {
        const { output } = template.render({ customer: { x } });
        const inner = output.slice('<p title="'.length, -'</p>'.length).replace('">', '');
        expect(inner).not.toMatch(/[<>"']/);
      }),
      { numRuns: 1000 },
    );
  });
});
