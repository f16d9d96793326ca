import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { InvalidInputError, type NewEvent } from '../../core/index.js';
import { simulate, toWireJourneyEvent } from '../../engine/index.js';
import {
  parseCustomerFile,
  parseEventInput,
  parseInstant,
  type CustomerInput,
} from '../../ingest/index.js';
import { openStore } from '../../store/index.js';
import type { CommandContext } from '../program.js';

/**
 * `waymark simulate --config DIR --customers FILE --events FILE --until TIME [--seed N]`
 *
 * Runs the real engine on a throw-away in-memory store and a virtual clock, and prints every
 * journey event as NDJSON ordered by time (the guide's `JourneyEvent` shape). Messages go to a
 * recording channel; nothing is sent. The same inputs and seed give the same output.
 */
export function registerSimulateCommand(program: Command, context: CommandContext): void {
  program
    .command('simulate')
    .description('run journeys in simulated time and print journey events as NDJSON')
    .requiredOption('--config <path>', 'config file or directory')
    .option('--customers <file>', 'customer profiles: CSV, NDJSON or a JSON array')
    .option('--events <file>', 'events, one JSON object per line (NDJSON)')
    .requiredOption('--until <time>', 'stop at this instant (ISO-8601)')
    .option('--start <time>', 'start at this instant (default: the first event)')
    .option('--seed <seed>', 'seed of random choices (splits, holdouts)', 'waymark')
    .option('--messages', 'also print every message that would be sent')
    .action(
      async (options: {
        config: string;
        customers?: string;
        events?: string;
        until: string;
        start?: string;
        seed: string;
        messages?: boolean;
      }) => {
        const until = instantOption('--until', options.until);
        const start =
          options.start === undefined ? undefined : instantOption('--start', options.start);
        const config = await loadConfig(options.config);
        const customers = options.customers ? await readCustomers(options.customers) : [];
        const events = options.events ? await readEvents(options.events, start ?? until) : [];
        const result = await simulate({
          config,
          openStore: () => openStore({ file: ':memory:' }),
          customers,
          events,
          start,
          until,
          seed: options.seed,
        });
        const lines = result.journeyEvents.map((e) => JSON.stringify(toWireJourneyEvent(e)));
        if (options.messages === true) {
          for (const m of result.messages) lines.push(JSON.stringify({ message: m }));
        }
        context.io.stdout(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      },
    );
}

function instantOption(flag: string, text: string): number {
  const instant = parseInstant(text);
  if (instant === null) {
    throw new InvalidInputError(`${flag}: expected an ISO-8601 date-time, got '${text}'`);
  }
  return instant;
}

/** Reads a customers file; any problem stops the run with every problem listed by line. */
export async function readCustomers(file: string): Promise<CustomerInput[]> {
  const parsed = parseCustomerFile(await readText(file), file);
  if (parsed.problems.length > 0) {
    throw new InvalidInputError(
      `${file}: ${parsed.problems.length} problem(s)\n${parsed.problems
        .map((p) => `${p.file}:${p.line}: ${p.message}`)
        .join('\n')}`,
      { problems: parsed.problems },
    );
  }
  return parsed.customers;
}

/** Reads an NDJSON events file; events without a timestamp happen at `defaultTime`. */
export async function readEvents(file: string, defaultTime: number): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  const problems: string[] = [];
  (await readText(file)).split(/\r?\n/u).forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problems.push(`${file}:${line}: invalid JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = parseEventInput(value, defaultTime);
    if (parsed.event) events.push(parsed.event);
    else for (const p of parsed.problems) problems.push(`${file}:${line}: ${p.path}: ${p.message}`);
  });
  if (problems.length > 0) {
    throw new InvalidInputError(`${file}: ${problems.length} problem(s)\n${problems.join('\n')}`, {
      problems,
    });
  }
  return events;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code ?? 'error'})`,
    );
  }
}
