import { ConfigError, formatProblem } from '../config/index.js';
import { WaymarkError } from '../core/index.js';

/** Where a command writes; injected so end-to-end tests can run the CLI in-process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's real streams. */
export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Formats any thrown value for a person at a terminal: the stable error code and message, never a
 * stack trace (set WAYMARK_DEBUG=1 for one; see `readDebugFlag`).
 */
export function formatCliError(error: unknown, debug: boolean): string {
  if (error instanceof ConfigError) {
    // Every located problem, one per line, exactly as `waymark validate` prints them.
    const lines = error.problems.map((p) => `${formatProblem(p)}\n`).join('');
    const errors = error.problems.filter((p) => p.severity === 'error').length;
    return `${lines}error[${error.code}]: invalid configuration (${errors} error${errors === 1 ? '' : 's'})\n`;
  }
  if (error instanceof WaymarkError) {
    const head = `error[${error.code}]: ${error.message}\n`;
    return debug && error.stack ? `${head}${error.stack}\n` : head;
  }
  const message = error instanceof Error ? error.message : String(error);
  const head = `error[INTERNAL]: ${message}\n`;
  return debug && error instanceof Error && error.stack ? `${head}${error.stack}\n` : head;
}
