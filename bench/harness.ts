/**
 * The benchmark harness: timing with warm-up and medians, a sink against dead-code elimination,
 * and the report shape every benchmark returns to bench/run.ts.
 *
 * Timing method: a subject is one pass over the whole data set and returns a number derived from
 * every result (a count of `true`s, a sum of fired rules). The harness warms the subject up, then
 * takes several samples, each repeating passes for at least `sampleMs`, and reports the median
 * rate. Every returned number is added to `sink`, which run.ts prints, so the optimiser can never
 * prove a result unused. With `--expose-gc` a collection runs before each sample so one subject's
 * garbage is not charged to the next.
 *
 * Rates are per CPU second of this process (`process.cpuUsage`: user + system time of all its
 * threads, so garbage collection on helper threads is charged too). On a machine shared with other
 * work, wall-clock rates swing with the load while CPU-time rates stay put; the wall-clock rates
 * are recorded as well (`wallPerSecond`) and agree with them on an idle machine.
 */
import { performance } from 'node:perf_hooks';

/** Options for one measurement. */
export interface MeasureOptions {
  /** Time spent running the subject before sampling, ms. Default 500. */
  readonly warmupMs?: number;
  /** Minimum duration of one sample, ms. Default 250. */
  readonly sampleMs?: number;
  /** Number of samples; the median is reported. Default 7. */
  readonly samples?: number;
}

/** One measured subject. */
export interface Measurement {
  readonly name: string;
  /** Median units per CPU second over the samples (e.g. evaluations/s). */
  readonly perSecond: number;
  /** Every sample's rate per CPU second, in the order taken. */
  readonly samples: readonly number[];
  /** Median units per wall-clock second. */
  readonly wallPerSecond: number;
  /** Units processed by one pass (e.g. 10,000 customers). */
  readonly unitsPerPass: number;
}

/** A table for the console and docs/BENCHMARKS.md. */
export interface ReportTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Lines printed under the table. */
  readonly notes?: readonly string[];
}

/** A correctness check a benchmark made before timing anything. */
export interface ReportCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** What a benchmark returns. `data` goes to bench/results/<name>.json verbatim. */
export interface BenchmarkReport {
  readonly tables: readonly ReportTable[];
  readonly checks: readonly ReportCheck[];
  readonly data: unknown;
}

/** A registered benchmark. */
export interface Benchmark {
  /** Short name used on the command line (`npm run bench -- rules`). */
  readonly name: string;
  readonly description: string;
  readonly run: (options: MeasureOptions) => Promise<BenchmarkReport>;
}

let sinkValue = 0;

/** Everything subjects returned; printed at the end so no result is dead code. */
export function sink(): number {
  return sinkValue;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

function result(
  name: string,
  unitsPerPass: number,
  rates: readonly number[],
  wallRates: readonly number[],
): Measurement {
  return {
    name,
    perSecond: median(rates),
    samples: rates,
    wallPerSecond: median(wallRates),
    unitsPerPass,
  };
}

/** Measures a synchronous subject; `pass` processes `unitsPerPass` units. */
export function measure(
  name: string,
  unitsPerPass: number,
  pass: () => number,
  options: MeasureOptions = {},
): Measurement {
  const { warmupMs = 500, sampleMs = 250, samples = 7 } = options;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) sinkValue += pass();
  const rates: number[] = [];
  const wallRates: number[] = [];
  for (let s = 0; s < samples; s++) {
    collectGarbage();
    let passes = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let elapsed = 0;
    do {
      sinkValue += pass();
      passes++;
      elapsed = performance.now() - start;
    } while (elapsed < sampleMs);
    rates.push((passes * unitsPerPass) / cpuSeconds(cpuStart));
    wallRates.push((passes * unitsPerPass) / (elapsed / 1000));
  }
  return result(name, unitsPerPass, rates, wallRates);
}

/** Measures an asynchronous subject (one awaited pass at a time), like `measure`. */
export async function measureAsync(
  name: string,
  unitsPerPass: number,
  pass: () => Promise<number>,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const { warmupMs = 500, sampleMs = 250, samples = 7 } = options;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) sinkValue += await pass();
  const rates: number[] = [];
  const wallRates: number[] = [];
  for (let s = 0; s < samples; s++) {
    collectGarbage();
    let passes = 0;
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let elapsed = 0;
    do {
      sinkValue += await pass();
      passes++;
      elapsed = performance.now() - start;
    } while (elapsed < sampleMs);
    rates.push((passes * unitsPerPass) / cpuSeconds(cpuStart));
    wallRates.push((passes * unitsPerPass) / (elapsed / 1000));
  }
  return result(name, unitsPerPass, rates, wallRates);
}

/** `1234567.8` → `1,234,568`; rates below 100 keep one decimal. */
export function formatRate(value: number): string {
  if (value < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** A ratio such as `12.3×` (or `0.45×`). */
export function formatRatio(value: number): string {
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

/** Spread of the samples around the median, as `±x%` (half the min-max range). */
export function formatSpread(measurement: Measurement): string {
  const min = Math.min(...measurement.samples);
  const max = Math.max(...measurement.samples);
  return `±${(((max - min) / 2 / measurement.perSecond) * 100).toFixed(1)}%`;
}
