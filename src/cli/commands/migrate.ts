import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import {
  LATEST_SCHEMA_VERSION,
  POSTGRES_SCHEMA_VERSION,
  createDatabaseIfMissing,
} from '../../store/index.js';
import type { CommandContext } from '../program.js';
import { located, openTargetStore, resolveStoreTarget } from './store-target.js';

/** Options of `waymark migrate`. */
interface MigrateOptions {
  databaseUrl?: string;
  data?: string;
  config?: string;
  createDatabase?: boolean;
}

/**
 * `waymark migrate [--database-url URL | --data DIR | --config PATH] [--create-database]`: applies
 * the store's pending schema migrations and exits. `serve` does the same at start-up; running it
 * first (a deploy step, a release job) keeps schema changes out of the processes' start and lets
 * the servers run with `migrate` already done. Safe when several run at once: each migration is
 * applied exactly once.
 */
export function registerMigrateCommand(program: Command, context: CommandContext): void {
  program
    .command('migrate')
    .description("apply the store's pending schema migrations (PostgreSQL or the embedded store)")
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
    .option('--data <dir>', 'directory of the embedded database, instead of PostgreSQL')
    .option(
      '--config <path>',
      'config file or directory (for server.database_url / server.data_dir)',
    )
    .option('--create-database', "create the PostgreSQL database first if it doesn't exist")
    .action(async (options: MigrateOptions) => {
      const server =
        options.config === undefined ? undefined : (await loadConfig(options.config)).config.server;
      const target = resolveStoreTarget(
        {
          databaseUrl: options.databaseUrl,
          data: options.data,
          server,
          configPath: options.config,
          fallbackDataDir: null,
        },
        context.env,
      );
      if (options.createDatabase === true && target.kind === 'postgres') {
        if (await createDatabaseIfMissing(target.databaseUrl)) {
          context.io.stdout(`waymark: created database ${target.shown}\n`);
        }
      }
      // Opened without migrating, so that migrate() below is the step whose failure is reported.
      const store = await openTargetStore(target, { migrate: 'no' });
      try {
        await store.migrate();
      } catch (error) {
        throw located(error, target.source);
      } finally {
        await store.close();
      }
      const [backend, version] =
        target.kind === 'postgres'
          ? ['PostgreSQL', POSTGRES_SCHEMA_VERSION]
          : ['embedded store', LATEST_SCHEMA_VERSION];
      context.io.stdout(
        `waymark: ${backend} ${target.shown} (${target.source}) is at schema version ${version}\n`,
      );
    });
}
