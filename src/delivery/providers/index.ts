/**
 * The provider kinds Waymark ships, by the name a channel's `provider:` uses. The spec writes
 * `provider: "firebase"`; `fcm` is the same integration.
 */
import type { ProviderDefinition } from '../provider.js';
import { fcmProvider, firebaseProvider } from './fcm.js';
import { sendgridProvider } from './sendgrid.js';
import { smtpProvider } from './smtp.js';
import { twilioProvider } from './twilio.js';
import { webhookProvider } from './webhook.js';

/** Built-in provider kinds by name. */
export const BUILT_IN_PROVIDERS: ReadonlyMap<string, ProviderDefinition<unknown>> = new Map(
  [
    erase(smtpProvider),
    erase(sendgridProvider),
    erase(twilioProvider),
    erase(fcmProvider),
    erase(firebaseProvider),
    erase(webhookProvider),
  ].map((definition) => [definition.kind, definition]),
);

/**
 * Forgets a definition's settings type. Safe because `create` is only ever called with what that
 * same definition's `settings` schema parsed.
 */
function erase<S>(definition: ProviderDefinition<S>): ProviderDefinition<unknown> {
  const erased: unknown = definition;
  return erased as ProviderDefinition<unknown>;
}
