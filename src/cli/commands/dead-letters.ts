import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import {
  InvalidInputError,
  NotFoundError,
  randomIds,
  systemClock,
  type DeadLetterRecord,
  type DeadLetterStatus,
  type Store,
} from '../../core/index.js';
import { abandonDeadLetter, deadLetterJson, retryDeadLetter } from '../../delivery/index.js';
import { SQLITE_FILE_NAME } from '../../store/index.js';
import type { CommandContext } from '../program.js';
import { openTargetStore, resolveStoreTarget } from './store-target.js';

/** Every status a dead letter can be in, in the order an operator meets them. */
const STATUSES: readonly DeadLetterStatus[] = ['pending_review', 'retrying', 'abandoned'];

/** Page bounds, the same as `GET /v1/dead-letters` (the API keeps its own copy behind its index). */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** Failure reasons are often whole provider error bodies; the table shows a prefix, `show` all. */
const REASON_WIDTH = 60;

/** Where the store is: the options every subcommand takes. */
interface StoreOptions {
  data?: string;
  databaseUrl?: string;
  config?: string;
}

interface ListOptions extends StoreOptions {
  status?: string;
  customer?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
}

interface ShowOptions extends StoreOptions {
  json?: boolean;
}

const RETRY_HELP = `
A retry writes a command into the customer's event log; it does not send anything itself. A
running server (waymark serve on the same data; if none runs, the next one to start) picks it up
from the log and queues the message again on its channel under a new message id, reading the
customer's addresses and consent afresh.
So fix the customer's profile first (e.g. waymark import customers, or a customer.updated event),
then retry. Allowed from pending_review and abandoned.
`;

/**
 * `waymark dead-letters list|show|retry|abandon`: the dead-letter queue from a terminal, working
 * directly on the store (`--data DIR`, `--database-url URL` or `DATABASE_URL` for PostgreSQL, or
 * `--config PATH` for `server.data_dir` / `server.database_url`) like
 * `waymark import customers`, so it works whether or not a server is running. The operations are
 * the ones `/v1/dead-letters` exposes and share their code (`retryDeadLetter`,
 * `abandonDeadLetter`, `deadLetterJson`), so `--json` output is the API's representation.
 */
export function registerDeadLetterCommands(program: Command, context: CommandContext): void {
  const { io } = context;
  const deadLetters = program
    .command('dead-letters')
    .description('review, retry or abandon messages no channel could deliver');

  storeOptions(
    deadLetters
      .command('list')
      .description('list dead letters, oldest first')
      .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
      .option('--customer <id>', "only this customer's dead letters")
      .option('--limit <n>', `at most this many (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`)
      .option('--cursor <cursor>', 'continue after the previous page (its next_cursor)')
      .option('--json', 'print {items, next_cursor} as JSON, items as the API represents them'),
  ).action(async (options: ListOptions) => {
    // Checked before the store is opened, so a typo costs nothing and creates nothing.
    const status = parseStatus(options.status);
    const limit = parseLimit(options.limit);
    await withStore(options, context, async (store) => {
      const page = await store.listDeadLetters({
        status,
        customerId: options.customer,
        limit,
        cursor: options.cursor,
      });
      if (options.json === true) {
        const body = { items: page.items.map(deadLetterJson), next_cursor: page.nextCursor };
        io.stdout(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      if (page.items.length === 0) {
        io.stdout('no dead letters\n');
        return;
      }
      io.stdout(formatTable(page.items));
      if (page.nextCursor !== null) io.stdout(`more: --cursor ${page.nextCursor}\n`);
    });
  });

  storeOptions(
    deadLetters
      .command('show')
      .description('one dead letter with every field and its original message')
      .argument('<id>', 'dead letter id (dlq_...)')
      .option('--json', 'print it as JSON, as the API represents it'),
  ).action(async (id: string, options: ShowOptions) => {
    await withStore(options, context, async (store) => {
      const found = await store.getDeadLetter(id);
      if (found === null) throw new NotFoundError('dead letter', id);
      io.stdout(
        options.json === true
          ? `${JSON.stringify(deadLetterJson(found), null, 2)}\n`
          : formatDetails(found),
      );
    });
  });

  storeOptions(
    deadLetters
      .command('retry')
      .description('send a dead letter again, after fixing the customer profile')
      .argument('<id>', 'dead letter id (dlq_...)')
      .addHelpText('after', RETRY_HELP),
  ).action(async (id: string, options: StoreOptions) => {
    await withStore(options, context, async (store) => {
      const { retryMessageId } = await retryDeadLetter(store, id, {
        now: systemClock.now(),
        ids: randomIds(() => systemClock.now()),
      });
      io.stdout(`retrying ${id} as message ${retryMessageId}\n`);
    });
  });

  storeOptions(
    deadLetters
      .command('abandon')
      .description('give up on a dead letter (only from pending_review)')
      .argument('<id>', 'dead letter id (dlq_...)'),
  ).action(async (id: string, options: StoreOptions) => {
    await withStore(options, context, async (store) => {
      await abandonDeadLetter(store, id, systemClock.now());
      io.stdout(`abandoned ${id}\n`);
    });
  });
}

function storeOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'directory of the embedded database')
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option(
      '--config <path>',
      'config file or directory (for server.data_dir / server.database_url)',
    );
}

