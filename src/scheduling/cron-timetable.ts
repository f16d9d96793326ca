import { Cron } from 'croner';

const MINUTE_MS = 60_000;
/** Cached next fires per timetable; bounded so an unusual spread of instants cannot grow it. */
const CACHE_LIMIT = 50_000;

/**
 * When a cron expression fires, in any time zone. Local wall-clock semantics come from croner:
 * a time that does not exist on a spring-forward day (02:30) fires when the clock has jumped, by
 * the length of the gap (03:30); a time that happens twice on a fall-back day (01:30) fires once,
 * at its first occurrence; `0 10 31 * *` fires only in months that have a 31st.
 *
 * Next fires are cached per zone and minute: croner searches field by field (hundreds of
 * microseconds per call), while a million customers on one schedule share a few hundred zones and
 * reach their next fire from the same few instants. For a five-field expression (whole minutes)
 * every instant within one minute has the same next fire, so the cache is exact.
 */
export class CronTimetable {
  /** The expression as written. */
  readonly expression: string;
  readonly #byZone = new Map<string, Cron>();
  readonly #next = new Map<string, number | null>();
  readonly #wholeMinutes: boolean;

  constructor(expression: string) {
    this.expression = expression.trim();
    // A sixth field is seconds: then instants within a minute differ and caching is per instant.
    this.#wholeMinutes = this.expression.startsWith('@') || this.expression.split(/\s+/).length < 6;
    // Fail here, at compile time, rather than at the first fire.
    this.#cron('UTC');
  }

  /** The first fire strictly after `after` in `zone`, epoch ms; null when it never fires again. */
  nextAfter(after: number, zone: string): number | null {
    const from = this.#wholeMinutes ? Math.floor(after / MINUTE_MS) * MINUTE_MS : after;
    const key = `${zone} ${from}`;
    const cached = this.#next.get(key);
    if (cached !== undefined) return cached;
    const next = this.#cron(zone).nextRun(new Date(from))?.getTime() ?? null;
    if (this.#next.size >= CACHE_LIMIT) this.#next.clear();
    this.#next.set(key, next);
    return next;
  }

  #cron(zone: string): Cron {
    let cron = this.#byZone.get(zone);
    if (cron === undefined) {
      cron = new Cron(this.expression, { timezone: zone, paused: true });
      this.#byZone.set(zone, cron);
    }
    return cron;
  }
}
