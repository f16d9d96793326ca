import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  silentLogger,
  systemClock,
  type Clock,
  type JourneyCounts,
  type JourneyEventRecord,
  type JsonObject,
  type Logger,
  type Store,
} from '../core/index.js';
import type { JourneyEventSink } from '../engine/index.js';

/** Outcome of one ingested event, the `result` label of `events_ingested_total`. */
export type IngestResult = 'accepted' | 'duplicate' | 'rejected';

/**
 * What became of one message of a stream source, the `outcome` label of
 * `ingest_source_messages_total`: `committed` (its events are stored; acknowledged), `rejected`
 * (invalid JSON or events; terminated, never redelivered), `retried` (the store failed; handed back
 * for redelivery).
 */
export type SourceMessageOutcome = 'committed' | 'rejected' | 'retried';

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Where scrape-time failures (an unreachable store) are reported. Default: silent. */
  log?: Logger;
  /** Time of the store reads' refresh interval. Default: the system clock. */
  clock?: Clock;
  /**
   * How long `journey_active_enrollments` is reused before the store is read again, ms (default
   * 5,000). On PostgreSQL counting every journey's enrollments by stage reads an index as large as
   * the enrollments table (the embedded store keeps the counts in a table of their own); a
   * dashboard polling once a second, or several Prometheus servers, would repeat that scan without
   * learning anything new. 0 reads it at every scrape.
   */
  journeyCountsRefreshMs?: number;
}

/**
 * Waymark's Prometheus metrics, in a registry of their own (never prom-client's global one, so two
 * engines in one process — tests, simulation beside a server — never mix their numbers).
 *
 * Counters move when something has been committed: journey counters come from `sink`, which the
 * dispatcher calls with journey events after the transaction that recorded them; ingestion and
 * HTTP counters are moved by the API. Gauges are read from the store at scrape time, so every
 * process reports the same shared truth whatever it did itself.
 */
export interface Metrics {
  /** The registry `/metrics` exposes. */
  readonly registry: Registry;
  /** `journey_enrollments_total{journey_id}` */
  readonly enrollments: Counter<'journey_id'>;
  /** `journey_step_completions_total{journey_id,step_type}` */
  readonly stepCompletions: Counter<'journey_id' | 'step_type'>;
  /** `journey_completions_total{journey_id}` */
  readonly completions: Counter<'journey_id'>;
  /** `journey_exits_total{journey_id,reason}` */
  readonly exits: Counter<'journey_id' | 'reason'>;
  /** `messages_total{channel,status}`, status being the part after `message.` (`sent`, `failed`, ...). */
  readonly messages: Counter<'channel' | 'status'>;
  /** `events_ingested_total{result}` */
  readonly eventsIngested: Counter<'result'>;
  /** `ingest_source_messages_total{source,outcome}` */
  readonly sourceMessages: Counter<'source' | 'outcome'>;
  /** `http_requests_total{route,status}` */
  readonly httpRequests: Counter<'route' | 'status'>;
  /** `http_request_duration_seconds{route}` */
  readonly httpDuration: Histogram<'route'>;
  /** Counts committed journey events; pass it in `Engine.open({ sinks: [metrics.sink] })`. */
  readonly sink: JourneyEventSink;
  /**
   * Reads `journey_active_enrollments` and `queue_depth` from this store at every scrape. When the
   * store cannot be read, the per-stage gauge is empty and `queue_depth` is NaN.
   */
  watchStore(store: Store): void;
  /**
   * Reads `delivery_provider_circuit_state{channel,provider}` (0 closed, 1 half open, 2 open) from
   * this function at every scrape.
   */
  watchProviders(health: () => readonly ProviderHealth[]): void;
  /** Counts ingested events by outcome. */
  countIngested(result: IngestResult, count: number): void;
  /** Counts a stream source's messages by outcome. */
  countSourceMessages(source: string, outcome: SourceMessageOutcome, count: number): void;
  /** The text exposition format. */
  exposition(): Promise<string>;
  /** Content type of `exposition()`. */
  readonly contentType: string;
}

/** One provider's circuit, as the delivery routes report it. */
export interface ProviderHealth {
  readonly channel: string;
  readonly provider: string;
  readonly circuit: 'closed' | 'half_open' | 'open';
}

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** Label value used when a journey event lacks the field a label is read from. */
const UNKNOWN = 'unknown';

