import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  emptyDeliveryOutcomes,
  type DeadLetterRecord,
  type DeadLetterStatus,
  type Store,
  type StoredEvent,
} from '../../core/index.js';
import { openStore } from '../../store/index.js';
import { main } from '../program.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MINUTE = 60_000;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) }, {});
  return { code, out, err };
}

/** A dead letter as the dispatcher records one: the queued payload (message, template, tried). */
function deadLetter(
  n: number,
  overrides: Partial<DeadLetterRecord> & { status?: DeadLetterStatus } = {},
): DeadLetterRecord {
  const id = `dlq_${String(n).padStart(3, '0')}`;
  const messageId = `msg_${String(n).padStart(3, '0')}`;
  const customerId = overrides.customerId ?? 'cust_a';
  const channel = overrides.channel ?? 'email';
  const at = T0 + n * MINUTE;
  return {
    id,
    messageId,
    customerId,
    channel,
    originalMessage: {
      message: { id: messageId, customerId, channel, content: { subject: `Hello ${n}` } },
      template: 'welcome',
      variant: null,
      tried: ['sms', channel],
    },
    failureReason: 'invalid_recipient: 550 mailbox unavailable',
    category: 'permanent',
    attemptCount: 3,
    firstAttemptAt: at - 5 * MINUTE,
    lastAttemptAt: at,
    status: 'pending_review',
    createdAt: at,
    updatedAt: at,
    retryMessageId: null,
    ...overrides,
  };
}

async function retryCommands(store: Store, customerId: string): Promise<StoredEvent[]> {
  const batch = await store.claimWork({
    now: Date.now(),
    maxEvents: 100,
    maxTimers: 0,
    workerId: 'test',
    leaseMs: 10_000,
  });
  if (batch === null) return [];
  await store.releaseWork(batch);
  return batch.customers
    .filter((c) => c.customerId === customerId)
    .flatMap((c) => c.events)
    .filter((e) => e.type === 'waymark.dead_letter_retry');
}

