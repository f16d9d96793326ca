import { Command, CommanderError } from 'commander';
import { formatCliError, processIO, type CliIO } from './output.js';
import { registerCommands } from './commands/index.js';

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The input (config, file, argument) was rejected; the message says where and why. */
  invalidInput: 1,
  /** Waymark itself failed; a bug or an unavailable resource. */
  internal: 2,
} as const;

/** Context handed to every command: its output streams and whether to show stack traces. */
export interface CommandContext {
  io: CliIO;
  debug: boolean;
  /** Set by a command that wants a non-zero exit without throwing (e.g. `validate` found problems). */
  setExitCode(code: number): void;
  /** The environment `main` was given (DATABASE_URL, ...): commands read it here, not from `process`. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs the `waymark` CLI with `argv` (without `node` and the script path) and resolves to the exit
 * code. It never calls `process.exit`, so it can run in-process in tests.
 */
export async function main(
  argv: readonly string[],
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const debug = env['WAYMARK_DEBUG'] === '1';
  let exitCode: number = ExitCode.ok;
  const context: CommandContext = {
    io,
    debug,
    setExitCode: (code) => {
      exitCode = code;
    },
    env,
  };
  const program = new Command('waymark')
    .description('Customer journey orchestration engine')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  registerCommands(program, context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors with 1.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.invalidInput;
    }
    io.stderr(formatCliError(error, debug));
    return isInputError(error) ? ExitCode.invalidInput : ExitCode.internal;
  }
}

function isInputError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    error.code !== 'INTERNAL'
  );
}