/** Creates a fresh registry with every Waymark metric registered in it. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const log = options.log ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const journeyCountsRefreshMs = options.journeyCountsRefreshMs ?? 5_000;
  /** The last journey counts read from the store, and when; null until read or after a failure. */
  let journeyCounts: { at: number; counts: readonly JourneyCounts[] } | null = null;
  const registry = new Registry();
  const registers = [registry];
  let store: Store | null = null;
  let providers: (() => readonly ProviderHealth[]) | null = null;

  const enrollments = new Counter({
    name: 'journey_enrollments_total',
    help: 'Customers enrolled into a journey.',
    labelNames: ['journey_id'] as const,
    registers,
  });
  const stepCompletions = new Counter({
    name: 'journey_step_completions_total',
    help: 'Journey steps completed, by step type.',
    labelNames: ['journey_id', 'step_type'] as const,
    registers,
  });
  const completions = new Counter({
    name: 'journey_completions_total',
    help: 'Enrollments that reached the end of their journey.',
    labelNames: ['journey_id'] as const,
    registers,
  });
  const exits = new Counter({
    name: 'journey_exits_total',
    help: 'Enrollments that left their journey early, by reason.',
    labelNames: ['journey_id', 'reason'] as const,
    registers,
  });
  const messages = new Counter({
    name: 'messages_total',
    help: 'Message outcomes reported by delivery, by channel and status.',
    labelNames: ['channel', 'status'] as const,
    registers,
  });
  const eventsIngested = new Counter({
    name: 'events_ingested_total',
    help: 'Events received over the API or a stream source: accepted, duplicate (idempotency key seen) or rejected.',
    labelNames: ['result'] as const,
    registers,
  });
  const sourceMessages = new Counter({
    name: 'ingest_source_messages_total',
    help: 'Messages of stream sources (NATS): committed and acknowledged, rejected (terminated) or retried (store failed).',
    labelNames: ['source', 'outcome'] as const,
    registers,
  });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code.',
    labelNames: ['route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route pattern.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const activeEnrollments: Gauge<'journey_id' | 'stage'> = new Gauge({
    name: 'journey_active_enrollments',
    help: 'Active enrollments per journey and current stage (read from the store at scrape time, at most every 5 s by default).',
    labelNames: ['journey_id', 'stage'] as const,
    registers,
    collect: async () => {
      // Reset first: a stage nobody is in any more must disappear, not keep its last value.
      activeEnrollments.reset();
      if (store === null) return;
      const now = clock.now();
      try {
        if (journeyCounts === null || now - journeyCounts.at >= journeyCountsRefreshMs) {
          journeyCounts = { at: now, counts: await store.journeyCounts() };
        }
      } catch (error) {
        // A scrape must not fail because the store is down: counters are still worth reporting,
        // and /healthz is where an unreachable store shows. Nothing stale is shown meanwhile.
        journeyCounts = null;
        log.warn('metrics: could not read journey counts', { error: describeError(error) });
        return;
      }
      for (const counts of journeyCounts.counts) {
        for (const [stage, n] of Object.entries(counts.activeByStage)) {
          activeEnrollments.set({ journey_id: counts.journeyId, stage }, n);
        }
      }
    },
  });
  const circuits: Gauge<'channel' | 'provider'> = new Gauge({
    name: 'delivery_provider_circuit_state',
    help: "Each provider's circuit: 0 closed, 1 half open (probing), 2 open (out of rotation).",
    labelNames: ['channel', 'provider'] as const,
    registers,
    collect: () => {
      if (providers === null) return;
      circuits.reset();
      for (const p of providers()) {
        circuits.set({ channel: p.channel, provider: p.provider }, CIRCUIT_VALUE[p.circuit]);
      }
    },
  });
  const queueDepth: Gauge = new Gauge({
    name: 'queue_depth',
    help: 'Events ingested but not yet processed (read from the store at scrape time).',
    registers,
    collect: async () => {
      if (store === null) return;
      try {
        queueDepth.set(await store.pendingEventCount());
      } catch (error) {
        // NaN, not 0: an unknown depth must not look like an empty queue to an alert rule.
        queueDepth.set(Number.NaN);
        log.warn('metrics: could not read the queue depth', { error: describeError(error) });
      }
    },
  });

  const sink: JourneyEventSink = (events) => {
    for (const event of events) countJourneyEvent(event);
    return Promise.resolve();
  };

  function countJourneyEvent(event: JourneyEventRecord): void {
    const journeyId = event.journeyId === '' ? UNKNOWN : event.journeyId;
    switch (event.type) {
      case 'journey.enrolled':
        enrollments.inc({ journey_id: journeyId });
        return;
      case 'step.completed':
        stepCompletions.inc({
          journey_id: journeyId,
          step_type: text(event.data, 'step_type'),
        });
        return;
      case 'journey.completed':
        completions.inc({ journey_id: journeyId });
        return;
      case 'journey.exited':
        exits.inc({ journey_id: journeyId, reason: text(event.data, 'reason') });
        return;
      default:
        if (event.type.startsWith('message.')) {
          messages.inc({
            channel: text(event.data, 'channel'),
            status: event.type.slice('message.'.length),
          });
        }
      // Other journey events (stage changes, goals, tasks, alerts) have no counter of their own.
    }
  }

  return {
    registry,
    enrollments,
    stepCompletions,
    completions,
    exits,
    messages,
    eventsIngested,
    sourceMessages,
    httpRequests,
    httpDuration,
    sink,
    watchStore(target) {
      store = target;
    },
    watchProviders(health) {
      providers = health;
    },
    countIngested(result, count) {
      if (count > 0) eventsIngested.inc({ result }, count);
    },
    countSourceMessages(source, outcome, count) {
      if (count > 0) sourceMessages.inc({ source, outcome }, count);
    },
    exposition: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

function text(data: JsonObject, field: string): string {
  const value = data[field];
  return typeof value === 'string' && value !== '' ? value : UNKNOWN;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
