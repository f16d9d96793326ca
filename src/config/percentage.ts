import { parsed, rejected, type ParseResult } from './parse-result.js';

const PERCENT_PATTERN = /^(\d+(?:\.\d+)?)\s*%$/;

/** Parses `10%` into the fraction 0.1. Accepts 0% up to, but not including, 100%. */
export function parsePercentage(text: string): ParseResult<number> {
  const match = PERCENT_PATTERN.exec(text.trim());
  if (!match) return rejected(`expected a percentage such as '10%'; found '${text}'`);
  const percent = Number(match[1]);
  if (percent >= 100) return rejected(`expected a percentage below 100%; found '${text}'`);
  return parsed(percent / 100);
}
