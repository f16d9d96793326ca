import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import { registerDeadLetterCommands } from './dead-letters.js';
import { registerEventCommands } from './events.js';
import { registerMigrateCommand } from './migrate.js';
import { registerModelCommands } from './models.js';
import { registerSchemaCommand } from './schema.js';
import { registerServeCommand } from './serve.js';
import { registerSimulateCommand } from './simulate.js';
import { registerValidateCommand } from './validate.js';
import { registerWorkerCommand } from './worker.js';

/**
 * Every command lives in its own file beside this one and is registered here, so the list of
 * what `waymark` can do reads in one place.
 */
export function registerCommands(program: Command, context: CommandContext): void {
  program.version('0.1.0');
  // Commands are added by their own modules: register<Name>Command(program, context).
  registerValidateCommand(program, context);
  registerSchemaCommand(program, context);
  registerServeCommand(program, context);
  registerWorkerCommand(program, context);
  registerMigrateCommand(program, context);
  registerSimulateCommand(program, context);
  registerEventCommands(program, context);
  registerDeadLetterCommands(program, context);
  registerModelCommands(program, context);
  if (context.debug) program.showSuggestionAfterError(true);
}
