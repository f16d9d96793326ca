import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/index.js';

const EXAMPLE = join(import.meta.dirname, '../examples/customer-success');
let dir = '';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waymark-simulate-'));
  await writeFile(
    join(dir, 'customers.csv'),
    'id,type,first_name,timezone,contract.end_date,csm_id\nacme,paid,Ann,Asia/Tokyo,2026-06-30,csm-1\n',
  );
  await writeFile(
    join(dir, 'events.ndjson'),
    [
      {
        type: 'customer.created',
        customer_id: 'new-1',
        timestamp: '2026-03-02T12:00:00Z',
        properties: { type: 'paid' },
      },
      { type: 'contract.expiring_soon', customer_id: 'acme', timestamp: '2026-03-02T13:00:00Z' },
      { type: 'login.first', customer_id: 'new-1', timestamp: '2026-03-03T09:00:00Z' },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n'),
  );
  await writeFile(
    join(dir, 'bad.ndjson'),
    '{"type":"a","customer_id":"c"}\nnot json\n{"type":"b"}\n',
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('waymark simulate', () => {
  const args = () => [
    'simulate',
    '--config',
    EXAMPLE,
    '--customers',
    join(dir, 'customers.csv'),
    '--events',
    join(dir, 'events.ndjson'),
    '--until',
    '2026-07-01T00:00:00Z',
    '--seed',
    '7',
  ];

  it('prints journey events as NDJSON, ordered by time, in the guide’s JourneyEvent shape', async () => {
    const c = capture();
    expect(await main(args(), c.io, {})).toBe(0);
    const lines = c
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual([
        'customer_id',
        'data',
        'journey_id',
        'timestamp',
        'type',
      ]);
    }
    const times = lines.map((l) => Date.parse(String(l['timestamp'])));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const renewal = lines.filter(
      (l) => l['journey_id'] === 'renewal' && l['type'] === 'message.sent',
    );
    // 30 days before 2026-06-30, 09:00 in Tokyo (UTC+9) = 2026-05-31T00:00Z.
    expect(renewal.map((l) => l['timestamp'])).toEqual(['2026-05-31T00:00:00.000Z']);
    expect(
      lines.some((l) => l['customer_id'] === 'new-1' && l['type'] === 'journey.enrolled'),
    ).toBe(true);
  });

  it('is byte-for-byte deterministic for a seed', async () => {
    const a = capture();
    const b = capture();
    await main(args(), a.io, {});
    await main(args(), b.io, {});
    expect(a.out()).toBe(b.out());
  });

  it('reports every bad line of an events file with its line number and exits 1', async () => {
    const c = capture();
    const code = await main(
      [
        'simulate',
        '--config',
        EXAMPLE,
        '--events',
        join(dir, 'bad.ndjson'),
        '--until',
        '2026-07-01T00:00:00Z',
      ],
      c.io,
      {},
    );
    expect(code).toBe(1);
    expect(c.err()).toContain('bad.ndjson:2: invalid JSON');
    expect(c.err()).toContain('bad.ndjson:3: customer_id: is required');
    expect(c.err()).not.toContain('    at ');
  });

  it('rejects a bad --until and a missing file with a clear message', async () => {
    const c = capture();
    expect(await main(['simulate', '--config', EXAMPLE, '--until', 'soon'], c.io, {})).toBe(1);
    expect(c.err()).toContain("--until: expected an ISO-8601 date-time, got 'soon'");
    const d = capture();
    expect(
      await main(
        [
          'simulate',
          '--config',
          EXAMPLE,
          '--events',
          join(dir, 'nope.ndjson'),
          '--until',
          '2026-07-01',
        ],
        d.io,
        {},
      ),
    ).toBe(1);
    expect(d.err()).toContain('nope.ndjson: no such file');
  });
});
