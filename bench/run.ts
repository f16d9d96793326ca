/**
 * Runs the benchmarks: `npm run bench` runs all, `npm run bench -- rules` only the named ones.
 * `--quick` takes fewer, shorter samples (for a smoke run; not for published numbers).
 *
 * Each benchmark prints its checks and tables (Markdown, ready for docs/BENCHMARKS.md) and its raw
 * results go to bench/results/<name>.json together with the machine they were measured on. The
 * exit code is 1 when any benchmark's correctness check failed: numbers from engines that disagree
 * are not worth publishing.
 *
 * To add a benchmark, export a `Benchmark` from a `*.bench.ts` file and list it in `BENCHMARKS`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sink, type Benchmark, type MeasureOptions, type ReportTable } from './harness.js';
import { channelBenchmark, sendTimeBenchmark } from './bandits.bench.js';
import { deliveryBenchmark } from './delivery.bench.js';
import { ingestBenchmark } from './ingest.bench.js';
import { rulesBenchmark } from './rules.bench.js';
import { scaleoutBenchmark } from './scaleout.bench.js';
import { timersBenchmark } from './timers.bench.js';

const BENCHMARKS: readonly Benchmark[] = [
  rulesBenchmark,
  ingestBenchmark,
  timersBenchmark,
  deliveryBenchmark,
  sendTimeBenchmark,
  channelBenchmark,
  scaleoutBenchmark,
];

function machine(): Record<string, unknown> {
  return {
    node: process.version,
    v8: process.versions.v8,
    os: `${type()} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    nproc: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    // Other work on the machine shows up here; compare runs only at similar load.
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    exposeGc: typeof (globalThis as { gc?: unknown }).gc === 'function',
    date: new Date().toISOString(),
  };
}

function markdownTable(table: ReportTable): string {
  const lines = [
    `### ${table.title}`,
    '',
    `| ${table.columns.join(' | ')} |`,
    `| ${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  if (table.notes !== undefined && table.notes.length > 0) lines.push('', ...table.notes);
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; available: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 1;
  }
  const selected =
    names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));
  const options: MeasureOptions = quick ? { warmupMs: 100, sampleMs: 50, samples: 3 } : {};
  const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(resultsDir, { recursive: true });
  const env = machine();
  process.stdout.write(`machine: ${JSON.stringify(env)}\n`);
  let failed = false;
  for (const benchmark of selected) {
    process.stdout.write(`\n## ${benchmark.name}: ${benchmark.description}\n\n`);
    const report = await benchmark.run(options);
    for (const check of report.checks) {
      process.stdout.write(`${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
      failed ||= !check.passed;
    }
    for (const table of report.tables) process.stdout.write(`\n${markdownTable(table)}\n`);
    const file = join(resultsDir, `${benchmark.name}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ benchmark: benchmark.name, quick, machine: env, ...report }, null, 2)}\n`,
    );
    process.stdout.write(`\nresults: ${file}\n`);
  }
  // Printing the sink makes every measured result observable.
  process.stdout.write(`\n(sink ${sink()})\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
