import type { SourceSettings } from '../config/index.js';
import type { Logger } from '../core/index.js';
import { NatsEventSource, type NatsCredentials } from './nats-source.js';
import { SourceError, type EventSource, type IngestEvents, type SourceMetrics } from './source.js';

/** What `openSources` needs besides the settings. */
export interface OpenSourcesOptions {
  /** Appends a batch of events in one transaction: `engine.ingest`. */
  ingest: IngestEvents;
  log?: Logger;
  metrics?: SourceMetrics;
  /**
   * Where `WAYMARK_NATS_URL` (overrides every NATS source's `url`) and the `auth.*_env` secrets
   * are looked up; the caller passes `process.env`, so it is read in one place.
   */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the configured sources, not yet started. Fails with `SOURCE_CREDENTIALS_MISSING` when an
 * `auth.*_env` variable is unset: a deployment mistake better refused at start-up than retried.
 */
export function openSources(
  settings: readonly SourceSettings[],
  options: OpenSourcesOptions,
): EventSource[] {
  const urlOverride = options.env['WAYMARK_NATS_URL'];
  return settings.map((entry) => {
    const credentials = natsCredentials(entry, options.env);
    return new NatsEventSource({
      settings:
        urlOverride === undefined || urlOverride === '' ? entry : { ...entry, url: urlOverride },
      ingest: options.ingest,
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(credentials === undefined ? {} : { credentials }),
    });
  });
}

function natsCredentials(
  entry: SourceSettings,
  env: Readonly<Record<string, string | undefined>>,
): NatsCredentials | undefined {
  const auth = entry.auth;
  if (auth === undefined) return undefined;
  const secret = (variable: string): string => {
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new SourceError(
        'SOURCE_CREDENTIALS_MISSING',
        `source '${entry.name}': environment variable ${variable} (auth) is not set`,
        { retryable: false },
      );
    }
    return value;
  };
  switch (auth.type) {
    case 'token':
      return { token: secret(auth.token_env) };
    case 'user_password':
      return { user: secret(auth.user_env), pass: secret(auth.password_env) };
  }
}
