import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { verifySendgridSignature, verifyTwilioSignature } from './feedback-signatures.js';

describe('verifyTwilioSignature', () => {
  // Twilio's published request-validation example.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+14158675309',
    Digits: '1234',
    From: '+14158675309',
    To: '+18005551212',
  };
  const signature = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';

  it("accepts Twilio's documented vector, under any of several tokens", () => {
    expect(verifyTwilioSignature(['12345'], url, params, signature)).toBe(true);
    expect(verifyTwilioSignature(['other', '12345'], url, params, signature)).toBe(true);
  });

  it('refuses a changed parameter, URL or token, and a missing signature', () => {
    expect(verifyTwilioSignature(['12345'], url, { ...params, Digits: '9' }, signature)).toBe(
      false,
    );
    expect(verifyTwilioSignature(['12345'], `${url}&x=1`, params, signature)).toBe(false);
    expect(verifyTwilioSignature(['54321'], url, params, signature)).toBe(false);
    expect(verifyTwilioSignature(['12345'], url, params, undefined)).toBe(false);
    expect(verifyTwilioSignature([], url, params, signature)).toBe(false);
  });
});

describe('verifySendgridSignature', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const body = '[{"event":"delivered","sg_event_id":"e1"}]';
  const timestamp = '1772452800';
  const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');

  it('accepts the signature over timestamp + raw body', () => {
    expect(verifySendgridSignature(key, timestamp, body, signature)).toBe(true);
  });

  it('refuses a changed body or timestamp, a wrong key, and malformed input without throwing', () => {
    expect(verifySendgridSignature(key, timestamp, body.replace('e1', 'e2'), signature)).toBe(
      false,
    );
    expect(verifySendgridSignature(key, '1772452801', body, signature)).toBe(false);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ format: 'der', type: 'spki' })
      .toString('base64');
    expect(verifySendgridSignature(other, timestamp, body, signature)).toBe(false);
    expect(verifySendgridSignature('not a key', timestamp, body, signature)).toBe(false);
    expect(verifySendgridSignature(key, timestamp, body, 'garbage')).toBe(false);
    expect(verifySendgridSignature(key, undefined, body, signature)).toBe(false);
  });
});
