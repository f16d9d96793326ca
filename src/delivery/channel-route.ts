/**
 * How one channel reaches its providers: in failover order, each behind its own circuit breaker and
 * bulkhead, each send bounded by the channel's timeout.
 *
 * Failover rule: a transient or system failure (or a timeout) counts against that provider's
 * circuit and the same message is offered to the next provider at once; a permanent failure is the
 * message's fault (a bad address is bad everywhere) and stops the walk. A provider whose circuit is
 * open is skipped without a request.
 */
import type { ChannelConfig } from '../config/index.js';
import type { Logger } from '../core/index.js';
import { Bulkhead } from './bulkhead.js';
import {
  CircuitBreaker,
  DEFAULT_CIRCUIT_BREAKER,
  type CircuitBreakerSettings,
  type CircuitState,
  type CircuitTransition,
} from './circuit-breaker.js';
import type {
  DeliveryProvider,
  OutgoingMessage,
  ProviderDefinition,
  ProviderDependencies,
  ProviderResult,
} from './provider.js';

/** One provider in a channel's route. */
export interface RouteProvider {
  /** Name in logs, metrics, message records (`provider` column) and journey events. */
  readonly name: string;
  readonly kind: string;
  /** Null when it could not be built; `problem` says why. */
  readonly provider: DeliveryProvider | null;
  readonly problem: string | null;
  readonly breaker: CircuitBreaker;
  readonly bulkhead: Bulkhead;
}

/** What the route made of one message. */
export type RouteResult =
  | (ProviderResult & { readonly provider: string })
  /** Every usable provider's circuit is open; nothing was sent. Try again at `until`. */
  | { readonly status: 'unavailable'; readonly until: number; readonly error: string }
  /** No provider of the channel can be built (missing settings or secrets). */
  | { readonly status: 'not_configured'; readonly error: string };

/** A channel's providers with their health. */
export class ChannelRoute {
  readonly channel: string;
  readonly providers: readonly RouteProvider[];
  readonly #timeoutMs: number;

  constructor(channel: string, providers: readonly RouteProvider[], timeoutMs: number) {
    this.channel = channel;
    this.providers = providers;
    this.#timeoutMs = timeoutMs;
  }

  /** Each provider's circuit state, for metrics and the health endpoint. */
  health(): { provider: string; kind: string; circuit: CircuitState; problem: string | null }[] {
    return this.providers.map((p) => ({
      provider: p.name,
      kind: p.kind,
      circuit: p.breaker.state,
      problem: p.problem,
    }));
  }

