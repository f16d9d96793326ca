/** Structured logging, injected like the clock. Log lines never carry message content or PII fields. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Discards everything; the default for tests and simulation. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One JSON object per line on stderr, for servers. */
export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    write(
      `${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields })}\n`,
    );
  };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}
