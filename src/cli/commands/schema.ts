import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { configJsonSchema } from '../../config/index.js';
import type { CommandContext } from '../program.js';

/** The JSON Schema as committed in `schema/waymark.schema.json` (two-space JSON, final newline). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/**
 * `waymark schema [--out FILE]`: prints the JSON Schema of the config language (input side), for
 * editors (`# yaml-language-server: $schema=schema/waymark.schema.json`), or writes it to FILE.
 */
export function registerSchemaCommand(program: Command, context: CommandContext): void {
  program
    .command('schema')
    .description('print the JSON Schema of the config files (for editor completion and checks)')
    .option('-o, --out <file>', 'write the schema to this file instead of stdout')
    .action(async (options: { out?: string }) => {
      const text = configJsonSchemaText();
      if (options.out === undefined) {
        context.io.stdout(text);
        return;
      }
      await mkdir(dirname(options.out), { recursive: true });
      await writeFile(options.out, text, 'utf8');
      context.io.stdout(`wrote ${options.out}\n`);
    });
}