  /** Sends one message through the first provider that takes it; see the module comment. */
  async send(message: OutgoingMessage): Promise<RouteResult> {
    let last: RouteResult | null = null;
    let openUntil = Number.POSITIVE_INFINITY;
    for (const entry of this.providers) {
      if (entry.provider === null) continue;
      const permit = entry.breaker.tryAcquire();
      if (permit === null) {
        openUntil = Math.min(openUntil, entry.breaker.availableAt);
        continue;
      }
      const provider = entry.provider;
      const result = await entry.bulkhead.run(() =>
        sendWithTimeout(provider, message, this.#timeoutMs),
      );
      const failedHere = result.status === 'failed' && result.category !== 'permanent';
      if (failedHere) permit.failure();
      else permit.success();
      last = { ...result, provider: entry.name };
      if (!failedHere) return last;
    }
    if (last !== null) return last;
    if (openUntil !== Number.POSITIVE_INFINITY) {
      return {
        status: 'unavailable',
        until: openUntil,
        error: `every provider of channel '${this.channel}' is out of rotation (circuit open)`,
      };
    }
    const problems = this.providers.map((p) => `${p.name}: ${p.problem ?? 'unavailable'}`);
    return {
      status: 'not_configured',
      error:
        problems.length === 0
          ? `channel '${this.channel}' has no provider`
          : `channel '${this.channel}' has no usable provider (${problems.join('; ')})`,
    };
  }

  /** Closes every provider's connections; one failing does not stop the others. */
  async close(): Promise<void> {
    await Promise.allSettled(this.providers.map((p) => p.provider?.close?.() ?? Promise.resolve()));
  }
}

/** Runs one send with an abort after `timeoutMs`; a throw becomes a `system` failure. */
async function sendWithTimeout(
  provider: DeliveryProvider,
  message: OutgoingMessage,
  timeoutMs: number,
): Promise<ProviderResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
  }, timeoutMs);
  try {
    const result = await provider.send(message, controller.signal);
    if (controller.signal.aborted && result.status !== 'accepted') {
      return {
        status: 'failed',
        category: 'transient',
        error: `timed out after ${timeoutMs} ms`,
        code: 'TIMEOUT',
      };
    }
    return result;
  } catch (error) {
    return {
      status: 'failed',
      category: 'system',
      error: `provider ${provider.kind} failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** What building routes needs. */
export interface RouteDependencies extends ProviderDependencies {
  /** Provider kinds by name. */
  readonly registry: ReadonlyMap<string, ProviderDefinition<unknown>>;
  readonly log: Logger;
  /** Told of every circuit state change (metrics, alerts). */
  readonly onCircuit?:
    ((channel: string, provider: string, change: CircuitTransition) => void) | undefined;
}

/** A provider entry of a channel as configured: `providers[]`, or `provider` with `settings`. */
export function configuredProviders(
  channel: ChannelConfig,
): { name: string; provider: string; settings: Record<string, unknown> }[] {
  if (channel.providers !== undefined) {
    return channel.providers.map((p, i) => ({
      name:
        p.name ??
        (channel.providers?.some((q, j) => j !== i && q.provider === p.provider)
          ? `${p.provider}_${i + 1}`
          : p.provider),
      provider: p.provider,
      settings: p.settings,
    }));
  }
  if (channel.provider === undefined) return [];
  return [{ name: channel.provider, provider: channel.provider, settings: channel.settings ?? {} }];
}

/**
 * Builds a channel's route from its config. A provider that cannot be built (unknown kind, invalid
 * settings, a missing secret) is kept in the route with its problem, so the health endpoint shows
 * it and sends skip it; the problem is logged once here.
 */
export function buildChannelRoute(
  name: string,
  channel: ChannelConfig,
  deps: RouteDependencies,
): ChannelRoute {
  const breakerSettings: CircuitBreakerSettings = {
    consecutiveFailures: channel.circuit_breaker.consecutive_failures,
    failureRate: channel.circuit_breaker.failure_rate,
    windowMs: channel.circuit_breaker.window.ms,
    minimumRequests: channel.circuit_breaker.minimum_requests,
    halfOpenAfterMs: channel.circuit_breaker.half_open_after.ms,
  };
  const providers = configuredProviders(channel).map((entry, index): RouteProvider => {
    const where =
      channel.providers === undefined ? `channels.${name}` : `channels.${name}.providers[${index}]`;
    let provider: DeliveryProvider | null = null;
    let problem: string | null = null;
    const definition = deps.registry.get(entry.provider);
    if (definition === undefined) {
      problem = `unknown provider '${entry.provider}' (known: ${[...deps.registry.keys()].join(', ')})`;
    } else if (!definition.channelTypes.includes(channel.type)) {
      problem = `provider '${entry.provider}' cannot deliver ${channel.type} messages`;
    } else {
      const settings = definition.settings.safeParse(entry.settings);
      if (!settings.success) {
        problem = settings.error.issues
          .map((i) => `settings${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`)
          .join('; ');
      } else {
        try {
          provider = definition.create(settings.data, deps);
        } catch (error) {
          problem = error instanceof Error ? error.message : String(error);
        }
      }
    }
    if (problem !== null)
      deps.log.warn(`${where}: provider not usable: ${problem}`, { channel: name });
    return {
      name: entry.name,
      kind: entry.provider,
      provider,
      problem,
      breaker: new CircuitBreaker(breakerSettings, deps.now, (change) =>
        deps.onCircuit?.(name, entry.name, change),
      ),
      bulkhead: new Bulkhead(channel.concurrency),
    };
  });
  return new ChannelRoute(name, providers, channel.timeout.ms);
}

/**
 * Problems with the channels' provider settings, for `waymark validate`: an unknown provider kind,
 * one that cannot deliver the channel's type, or settings its schema refuses. Warnings, not
 * errors: the specification's bare `provider: sendgrid` must validate, and a server starts with
 * such a channel (its messages fall back).
 */
export function providerSettingProblems(
  channels: Readonly<Record<string, ChannelConfig>>,
  registry: ReadonlyMap<string, ProviderDefinition<unknown>>,
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const [name, channel] of Object.entries(channels)) {
    configuredProviders(channel).forEach((entry, index) => {
      const at: (string | number)[] =
        channel.providers === undefined
          ? ['channels', name]
          : ['channels', name, 'providers', index];
      const definition = registry.get(entry.provider);
      if (definition === undefined) {
        if (entry.provider === 'internal') return;
        problems.push({
          path: [...at, 'provider'],
          message: `unknown provider '${entry.provider}' (known: internal, ${[...registry.keys()].join(', ')})`,
        });
        return;
      }
      if (!definition.channelTypes.includes(channel.type)) {
        problems.push({
          path: [...at, 'provider'],
          message: `provider '${entry.provider}' cannot deliver ${channel.type} messages`,
        });
        return;
      }
      const parsed = definition.settings.safeParse(entry.settings);
      if (parsed.success) return;
      for (const issue of parsed.error.issues) {
        problems.push({
          path: [
            ...at,
            'settings',
            ...issue.path.map((p) => (typeof p === 'number' ? p : String(p))),
          ],
          message: `${issue.message} (the channel is unusable until this is fixed; its messages fall back)`,
        });
      }
    });
  }
  return problems;
}

/** A route over given providers (tests, simulation, a library user's own integrations). */
export function routeOver(
  channel: string,
  providers: readonly { name: string; provider: DeliveryProvider }[],
  options: {
    now: () => number;
    timeoutMs?: number;
    concurrency?: number;
    breaker?: Partial<CircuitBreakerSettings>;
  },
): ChannelRoute {
  return new ChannelRoute(
    channel,
    providers.map((p) => ({
      name: p.name,
      kind: p.provider.kind,
      provider: p.provider,
      problem: null,
      breaker: new CircuitBreaker({ ...DEFAULT_CIRCUIT_BREAKER, ...options.breaker }, options.now),
      bulkhead: new Bulkhead(options.concurrency ?? 10),
    })),
    options.timeoutMs ?? 10_000,
  );
}
