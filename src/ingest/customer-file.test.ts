import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';
import { parseCustomerFile } from './customer-file.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and CRLF', () => {
    const { rows, problems } = parseCsv('id,note\r\n1,"a, ""b""\nc"\r\n2,plain\r\n');
    expect(problems).toEqual([]);
    expect(rows).toEqual([
      { line: 1, cells: ['id', 'note'] },
      { line: 2, cells: ['1', 'a, "b"\nc'] },
      { line: 4, cells: ['2', 'plain'] },
    ]);
  });

  it('reports an unterminated quote with its line', () => {
    expect(parseCsv('id\n"abc\n').problems).toEqual([
      { line: 2, message: 'a quoted field is never closed' },
    ]);
  });

  it('round-trips any table of strings written with full quoting', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 2 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (table) => {
          const text = table
            .map((r) => r.map((c) => `"${c.replaceAll('"', '""')}"`).join(','))
            .join('\n');
          expect(parseCsv(text).rows.map((r) => r.cells)).toEqual(table);
        },
      ),
    );
  });
});

describe('parseCustomerFile', () => {
  it('types CSV columns and nests dotted headers', () => {
    const r = parseCustomerFile(
      'id,health_score,csm_engaged,contract.end_date,name\nc1,45,true,2026-12-31,Ann\nc2,,FALSE,,Bob\n',
      'c.csv',
    );
    expect(r.problems).toEqual([]);
    expect(r.columns).toEqual({
      id: 'string',
      health_score: 'number',
      csm_engaged: 'boolean',
      'contract.end_date': 'string',
      name: 'string',
    });
    expect(r.customers).toEqual([
      {
        id: 'c1',
        attributes: {
          health_score: 45,
          csm_engaged: true,
          contract: { end_date: '2026-12-31' },
          name: 'Ann',
        },
      },
      { id: 'c2', attributes: { csm_engaged: false, name: 'Bob' } },
    ]);
  });

  it('locates bad CSV rows, a missing id column and duplicate ids', () => {
    expect(parseCustomerFile('name\nAnn\n', 'c.csv').problems[0]?.message).toMatch(/'id'/);
    const r = parseCustomerFile('id,a\nc1,1\nc2\nc1,3\n,4\n', 'c.csv');
    expect(r.problems).toEqual([
      { file: 'c.csv', line: 3, message: 'expected 2 fields, found 1' },
      { file: 'c.csv', line: 4, message: "customer 'c1' already appears on line 2" },
      { file: 'c.csv', line: 5, message: 'the customer id is empty' },
    ]);
  });

  it('reads NDJSON with attributes inline or nested, and locates bad lines', () => {
    const r = parseCustomerFile(
      '{"id":"c1","plan":"pro"}\n\n{"customer_id":"c2","attributes":{"arr":5}}\nnot json\n[1]\n{"plan":"x"}\n',
      'c.ndjson',
    );
    expect(r.customers).toEqual([
      { id: 'c1', attributes: { plan: 'pro' } },
      { id: 'c2', attributes: { arr: 5 } },
    ]);
    expect(r.problems.map((p) => p.line)).toEqual([4, 5, 6]);
  });

  it('keeps hostile ids literally', () => {
    const id = `o'brien"); DROP TABLE customers;--`;
    expect(parseCustomerFile(JSON.stringify([{ id }]), 'c.json').customers[0]?.id).toBe(id);
  });
});
