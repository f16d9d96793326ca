import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { fitToLimit, hasOptedOut, recipientsOf } from './addressing.js';

describe('recipientsOf', () => {
  it('reads a string, a list, or a list of token objects, dropping blanks and duplicates', () => {
    expect(recipientsOf({ email: ' ann@example.com ' }, 'email')).toEqual(['ann@example.com']);
    expect(recipientsOf({ push_tokens: ['t1', '', 't2', 't1'] }, 'push_tokens')).toEqual([
      't1',
      't2',
    ]);
    expect(
      recipientsOf(
        { devices: [{ token: 'a', platform: 'ios' }, { address: 'b' }, 7] },
        'customer.devices',
      ),
    ).toEqual(['a', 'b']);
    expect(recipientsOf({ contact: { phone: '+15550001111' } }, 'contact.phone')).toEqual([
      '+15550001111',
    ]);
    expect(recipientsOf({}, 'email')).toEqual([]);
    expect(recipientsOf({ email: null }, 'email')).toEqual([]);
  });
});

describe('hasOptedOut', () => {
  it('honours consents by channel name or type, and a global unsubscribe', () => {
    expect(hasOptedOut({ consents: { sms: false } }, 'sms', 'sms')).toBe(true);
    expect(hasOptedOut({ consents: { sms: true } }, 'sms', 'sms')).toBe(false);
    expect(hasOptedOut({ consents: { email: false } }, 'newsletter', 'email')).toBe(true);
    expect(hasOptedOut({ consents: { newsletter: false } }, 'newsletter', 'email')).toBe(true);
    expect(hasOptedOut({ unsubscribed: true }, 'push', 'push')).toBe(true);
    expect(hasOptedOut({ consents: 'no' }, 'sms', 'sms')).toBe(false);
    expect(hasOptedOut({}, 'sms', 'sms')).toBe(false);
  });
});

describe('fitToLimit (the SMS character_limit policy)', () => {
  it('leaves a text that fits alone', () => {
    expect(fitToLimit('Your code is 1234', 160)).toEqual({
      text: 'Your code is 1234',
      truncated: false,
    });
  });

  it('cuts at a word boundary near the end and marks the cut', () => {
    const text = 'Your renewal is due on the first of next month please review it';
    const fitted = fitToLimit(text, 30);
    expect(fitted).toEqual({ text: 'Your renewal is due on the…', truncated: true });
  });

  it('never exceeds the limit and never splits a code point', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.integer({ min: 1, max: 200 }),
        (text, limit) => {
          const fitted = fitToLimit(text, limit);
          expect(Array.from(fitted.text).length).toBeLessThanOrEqual(limit);
          expect(fitted.truncated).toBe(Array.from(text).length > limit);
          if (!fitted.truncated) expect(fitted.text).toBe(text);
          expect(
            /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(
              fitted.text,
            ),
          ).toBe(false);
        },
      ),
    );
  });
});
