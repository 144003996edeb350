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
 * For commands whose stdout is their result and stderr their progress (`spillway drill run`):
 * errors only unless LOG_LEVEL says otherwise, written to stderr.
 */
export function stderrLogger(name: string): Logger {
  const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'error');
  return pino({ name, level }, pino.destination(2));
}

/** A logger that drops everything: for library defaults and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
