import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * One structured logger per process. LOG_LEVEL picks the level (default `info`; tests use
 * `silent` unless they set it).
 */
export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  return pino({ name, level, ...options });
}

/**
 * For commands whose stdout is their result (`spillway drill run`): warnings and errors only
 * (LOG_LEVEL still wins), written to stderr.
 */
export function stderrLogger(name: string): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'warn');
  return pino({ name, level }, pino.destination(2));
}

/** A logger that drops everything: for library defaults and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
