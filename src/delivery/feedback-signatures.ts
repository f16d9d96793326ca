/**
 * Checking that a delivery callback really comes from the provider: anyone who can reach the
 * feedback endpoints could otherwise mark messages bounced or customers unsubscribed.
 *
 * - Twilio signs every callback with `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the account's
 *   auth token, over the full URL Twilio requested followed by each POST parameter's name and value
 *   in name order.
 * - SendGrid's signed Event Webhook sends `X-Twilio-Email-Event-Webhook-Signature` (a base64 ECDSA
 *   P-256 / SHA-256 signature) and `X-Twilio-Email-Event-Webhook-Timestamp`; the signed payload is
 *   the timestamp followed by the raw body, checked with the public key from SendGrid's settings.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';

/** Whether `signature` is Twilio's for this URL and these form parameters under any of `tokens`. */
export function verifyTwilioSignature(
  tokens: readonly string[],
  url: string,
  params: Readonly<Record<string, string>>,
  signature: string | undefined,
): boolean {
  if (signature === undefined || signature === '') return false;
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((name) => `${name}${params[name] ?? ''}`)
      .join('');
  const given = Buffer.from(signature);
  return tokens.some((token) => {
    const expected = Buffer.from(createHmac('sha1', token).update(data, 'utf8').digest('base64'));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Whether `signature` is SendGrid's over `timestamp + rawBody` under the base64 DER public key. */
export function verifySendgridSignature(
  publicKey: string,
  timestamp: string | undefined,
  rawBody: string,
  signature: string | undefined,
): boolean {
  if (timestamp === undefined || signature === undefined || signature === '') return false;
  try {
    const key = createPublicKey({
      key: Buffer.from(publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    return verify(
      'sha256',
      Buffer.from(timestamp + rawBody, 'utf8'),
      key,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    // A malformed key or signature is a failed check, not a crash.
    return false;
  }
}
