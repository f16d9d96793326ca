/**
 * WAL checkpoints on a thread of their own.
 *
 * In WAL mode every committed page is written twice: appended to the `-wal` file by the commit,
 * and copied back into the database file by a checkpoint. SQLite's automatic checkpoint runs
 * inside the commit that crosses the threshold, so the connection that does the engine's work
 * also pays for the copy and its fsyncs: measured on a million scheduled customers, a fifth to a
 * third of the time of firing timers and of planning them. A second connection on a worker
 * thread running `PRAGMA wal_checkpoint(PASSIVE)` does the copy on the other core instead; a
 * passive checkpoint never blocks the writer or readers, and the writer restarts the WAL from
 * its beginning once it has been copied, so the file stays as small as a few batches.
 *
 * The store's own connection keeps a much higher automatic checkpoint threshold as a backstop: if
 * this thread falls behind or could not start, the WAL still stops growing there.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What the store's connection uses as its automatic checkpoint threshold while this runs, pages. */
export const BACKSTOP_CHECKPOINT_PAGES = 16_384;

/** How often the thread checkpoints, ms. A checkpoint with nothing to copy is a header read. */
const INTERVAL_MS = 25;

// CommonJS, evaluated as the worker's whole program: no file to ship or resolve beside the
// compiled module (the same source runs from src/ under tsx and from dist/).
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.timeout });
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let timer;
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
function step() {
  try {
    checkpoint.get();
  } catch (error) {
    // Busy or locked by another process: the next step tries again. Anything else ends the
    // thread, and the store goes back to checkpointing inline.
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
  timer = setTimeout(step, workerData.interval);
}
step();
`;

/** A running checkpoint thread for one database file. */
export interface Checkpointer {
  /** Stops the thread and closes its connection; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `file` on a worker thread; null when no thread can be started. `onFailure`
 * is called if the thread dies later (it cannot open the file, say), so the store can go back to
 * SQLite's inline checkpoints at their usual threshold.
 */
export function startCheckpointer(
  file: string,
  busyTimeoutMs: number,
  onFailure: () => void,
): Checkpointer | null {
  let worker: Worker;
  try {
    worker = new Worker(PROGRAM, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file,
        timeout: busyTimeoutMs,
        interval: INTERVAL_MS,
      },
    });
  } catch {
    return null;
  }
  // A store that is never closed must not keep the process alive.
  worker.unref();
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      resolve();
    });
    // An error ends the thread ('exit' follows): the file could not be opened, or a checkpoint
    // failed other than by being busy.
    worker.on('error', onFailure);
  });
  return {
    stop() {
      // Referenced again while it winds down: otherwise, with nothing else pending, the process
      // would exit while its caller still awaits the close.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
