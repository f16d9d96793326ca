import { describe, expect, it } from 'vitest';
import { parseCron } from './cron-expression.js';
import { parseTimeZone } from './time-zone.js';
import { didYouMean } from './closest-name.js';
import { eventPatternMatches, eventPatternProblem } from './event-types.js';

describe('parseCron', () => {
  it('accepts 5 and 6 fields and nicknames', () => {
    expect(parseCron('0 9 * * 1-5')).toEqual({
      ok: true,
      value: { text: '0 9 * * 1-5', hasSeconds: false },
    });
    expect(parseCron('*/30 * * * * *')).toMatchObject({ ok: true, value: { hasSeconds: true } });
    expect(parseCron('0 9 * * MON-FRI').ok).toBe(true);
    expect(parseCron('@daily').ok).toBe(true);
  });

  it.each([
    ['61 * * * *', /Invalid value for minute: 61/],
    ['* * *', /found 3 fields/],
    ['0 0 31 2 *', /never fires/],
    ['', /empty string/],
  ])('rejects %j', (text, message) => {
    const result = parseCron(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe('parseTimeZone', () => {
  it('reads IANA zones and customer fields', () => {
    expect(parseTimeZone('Europe/Paris')).toEqual({
      ok: true,
      value: { kind: 'zone', text: 'Europe/Paris', zone: 'Europe/Paris' },
    });
    expect(parseTimeZone('customer.timezone')).toEqual({
      ok: true,
      value: { kind: 'customer_field', text: 'customer.timezone', field: 'customer.timezone' },
    });
  });

  it('suggests the closest zone for a typo', () => {
    const result = parseTimeZone('America/New_Yrok');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain("did you mean 'America/New_York'?");
  });
});

describe('didYouMean', () => {
  it('suggests close names only', () => {
    expect(didYouMean('priorty', ['priority', 'name'])).toBe(" (did you mean 'priority'?)");
    expect(didYouMean('zzz', ['priority', 'name'])).toBe('');
  });
});

describe('webhook event patterns', () => {
  it('accepts exact types, * and known prefixes; rejects the rest with a hint', () => {
    expect(eventPatternProblem('journey.completed')).toBeUndefined();
    expect(eventPatternProblem('*')).toBeUndefined();
    expect(eventPatternProblem('message.*')).toBeUndefined();
    expect(eventPatternProblem('mesage.*')).toContain("did you mean 'message.*'?");
    expect(eventPatternProblem('journey.complete')).toContain("did you mean 'journey.completed'?");
  });

  it('matches subscriptions', () => {
    expect(eventPatternMatches('message.*', 'message.sent')).toBe(true);
    expect(eventPatternMatches('message.*', 'journey.exited')).toBe(false);
    expect(eventPatternMatches('*', 'task.created')).toBe(true);
  });
});
