import type { Command } from 'commander';
import {
  formatProblem,
  validateConfig,
  type ConfigProblem,
  type LoadedConfig,
  type WaymarkConfig,
} from '../../config/index.js';
import { BUILT_IN_PROVIDERS, providerSettingProblems } from '../../delivery/index.js';
import { WaymarkError } from '../../core/index.js';
import { ExitCode, type CommandContext } from '../program.js';

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** What a valid config holds, for the one-line summary. */
function counts(config: WaymarkConfig, files: number) {
  return {
    files,
    journeys: config.journeys.length,
    rules: config.rules.length,
    triggers: config.triggers.length,
    channels: Object.keys(config.channels).length,
  };
}

/**
 * `waymark validate PATH [--json]`: checks a config file or directory without starting anything.
 *
 * Valid: exit 0, a one-line summary on stdout and any warnings on stderr. Invalid: exit 1 and
 * every problem on stderr as `file:line:col: error: path: message`, the format editors and CI
 * problem matchers read (warnings use the same format with `warning`). `--json` prints
 * `{ok, files, summary?, problems}` on stdout instead.
 */
export function registerValidateCommand(program: Command, context: CommandContext): void {
  program
    .command('validate')
    .description('check a config file or directory (*.yaml, *.yml) and report every problem')
    .argument('<path>', 'config file or directory')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (path: string, options: { json?: boolean }) => {
      const { io } = context;
      let result: Awaited<ReturnType<typeof validateConfig>>;
      try {
        result = await validateConfig(path);
      } catch (error) {
        if (options.json === true && error instanceof WaymarkError) {
          io.stdout(`${JSON.stringify({ ok: false, error: error.toJSON() }, null, 2)}\n`);
          context.setExitCode(ExitCode.invalidInput);
          return;
        }
        throw error;
      }
      const { config } = result;
      const problems = [...result.problems, ...providerProblems(config)];
      const errors = problems.filter((p) => p.severity === 'error');
      const warnings = problems.filter((p) => p.severity === 'warning');
      if (options.json === true) {
        const summary = config ? counts(config.config, config.files.length) : undefined;
        const files = config?.files;
        io.stdout(
          `${JSON.stringify({ ok: config !== undefined, files, summary, problems }, null, 2)}\n`,
        );
      } else {
        for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
        if (config) {
          const c = counts(config.config, config.files.length);
          const noted = warnings.length > 0 ? ` (${plural(warnings.length, 'warning')})` : '';
          io.stdout(
            `ok: ${plural(c.files, 'file')}, ${plural(c.journeys, 'journey')}, ${plural(c.rules, 'rule')}, ` +
              `${plural(c.triggers, 'trigger')}, ${plural(c.channels, 'channel')}${noted}\n`,
          );
        } else {
          io.stderr(`invalid: ${describeCounts(errors, warnings)}\n`);
        }
      }
      if (!config) context.setExitCode(ExitCode.invalidInput);
    });
}

/** Provider settings problems as located warnings (see `providerSettingProblems`). */
function providerProblems(config: LoadedConfig | undefined): ConfigProblem[] {
  if (config === undefined) return [];
  return providerSettingProblems(config.config.channels, BUILT_IN_PROVIDERS).map((p) => {
    const where = config.locate(p.path) ?? config.locate(p.path.slice(0, 2));
    return {
      file: where?.file ?? config.files[0] ?? '',
      line: where?.line ?? 1,
      column: where?.column ?? 1,
      path: p.path
        .map((s) => (typeof s === 'number' ? `[${String(s)}]` : `.${s}`))
        .join('')
        .slice(1),
      message: p.message,
      severity: 'warning',
    };
  });
}

function describeCounts(
  errors: readonly ConfigProblem[],
  warnings: readonly ConfigProblem[],
): string {
  const parts = [plural(errors.length, 'error')];
  if (warnings.length > 0) parts.push(plural(warnings.length, 'warning'));
  return parts.join(', ');
}
