/**
 * The population learning in the store's model registry: what the send-time optimizer, channel
 * selector and content personalizer learned survives a restart and is shared by every process.
 *
 * Stored as versions of the model `engagement_learning` (kind `engagement`): the body is a
 * `LearningSnapshot` (decayed counts expressed at the save instant), the metrics say what it
 * knows (`learningMetrics`). A process
 * - restores the newest version when the engine opens, and a newer one when another process saved
 *   it (looked for once a minute of engine time, like the prediction models);
 * - saves every 15 minutes of engine time, when it counted something since its last save, and
 *   when it stops (`Engine.close`).
 *
 * **Several processes.** Every worker process learns from its own share of the traffic, so every
 * process saves, and a save is read-merge-write: read the newest version, add this process's
 * increments since its last save (`EngagementLearning.takeUnsaved`) and register the sum as the next
 * version `after` the one read. The store refuses the registration when another process registered
 * in between (`STORE_CONFLICT`); the process reads again and merges onto that one. So the versions
 * form one chain, each the one before plus one process's increments: nobody's increments are
 * dropped, and none are counted twice (they leave the process's unsaved counts when taken, and go
 * back only when the save fails). A process that reads a newer version keeps its own unsaved
 * increments on top of it (`EngagementLearning.restore`).
 *
 * Only the scheduler role saving would have been simpler, but it would store only its own share of
 * the traffic, and every other process's learning would be lost at each restart.
 *
 * **Warm-up.** A restored snapshot ends the ledger warm-up (see `EngagementLearning`): the snapshot
 * already holds every send and engagement a process counted, and a ledger cannot tell which of its
 * contacts those were. What a crash loses is the crashed process's last 15 minutes at most.
 *
 * **Size.** A version is a few kilobytes (168 + 4 per channel + 1 per variant pairs of numbers);
 * the newest `LEARNING_VERSIONS_KEPT` are kept (a day of one process's saves), older ones are
 * deleted as each new one is registered.
 *
 * A malformed newest version (registered by hand, say) is reported once and ignored: the process
 * keeps what it has, and its next save registers what it knows as the next version.
 */
import {
  InvalidInputError,
  WaymarkError,
  type JsonObject,
  type Logger,
  type ModelRecord,
  type Store,
} from '../core/index.js';
import {
  EngagementLearning,
  learningMetrics,
  mergeLearningSnapshots,
  parseLearningSnapshot,
  type LearningSnapshot,
} from '../decisions/index.js';

/** Registry name of the population learning. */
export const LEARNING_MODEL_NAME = 'engagement_learning';

/** Registry kind of the population learning's versions. */
export const LEARNING_MODEL_KIND = 'engagement';

/** How often a process saves what it learned, engine time, ms (when it learned anything). */
export const LEARNING_SAVE_INTERVAL_MS = 15 * 60_000;

/** How often a process looks for a version another process saved, engine time, ms. */
export const LEARNING_REFRESH_INTERVAL_MS = 60_000;

/** Versions kept in the registry: a day of one process's saves. */
export const LEARNING_VERSIONS_KEPT = 96;

/** Registrations tried when other processes keep registering in between. */
const SAVE_ATTEMPTS = 5;

/** Why a save happens, as its version's `source` says. */
export type LearningSaveReason = 'periodic' | 'stop';

