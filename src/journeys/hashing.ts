import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so two definitions that differ only in key order
 * (YAML written differently, a round trip through a database) hash the same. `undefined` members
 * are dropped as JSON.stringify drops them; non-finite numbers become `null` likewise.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value) as string | undefined;
    return text ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : stableStringify(item))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    members.push(`${JSON.stringify(key)}:${stableStringify(member)}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * Content hash of a journey definition (sha256 of its stable JSON, hex). An unchanged definition is
 * not a new version; a changed one is.
 */
export function journeyHash(definition: unknown): string {
  return createHash('sha256').update(stableStringify(definition)).digest('hex');
}

/** 2^52: the number of distinct values `unitInterval` can return. */
const FRACTION_STEPS = 2 ** 52;

/**
 * A number in [0, 1) determined only by its inputs: the first 52 bits of sha256 of the parts joined
 * with NUL (which no id contains, so `('a','bc')` and `('ab','c')` differ). Used for holdouts and
 * splits, so the same customer gets the same answer in every run, replay and simulation, and the
 * answers are uniform across customers. sha256 is slower than a non-cryptographic hash, but it is
 * computed once per enrollment or split, and its uniformity needs no argument.
 */
export function unitInterval(...parts: readonly string[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  // 52 bits fit a double exactly: 4 bytes then 20 bits of the fifth to seventh byte.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / FRACTION_STEPS;
}
