import { parseDuration } from './duration.js';
import { parsed, rejected, type ParseResult } from './parse-result.js';

/** A comparison in an alert or panel threshold, named like the condition operators. */
export type ThresholdOperator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne';

/** A compiled alert condition such as `error_rate > 0.01 for 5m`. */
export interface AlertCondition {
  /** The text as written. */
  readonly text: string;
  /** Metric name, e.g. `error_rate`, `journey.progression_rate`. */
  readonly metric: string;
  readonly op: ThresholdOperator;
  readonly threshold: number;
  /** How long the comparison must hold before the alert fires, in ms (absent: immediately). */
  readonly forMs?: number;
}

/** A compiled dashboard panel threshold such as `> 0.01`. */
export interface PanelThreshold {
  /** The text as written. */
  readonly text: string;
  readonly op: ThresholdOperator;
  readonly threshold: number;
}

const SYMBOLS: Readonly<Record<string, ThresholdOperator>> = {
  '>': 'gt',
  '>=': 'gte',
  '<': 'lt',
  '<=': 'lte',
  '==': 'eq',
  '=': 'eq',
  '!=': 'ne',
};

const NUMBER = String.raw`[+-]?\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?%?`;
const ALERT_PATTERN = new RegExp(
  String.raw`^([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|==|!=|>|<|=)\s*(${NUMBER})(?:\s+for\s+(.+))?$`,
);
const PANEL_PATTERN = new RegExp(String.raw`^(>=|<=|==|!=|>|<|=)\s*(${NUMBER})$`);

function thresholdNumber(text: string): number {
  const percent = text.endsWith('%');
  const value = Number((percent ? text.slice(0, -1) : text).replaceAll('_', ''));
  return percent ? value / 100 : value;
}

function operatorOf(symbol: string): ThresholdOperator {
  const op = SYMBOLS[symbol];
  if (op === undefined) throw new RangeError(`no operator ${symbol}`); // the patterns only admit SYMBOLS
  return op;
}

/**
 * Parses an alert condition `<metric> <op> <number> [for <duration>]`, where op is one of
 * `> >= < <= == !=` and the number may end in `%` (`> 1%` is `> 0.01`).
 */
export function parseAlertCondition(text: string): ParseResult<AlertCondition> {
  const expected =
    "expected '<metric> <op> <number> [for <duration>]' such as 'error_rate > 0.01 for 5m'";
  const match = ALERT_PATTERN.exec(text.trim());
  if (!match) return rejected(`${expected}; found '${text}'`);
  const [, metric = '', symbol = '', number = '', forText] = match;
  const threshold = thresholdNumber(number);
  if (!Number.isFinite(threshold)) return rejected(`${expected}; '${number}' is not a number`);
  const base = { text, metric, op: operatorOf(symbol), threshold };
  if (forText === undefined) return parsed(base);
  const sustained = parseDuration(forText);
  if (!sustained.ok) return rejected(`in '${text}': ${sustained.message}`);
  if (sustained.value.ms <= 0) return rejected(`in '${text}': the 'for' duration must be positive`);
  return parsed({ ...base, forMs: sustained.value.ms });
}

/** Parses a panel threshold `<op> <number>` such as `> 0.01`. */
export function parsePanelThreshold(text: string): ParseResult<PanelThreshold> {
  const match = PANEL_PATTERN.exec(text.trim());
  if (!match) return rejected(`expected '<op> <number>' such as '> 0.01'; found '${text}'`);
  const [, symbol = '', number = ''] = match;
  const threshold = thresholdNumber(number);
  if (!Number.isFinite(threshold)) return rejected(`expected a number in '${text}'`);
  return parsed({ text, op: operatorOf(symbol), threshold });
}