/** See the module comment. */
export class LearningPersistence {
  /** The learning saved and restored; the engine's project reads it. */
  readonly learning: EngagementLearning;
  readonly #store: Store;
  readonly #log: Logger;
  /** This process, in each version's `source`. */
  readonly #holder: string;
  /** The stored version the learning's base is (0: none). */
  #version = 0;
  /** The newest version found unreadable, reported once. */
  #unreadable = 0;
  #nextSaveAt: number;
  #nextRefreshAt: number;
  /** Saves and refreshes, one at a time (a save's take and rebase must not interleave with another). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: {
    store: Store;
    log: Logger;
    /** This process's worker id. */
    holder: string;
    /** Engine time at start. */
    now: number;
    learning?: EngagementLearning;
  }) {
    this.learning = options.learning ?? new EngagementLearning();
    this.#store = options.store;
    this.#log = options.log;
    this.#holder = options.holder;
    this.#nextSaveAt = options.now + LEARNING_SAVE_INTERVAL_MS;
    this.#nextRefreshAt = options.now + LEARNING_REFRESH_INTERVAL_MS;
  }

  /** The stored version the learning is based on (0: none yet). */
  get version(): number {
    return this.#version;
  }

  /**
   * Restores the newest stored version if it is newer than the one the learning is based on and
   * readable (else reports it once and keeps what it has). Returns whether it restored one.
   */
  refresh(now: number): Promise<boolean> {
    return this.#exclusive(async () => {
      const record = await this.#store.getModel(LEARNING_MODEL_NAME);
      if (record === null || record.version <= this.#version) return false;
      const snapshot = this.#read(record);
      if (snapshot === null) return false;
      this.learning.restore(snapshot, now);
      this.#version = record.version;
      this.#log.info('engagement learning restored', {
        model: `${record.name}@${record.version}`,
        source: record.source,
        sends: record.metrics['sends'] ?? null,
      });
      return true;
    });
  }

  /**
   * Adds what the process counted since its last save to the newest stored version and registers
   * the sum as the next version (see the module comment). Returns the version, or null when
   * nothing was counted since.
   *
   * @throws StoreError when the store fails, or when other processes registered in between five
   *   times running (`STORE_CONFLICT`); the increments stay for the next save either way.
   */
  save(now: number, reason: LearningSaveReason): Promise<ModelRecord | null> {
    return this.#exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        if (this.learning.unsavedObservations === 0) return null;
        const newest = await this.#store.getModel(LEARNING_MODEL_NAME);
        const base = newest === null ? null : this.#read(newest);
        // Taken after the read, with nothing awaited in between: whatever the worker counts while
        // the registration is under way stays unsaved for the next save.
        const taken = this.learning.takeUnsaved(now);
        const halfLifeMs = this.learning.halfLifeMs;
        // Nothing readable stored (none yet, or a malformed version): store all this process knows.
        const body =
          base === null
            ? this.learning.snapshot(now)
            : mergeLearningSnapshots(base, taken.snapshot, now, halfLifeMs);
        try {
          const record = await this.#store.registerModel(
            {
              name: LEARNING_MODEL_NAME,
              kind: LEARNING_MODEL_KIND,
              createdAt: now,
              body: body as unknown as JsonObject,
              metrics: learningMetrics(body, taken),
              source: `${reason === 'stop' ? 'saved at stop' : 'periodic save'} by ${this.#holder}`,
            },
            { after: newest?.version ?? 0, keep: LEARNING_VERSIONS_KEPT },
          );
          // Another process's version under ours: its counts are now ours too, ledgers included.
          if (base !== null && newest !== null && newest.version !== this.#version) {
            this.learning.endWarmUp();
          }
          this.learning.rebase(body, now);
          this.#version = record.version;
          return record;
        } catch (error) {
          this.learning.returnUnsaved(taken, now);
          const conflict = error instanceof WaymarkError && error.code === 'STORE_CONFLICT';
          if (!conflict || attempt >= SAVE_ATTEMPTS) throw error;
        }
      }
    });
  }

  /**
   * What the worker runs before each pass: a look for a newer version once a minute and a save
   * every 15 minutes (engine time). Failures are logged, never thrown: the learning is a prior,
   * and the journeys must not stop because it could not be stored.
   */
  async tick(now: number): Promise<void> {
    if (now >= this.#nextRefreshAt) {
      this.#nextRefreshAt = now + LEARNING_REFRESH_INTERVAL_MS;
      await this.refresh(now).catch((error: unknown) => {
        this.#log.warn('could not read the stored engagement learning', {
          error: (error as Error).message,
        });
      });
    }
    if (now >= this.#nextSaveAt) {
      this.#nextSaveAt = now + LEARNING_SAVE_INTERVAL_MS;
      await this.save(now, 'periodic').catch((error: unknown) => {
        this.#log.warn('could not save the engagement learning; it is kept for the next save', {
          error: (error as Error).message,
        });
      });
    }
  }

  /** A stored version as a snapshot, or null (reported once per version) when it is unreadable. */
  #read(record: ModelRecord): LearningSnapshot | null {
    const source = `${record.name}@${record.version}`;
    try {
      if (record.kind !== LEARNING_MODEL_KIND) {
        throw new InvalidInputError(
          `${source}: a '${record.kind}' model; the engagement learning is kind '${LEARNING_MODEL_KIND}'`,
          { source },
          'LEARNING_SNAPSHOT_INVALID',
        );
      }
      return parseLearningSnapshot(record.body, source);
    } catch (error) {
      if (this.#unreadable !== record.version) {
        this.#unreadable = record.version;
        this.#log.warn(
          'the stored engagement learning is unreadable and ignored; the next save replaces it',
          { model: source, error: (error as Error).message },
        );
      }
      return null;
    }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
