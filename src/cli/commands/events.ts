import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { InvalidInputError, WaymarkError, systemClock, type NewEvent } from '../../core/index.js';
import { parseCustomerFile } from '../../ingest/index.js';
import type { CommandContext } from '../program.js';
import { readEvents } from './simulate.js';
import { openTargetStore, resolveStoreTarget } from './store-target.js';

/** Events per request when sending to a server (well under the API's 1,000). */
const SEND_BATCH = 500;

/**
 * `waymark events send FILE.ndjson [--url URL]`: posts events to a running server in batches,
 * after checking every line locally (so a bad line 9,000 is reported before anything is sent).
 *
 * `waymark import customers FILE [--data DIR | --database-url URL | --config DIR]`: writes each profile as a
 * `customer.updated` event into the store's event log, so triggers and rules see the change like
 * any other update. Each row gets an idempotency key from the file's content, so importing the same
 * file twice changes nothing.
 */
export function registerEventCommands(program: Command, context: CommandContext): void {
  const events = program.command('events').description('send events to a running server');
  events
    .command('send')
    .description('post an NDJSON file of events to a running server')
    .argument('<file>', 'events, one JSON object per line')
    .option('--url <url>', 'server base URL', 'http://127.0.0.1:3000')
    .action(async (file: string, options: { url: string }) => {
      const parsed = await readEvents(file, systemClock.now());
      let accepted = 0;
      let duplicates = 0;
      for (let i = 0; i < parsed.length; i += SEND_BATCH) {
        const batch = parsed.slice(i, i + SEND_BATCH).map(toWire);
        const answer = await post(`${options.url.replace(/\/$/u, '')}/v1/events`, {
          events: batch,
        });
        accepted += Number(answer['accepted'] ?? 0);
        duplicates += Number(answer['duplicates'] ?? 0);
      }
      context.io.stdout(
        `sent ${parsed.length} events: ${accepted} accepted, ${duplicates} duplicates\n`,
      );
    });

  const importCommand = program.command('import').description('import data into the store');
  importCommand
    .command('customers')
    .description('import customer profiles from CSV, NDJSON or a JSON array')
    .argument('<file>', 'customers file')
    .option('--data <dir>', 'directory of the embedded database')
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option(
      '--config <path>',
      'config file or directory (for server.data_dir / server.database_url)',
    )
    .action(
      async (file: string, options: { data?: string; databaseUrl?: string; config?: string }) => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          throw new InvalidInputError(`${file}: no such file or not readable`);
        }
        const parsed = parseCustomerFile(text, file);
        if (parsed.problems.length > 0) {
          throw new InvalidInputError(
            `${file}: ${parsed.problems.length} problem(s), nothing imported\n${parsed.problems
              .map((p) => `${p.file}:${p.line}: ${p.message}`)
              .join('\n')}`,
            { problems: parsed.problems },
          );
        }
        const target = resolveStoreTarget(
          {
            databaseUrl: options.databaseUrl,
            data: options.data,
            server:
              options.config === undefined
                ? undefined
                : (await loadConfig(options.config)).config.server,
            configPath: options.config,
            fallbackDataDir: 'data',
          },
          context.env,
        );
        const store = await openTargetStore(target);
        try {
          const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
          const now = systemClock.now();
          const rows: NewEvent[] = parsed.customers.map((c) => ({
            type: 'customer.updated',
            customerId: c.id,
            occurredAt: now,
            idempotencyKey: `import:${digest}:${c.id}`,
            payload: { changes: c.attributes, source: 'import' },
          }));
          let accepted = 0;
          for (let i = 0; i < rows.length; i += 1000) {
            const results = await store.appendEvents(rows.slice(i, i + 1000), now);
            accepted += results.filter((r) => r.status === 'accepted').length;
          }
          const columns = Object.entries(parsed.columns)
            .map(([name, type]) => `${name}:${type}`)
            .join(', ');
          if (columns !== '') context.io.stderr(`columns: ${columns}\n`);
          context.io.stdout(
            `imported ${parsed.customers.length} customers (${accepted} new updates, ${parsed.customers.length - accepted} already imported)\n`,
          );
        } finally {
          await store.close();
        }
      },
    );
}

function toWire(e: NewEvent): Record<string, unknown> {
  return {
    ...e.payload,
    ...(e.id === undefined ? {} : { id: e.id }),
    type: e.type,
    customer_id: e.customerId,
    timestamp: new Date(e.occurredAt).toISOString(),
    ...(e.idempotencyKey === undefined ? {} : { idempotency_key: e.idempotencyKey }),
  };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new WaymarkError(
      'SERVER_UNREACHABLE',
      `cannot reach ${url}: ${(error as Error).message}`,
      {
        retryable: true,
      },
    );
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const error = answer['error'] as { code?: string; message?: string } | undefined;
    throw new WaymarkError(
      error?.code ?? 'SERVER_ERROR',
      `${url}: ${response.status} ${error?.message ?? ''}`,
    );
  }
  return answer;
}