/**
 * Opens the store for one command and always closes it. Unlike `import customers`, there is no
 * default directory and the database must already exist and be migrated: opening a mistyped path
 * (or an empty PostgreSQL database) would create an empty store and report "no dead letters",
 * hiding the real queue.
 */
async function withStore(
  options: StoreOptions,
  context: CommandContext,
  use: (store: Store) => Promise<void>,
): Promise<void> {
  const target = resolveStoreTarget(
    {
      data: options.data,
      databaseUrl: options.databaseUrl,
      server:
        options.config === undefined ? undefined : (await loadConfig(options.config)).config.server,
      configPath: options.config,
      fallbackDataDir: null,
      missing:
        'dead-letters needs the store: pass --data DIR (the data directory), --database-url URL or DATABASE_URL (PostgreSQL), or --config PATH (for server.data_dir)',
    },
    context.env,
  );
  if (target.kind === 'sqlite' && !existsSync(join(target.dataDir, SQLITE_FILE_NAME))) {
    throw new InvalidInputError(
      `no Waymark database in ${target.dataDir} (expected ${SQLITE_FILE_NAME}); check --data or server.data_dir`,
      { dataDir: target.dataDir },
      'DATA_NOT_FOUND',
    );
  }
  const store = await openTargetStore(target, {
    migrate: target.kind === 'sqlite' ? 'yes' : 'check',
  });
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

function parseStatus(value: string | undefined): DeadLetterStatus | undefined {
  if (value === undefined) return undefined;
  const status = STATUSES.find((s) => s === value);
  if (status === undefined) {
    throw new InvalidInputError(`--status must be one of ${STATUSES.join(', ')}; got '${value}'`, {
      status: value,
    });
  }
  return status;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  // A regex rather than Number(): Number accepts '', '1e2', ' 5' and '0x10'.
  const limit = /^\d{1,7}$/u.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) {
    throw new InvalidInputError(
      `--limit must be a whole number from 1 to ${MAX_LIMIT}; got '${value}'`,
      { limit: value },
    );
  }
  return limit;
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}

/** One line, at most `width` characters: reasons may hold newlines from provider bodies. */
function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/gu, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Aligned columns; the reason is last so long ids never push it off the screen's left part. */
function formatTable(items: readonly DeadLetterRecord[]): string {
  const header = ['ID', 'STATUS', 'CHANNEL', 'CUSTOMER', 'ATTEMPTS', 'LAST ATTEMPT', 'REASON'];
  const rows = items.map((d) => [
    d.id,
    d.status,
    d.channel,
    d.customerId,
    String(d.attemptCount),
    iso(d.lastAttemptAt),
    truncate(d.failureReason, REASON_WIDTH),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function formatDetails(d: DeadLetterRecord): string {
  const tried = d.originalMessage['tried'];
  const fields: [string, string][] = [
    ['id', d.id],
    ['status', d.status],
    ['message', d.messageId],
    ['customer', d.customerId],
    ['channel', d.channel],
    [
      'tried channels',
      Array.isArray(tried) && tried.length > 0
        ? tried.map((c) => (typeof c === 'string' ? c : JSON.stringify(c))).join(', ')
        : '-',
    ],
    ['category', d.category],
    ['attempts', String(d.attemptCount)],
    ['first attempt', iso(d.firstAttemptAt)],
    ['last attempt', iso(d.lastAttemptAt)],
    ['created', iso(d.createdAt)],
    ['updated', iso(d.updatedAt)],
    ['retry message', d.retryMessageId ?? '-'],
    ['failure reason', d.failureReason],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  const lines = fields.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${value}\n`).join('');
  return `${lines}original message:\n${JSON.stringify(d.originalMessage, null, 2)}\n`;
}
