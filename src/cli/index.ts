export { main, ExitCode } from './program.js';
export type { CommandContext } from './program.js';
export type { CliIO } from './output.js';