describe('waymark dead-letters (in-process, real SQLite store)', () => {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waymark-dlq-'));
    store = await openStore({ dataDir: dir });
    // The customers exist: a dead letter of a deleted customer is not retried.
    await store.upsertCustomers(
      ['cust_a', 'cust_b'].map((id) => ({ id, attributes: {}, createdAt: 0, updatedAt: 0 })),
    );
    await store.recordDeliveryOutcomes({
      ...emptyDeliveryOutcomes(),
      deadLetters: [
        deadLetter(1),
        deadLetter(2, {
          customerId: 'cust_b',
          channel: 'sms',
          failureReason: `provider said:\n${'x'.repeat(200)}`,
          attemptCount: 5,
        }),
        deadLetter(3, { status: 'abandoned' }),
        deadLetter(4, { customerId: 'cust_b' }),
      ],
    });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('list', () => {
    it('prints an aligned table, oldest first, with the reason on one truncated line', async () => {
      const result = await run('dead-letters', 'list', '--data', dir);
      expect(result.code).toBe(0);
      expect(result.err).toBe('');
      const lines = result.out.trimEnd().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines[0]).toMatch(
        /^ID\s+STATUS\s+CHANNEL\s+CUSTOMER\s+ATTEMPTS\s+LAST ATTEMPT\s+REASON$/u,
      );
      expect(lines[1]).toMatch(
        /^dlq_001\s+pending_review\s+email\s+cust_a\s+3\s+2026-03-01T10:01:00\.000Z\s+invalid_recipient: 550 mailbox unavailable$/u,
      );
      expect(lines.slice(1).map((l) => l.split(/\s+/u)[0])).toEqual([
        'dlq_001',
        'dlq_002',
        'dlq_003',
        'dlq_004',
      ]);
      // Columns line up: every row's STATUS starts where the header's does.
      const statusAt = (lines[0] ?? '').indexOf('STATUS');
      for (const line of lines.slice(1)) expect(line.charAt(statusAt - 1)).toBe(' ');
      expect(lines[2]).toContain('sms');
      expect(lines[2]).toContain(`provider said: ${'x'.repeat(44)}…`);
      expect(lines[2]).not.toContain('x'.repeat(60));
      expect(result.out).not.toContain('more:');
    });

    it('--json prints {items, next_cursor} in the API representation', async () => {
      const result = await run('dead-letters', 'list', '--data', dir, '--json');
      expect(result.code).toBe(0);
      const body = JSON.parse(result.out) as {
        items: Record<string, unknown>[];
        next_cursor: string | null;
      };
      expect(body.next_cursor).toBeNull();
      expect(body.items.map((i) => i['id'])).toEqual(['dlq_001', 'dlq_002', 'dlq_003', 'dlq_004']);
      expect(body.items[0]).toMatchObject({
        id: 'dlq_001',
        message_id: 'msg_001',
        customer_id: 'cust_a',
        channel: 'email',
        status: 'pending_review',
        attempt_count: 3,
        category: 'permanent',
        tried_channels: ['sms', 'email'],
        retry_message_id: null,
        original_message: { id: 'msg_001', content: { subject: 'Hello 1' } },
        timestamps: {
          first_attempt: '2026-03-01T09:56:00.000Z',
          last_attempt: '2026-03-01T10:01:00.000Z',
        },
      });
    });

    it('filters by --status and --customer', async () => {
      const abandoned = await run('dead-letters', 'list', '--data', dir, '--status', 'abandoned');
      expect(abandoned.code).toBe(0);
      expect(abandoned.out).toContain('dlq_003');
      expect(abandoned.out.trimEnd().split('\n')).toHaveLength(2);

      const custB = await run('dead-letters', 'list', '--data', dir, '--customer', 'cust_b');
      expect(
        custB.out
          .trimEnd()
          .split('\n')
          .slice(1)
          .map((l) => l.split(/\s+/u)[0]),
      ).toEqual(['dlq_002', 'dlq_004']);

      const both = await run(
        'dead-letters',
        'list',
        '--data',
        dir,
        '--customer',
        'cust_a',
        '--status',
        'pending_review',
        '--json',
      );
      const body = JSON.parse(both.out) as { items: { id: string }[] };
      expect(body.items.map((i) => i.id)).toEqual(['dlq_001']);

      const none = await run('dead-letters', 'list', '--data', dir, '--status', 'retrying');
      expect(none).toEqual({ code: 0, out: 'no dead letters\n', err: '' });
    });

    it('pages with --limit and --cursor, in both output forms', async () => {
      const first = await run('dead-letters', 'list', '--data', dir, '--limit', '3', '--json');
      const page1 = JSON.parse(first.out) as { items: { id: string }[]; next_cursor: string };
      expect(page1.items.map((i) => i.id)).toEqual(['dlq_001', 'dlq_002', 'dlq_003']);
      expect(typeof page1.next_cursor).toBe('string');

      const second = await run(
        'dead-letters',
        'list',
        '--data',
        dir,
        '--limit',
        '3',
        '--cursor',
        page1.next_cursor,
        '--json',
      );
      const page2 = JSON.parse(second.out) as { items: { id: string }[]; next_cursor: null };
      expect(page2.items.map((i) => i.id)).toEqual(['dlq_004']);
      expect(page2.next_cursor).toBeNull();

      // The table ends with the flag that fetches the next page.
      const table = await run('dead-letters', 'list', '--data', dir, '--limit', '2');
      expect(table.out.trimEnd().split('\n').at(-1)).toMatch(/^more: --cursor \S+$/u);
      const cursor = (table.out.trimEnd().split('\n').at(-1) ?? '').slice('more: --cursor '.length);
      const next = await run(
        'dead-letters',
        'list',
        '--data',
        dir,
        '--limit',
        '2',
        '--cursor',
        cursor,
      );
      expect(
        next.out
          .trimEnd()
          .split('\n')
          .slice(1)
          .map((l) => l.split(/\s+/u)[0]),
      ).toEqual(['dlq_003', 'dlq_004']);
    });

    it('finds the store through --config (server.data_dir)', async () => {
      const config = join(dir, 'waymark.yaml');
      writeFileSync(config, `server:\n  data_dir: ${JSON.stringify(dir)}\n`);
      const result = await run('dead-letters', 'list', '--config', config, '--json');
      expect(result.err).toBe('');
      expect(result.code).toBe(0);
      expect((JSON.parse(result.out) as { items: unknown[] }).items).toHaveLength(4);
    });

    it('rejects a bad --status with the allowed values', async () => {
      const result = await run('dead-letters', 'list', '--data', dir, '--status', 'pending');
      expect(result).toEqual({
        code: 1,
        out: '',
        err: "error[INVALID_INPUT]: --status must be one of pending_review, retrying, abandoned; got 'pending'\n",
      });
    });

    it.each(['0', '1001', 'ten', '-1', '1e2', ''])('rejects --limit %j', async (limit) => {
      const result = await run('dead-letters', 'list', '--data', dir, '--limit', limit);
      expect(result.code).toBe(1);
      expect(result.out).toBe('');
      expect(result.err).toBe(
        `error[INVALID_INPUT]: --limit must be a whole number from 1 to 1000; got '${limit}'\n`,
      );
    });

    it('rejects a cursor it did not hand out', async () => {
      const result = await run('dead-letters', 'list', '--data', dir, '--cursor', 'garbage');
      expect(result.code).toBe(1);
      expect(result.err).toBe('error[INVALID_CURSOR]: invalid pagination cursor\n');
    });
  });

  describe('show', () => {
    it('prints every field and the original message as pretty JSON', async () => {
      const result = await run('dead-letters', 'show', 'dlq_002', '--data', dir);
      expect(result.code).toBe(0);
      expect(result.err).toBe('');
      const [fields, original] = result.out.split('original message:\n');
      expect(fields).toContain('id:              dlq_002\n');
      expect(fields).toContain('status:          pending_review\n');
      expect(fields).toContain('message:         msg_002\n');
      expect(fields).toContain('customer:        cust_b\n');
      expect(fields).toContain('channel:         sms\n');
      expect(fields).toContain('tried channels:  sms, sms\n');
      expect(fields).toContain('category:        permanent\n');
      expect(fields).toContain('attempts:        5\n');
      expect(fields).toContain('first attempt:   2026-03-01T09:57:00.000Z\n');
      expect(fields).toContain('last attempt:    2026-03-01T10:02:00.000Z\n');
      expect(fields).toContain('retry message:   -\n');
      // The whole reason, untruncated.
      expect(fields).toContain(`failure reason:  provider said:\n${'x'.repeat(200)}\n`);
      expect(JSON.parse(original ?? '')).toEqual({
        message: {
          id: 'msg_002',
          customerId: 'cust_b',
          channel: 'sms',
          content: { subject: 'Hello 2' },
        },
        template: 'welcome',
        variant: null,
        tried: ['sms', 'sms'],
      });
      expect(original).toContain('\n  "template": "welcome",\n');
    });

    it('--json prints the API representation', async () => {
      const result = await run('dead-letters', 'show', 'dlq_001', '--json', '--data', dir);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.out)).toMatchObject({
        id: 'dlq_001',
        status: 'pending_review',
        failure_reason: 'invalid_recipient: 550 mailbox unavailable',
        original_message: { id: 'msg_001' },
      });
    });

    it('unknown id: NOT_FOUND, exit 1', async () => {
      const result = await run('dead-letters', 'show', 'dlq_nope', '--data', dir);
      expect(result).toEqual({
        code: 1,
        out: '',
        err: "error[NOT_FOUND]: dead letter 'dlq_nope' not found\n",
      });
    });
  });

  describe('retry', () => {
    it('moves the dead letter to retrying and writes the retry command into the customer log', async () => {
      const result = await run('dead-letters', 'retry', 'dlq_004', '--data', dir);
      expect(result.err).toBe('');
      expect(result.code).toBe(0);
      const match = /^retrying dlq_004 as message (msg_[0-9A-Z]{26})\n$/u.exec(result.out);
      expect(match).not.toBeNull();
      const newId = match?.[1] ?? '';

      const updated = await store.getDeadLetter('dlq_004');
      expect(updated).toMatchObject({ status: 'retrying', retryMessageId: newId });

      const commands = await retryCommands(store, 'cust_b');
      expect(commands).toHaveLength(1);
      expect(commands[0]?.payload).toMatchObject({
        dead_letter_id: 'dlq_004',
        message_id: newId,
        original: { template: 'welcome', tried: ['sms', 'email'] },
      });
      expect(commands[0]?.status).toBe('pending');
    });

    it('retries an abandoned dead letter too', async () => {
      const result = await run('dead-letters', 'retry', 'dlq_003', '--data', dir);
      expect(result.code).toBe(0);
      expect((await store.getDeadLetter('dlq_003'))?.status).toBe('retrying');
    });

    it('retry twice: DEAD_LETTER_STATE, exit 1, nothing more written', async () => {
      expect((await run('dead-letters', 'retry', 'dlq_001', '--data', dir)).code).toBe(0);
      const before = await store.getDeadLetter('dlq_001');
      const again = await run('dead-letters', 'retry', 'dlq_001', '--data', dir);
      expect(again).toEqual({
        code: 1,
        out: '',
        err: "error[DEAD_LETTER_STATE]: dead letter 'dlq_001' is retrying; it cannot be retried\n",
      });
      expect(await store.getDeadLetter('dlq_001')).toEqual(before);
      expect(await retryCommands(store, 'cust_a')).toHaveLength(1);
    });

    it('a deleted customer: DEAD_LETTER_CUSTOMER_DELETED, exit 1, still pending review', async () => {
      await store.recordDeliveryOutcomes({
        ...emptyDeliveryOutcomes(),
        deadLetters: [deadLetter(5, { customerId: 'cust_gone' })],
      });
      const result = await run('dead-letters', 'retry', 'dlq_005', '--data', dir);
      expect(result).toEqual({
        code: 1,
        out: '',
        err: "error[DEAD_LETTER_CUSTOMER_DELETED]: dead letter 'dlq_005' cannot be retried: customer 'cust_gone' was deleted; abandon it instead\n",
      });
      expect((await store.getDeadLetter('dlq_005'))?.status).toBe('pending_review');
      expect((await run('dead-letters', 'abandon', 'dlq_005', '--data', dir)).code).toBe(0);
    });

    it('unknown id: NOT_FOUND, exit 1', async () => {
      const result = await run('dead-letters', 'retry', 'dlq_nope', '--data', dir);
      expect(result.code).toBe(1);
      expect(result.err).toBe("error[NOT_FOUND]: dead letter 'dlq_nope' not found\n");
    });

    it('help says a running server picks it up and to fix the profile first', async () => {
      const result = await run('dead-letters', 'retry', '--help');
      expect(result.code).toBe(0);
      expect(result.out).toContain('running server');
      expect(result.out).toContain("fix the customer's profile first");
    });
  });

  describe('abandon', () => {
    it('marks a pending dead letter abandoned', async () => {
      const result = await run('dead-letters', 'abandon', 'dlq_001', '--data', dir);
      expect(result).toEqual({ code: 0, out: 'abandoned dlq_001\n', err: '' });
      expect(await store.getDeadLetter('dlq_001')).toMatchObject({
        status: 'abandoned',
        retryMessageId: null,
      });
      expect(await retryCommands(store, 'cust_a')).toEqual([]);
    });

    it('after a retry: DEAD_LETTER_STATE, exit 1, still retrying', async () => {
      expect((await run('dead-letters', 'retry', 'dlq_001', '--data', dir)).code).toBe(0);
      const result = await run('dead-letters', 'abandon', 'dlq_001', '--data', dir);
      expect(result).toEqual({
        code: 1,
        out: '',
        err: "error[DEAD_LETTER_STATE]: dead letter 'dlq_001' is retrying; it cannot be abandoned\n",
      });
      expect((await store.getDeadLetter('dlq_001'))?.status).toBe('retrying');
    });

    it('twice: DEAD_LETTER_STATE, exit 1', async () => {
      const result = await run('dead-letters', 'abandon', 'dlq_003', '--data', dir);
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        "error[DEAD_LETTER_STATE]: dead letter 'dlq_003' is abandoned; it cannot be abandoned\n",
      );
    });

    it('unknown id: NOT_FOUND, exit 1', async () => {
      const result = await run('dead-letters', 'abandon', 'dlq_nope', '--data', dir);
      expect(result.code).toBe(1);
      expect(result.err).toBe("error[NOT_FOUND]: dead letter 'dlq_nope' not found\n");
    });
  });

  describe('finding the store', () => {
    it.each([['list'], ['show', 'dlq_001'], ['retry', 'dlq_001'], ['abandon', 'dlq_001']])(
      '%s without --data or --config: INVALID_INPUT, exit 1',
      async (...args) => {
        const result = await run('dead-letters', ...args);
        expect(result).toEqual({
          code: 1,
          out: '',
          err: 'error[INVALID_INPUT]: dead-letters needs the store: pass --data DIR (the data directory), --database-url URL or DATABASE_URL (PostgreSQL), or --config PATH (for server.data_dir)\n',
        });
      },
    );

    it('a directory without a database is reported, not created', async () => {
      const empty = join(dir, 'typo');
      const result = await run('dead-letters', 'list', '--data', empty);
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        `error[DATA_NOT_FOUND]: no Waymark database in ${empty} (expected waymark.sqlite); check --data or server.data_dir\n`,
      );
      expect(existsSync(empty)).toBe(false);
    });

    it('a missing id argument is a usage error', async () => {
      const result = await run('dead-letters', 'show', '--data', dir);
      expect(result.code).toBe(1);
      expect(result.err).toContain("missing required argument 'id'");
    });
  });
});
