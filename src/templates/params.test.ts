import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTemplateError, compileParams, renderParams, validateParams } from './index.js';

const context = {
  customer: {
    csm_id: 'u-17',
    arr: 12000,
    vip: true,
    tags: ['a'],
    first_name: 'ada',
    renewal: '2024-07-01',
  },
  event: { type: 'customer.created', properties: { plan: 'pro' } },
};

describe('renderParams', () => {
  it('renders the specification example', () => {
    expect(renderParams({ severity: 'high', assignee: '{{customer.csm_id}}' }, context)).toEqual({
      value: { severity: 'high', assignee: 'u-17' },
      missing: [],
    });
  });

  it('a string that is exactly one placeholder keeps the value and its type', () => {
    const { value } = renderParams(
      {
        arr: '{{customer.arr}}',
        vip: '{{ vip }}',
        tags: '{{{tags}}}',
        plan: '{{event.plan}}',
        upper: '{{ first_name | upper }}',
        fallback: '{{ missing | default: 0 }}',
      },
      context,
    );
    expect(value).toEqual({
      arr: 12000,
      vip: true,
      tags: ['a'],
      plan: 'pro',
      upper: 'ADA',
      fallback: 0,
    });
  });

  it('a missing exact placeholder is null; a missing interpolation is empty; both reported', () => {
    expect(
      renderParams({ a: '{{gone}}', b: 'id={{customer.gone}};', c: '{{gone}} again' }, context),
    ).toEqual({
      value: { a: null, b: 'id=;', c: ' again' },
      missing: ['gone', 'customer.gone'],
    });
  });

  it('mixed strings interpolate', () => {
    expect(
      renderParams({ title: 'Renewal for {{first_name | capitalize}} on {{renewal}}' }, context)
        .value,
    ).toEqual({ title: 'Renewal for Ada on 2024-07-01' });
  });

  it('walks arrays and nested objects and keeps other values', () => {
    const when = new Date(0);
    const { value } = renderParams(
      { list: ['{{arr}}', { deep: ['x{{csm_id}}'] }], n: 5, f: false, z: null, when },
      context,
    );
    expect(value).toEqual({ list: [12000, { deep: ['xu-17'] }], n: 5, f: false, z: null, when });
  });

  it('does not let a "__proto__" key change the result prototype', () => {
    const params = JSON.parse('{"__proto__": {"polluted": "{{arr}}"}}') as unknown;
    const { value } = renderParams(params, context);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('renders a bare top-level string', () => {
    expect(renderParams('{{arr}}', context).value).toBe(12000);
  });

  it('escapes interpolated strings only when asked', () => {
    const html = { customer: { name: '<b>' } };
    expect(renderParams({ t: 'x{{name}}' }, html, { escape: 'html' }).value).toEqual({
      t: 'x&lt;b&gt;',
    });
    expect(renderParams({ t: 'x{{name}}' }, html).value).toEqual({ t: 'x<b>' });
  });
});

describe('compileParams', () => {
  it('compiles once and renders against many contexts', () => {
    const render = compileParams({ assignee: '{{csm_id}}' });
    expect(render(context).value).toEqual({ assignee: 'u-17' });
    expect(render({ customer: { csm_id: 'u-2' } }).value).toEqual({ assignee: 'u-2' });
    expect(render({}).missing).toEqual(['csm_id']);
  });

  it('rejects bad templates with their path and offset', () => {
    const params = { ok: '{{a}}', nested: { list: ['fine', 'Hi {{ name | shout }}'] } };
    expect(validateParams(params)).toEqual([
      {
        offset: 13,
        message: 'unknown filter "shout"; use one of upper, lower, capitalize, json, default, date',
        path: ['nested', 'list', 1],
      },
    ]);
    expect(() => compileParams(params)).toThrow(InvalidTemplateError);
  });

  it('never throws while rendering, whatever the context holds', () => {
    const render = compileParams({
      a: '{{x}}',
      b: 'v={{ x | json }}',
      c: ['{{ x.y | date: "yyyy" }}'],
    });
    fc.assert(
      fc.property(
        fc.anything({ withDate: true, withNullPrototype: true, withBigInt: true }),
        (x) => {
          const rendered = render({ customer: { x } });
          expect(typeof (rendered.value as { b: unknown }).b).toBe('string');
        },
      ),
      { numRuns: 500 },
    );
  });
});
