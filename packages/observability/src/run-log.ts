/// <reference path="./untyped-modules.d.ts" />
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Logger, pino } from 'pino';
import buildRollingFile from 'pino-roll';
import { z } from 'zod';

/** The levels `--log-level` and LOG_LEVEL accept (pino's). */
export const LogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
export type LogLevel = z.output<typeof LogLevel>;

/** Where `spillway up` keeps its log unless told otherwise: beside the admin token. */
export const DEFAULT_RUN_LOG_FILE = join(homedir(), '.spillway', 'logs', 'up.log');
/** One file rolls at this size; this many earlier files are kept (about 60 MiB in all). */
export const RUN_LOG_FILE_SIZE = '10m';
export const RUN_LOG_FILES_KEPT = 5;

export interface RunLogOptions {
  readonly name: string;
  /** The file's level; stderr gets warn and above (or less, if this is higher). */
  readonly level: LogLevel;
  /** `DIR/NAME.log` → `DIR/NAME.1.log`, `DIR/NAME.2.log`, … and `DIR/current.log` linking the file in use. */
  readonly file: string;
  readonly stderr?: NodeJS.WritableStream;
}

export interface RunLog {
  readonly logger: Logger;
  /** The path a person tails: a link to the file in use, stable across rolls. */
  readonly currentFile: string;
  readonly level: LogLevel;
}

/**
 * The log of a process whose stdout is for a person (`spillway up`): every record as JSON in a
 * size-bounded, rolled file, and warnings and errors also on stderr as one readable line each,
 * so the terminal shows what needs attention without the request-by-request JSON.
 */
export async function openRunLog(options: RunLogOptions): Promise<RunLog> {
  const extension = '.log';
  const base = options.file.endsWith(extension) ? options.file.slice(0, -extension.length) : options.file;
  const file = await openRollingFile(base, extension).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot write the log file ${options.file}: ${reason}`);
  });
  const stderrLevel = levelRank(options.level) > levelRank('warn') ? options.level : 'warn';
  const logger =
    options.level === 'silent'
      ? pino({ level: 'silent' })
      : pino(
          { name: options.name, level: options.level },
          pino.multistream([
            { level: options.level, stream: file },
            { level: stderrLevel, stream: readableLines(options.stderr ?? process.stderr) },
          ]),
        );
  return { logger, currentFile: join(dirname(base), 'current.log'), level: options.level };
}

async function openRollingFile(base: string, extension: string) {
  // The log may name services, addresses and clients: for the user only, like the token file.
  await mkdir(dirname(base), { recursive: true, mode: 0o700 });
  return await buildRollingFile({
    file: base,
    extension,
    size: RUN_LOG_FILE_SIZE,
    limit: { count: RUN_LOG_FILES_KEPT, removeOtherLogFiles: true },
    symlink: true,
    mode: 0o600,
    // Synchronous writes: the process may exit right after its last line (shutdown).
    sync: true,
  });
}

/** The level from `--log-level`, else LOG_LEVEL, else info; a bad value names where it came from. */
export function logLevelFrom(flag: string | undefined, env: string | undefined): LogLevel {
  const [value, origin] = flag !== undefined ? [flag, '--log-level'] : [env || 'info', 'LOG_LEVEL'];
  const parsed = LogLevel.safeParse(value);
  if (!parsed.success) throw new Error(`${origin}: expected one of ${LogLevel.options.join(', ')}, got '${value}'`);
  return parsed.data;
}

function levelRank(level: LogLevel): number {
  return level === 'silent' ? Number.POSITIVE_INFINITY : pino.levels.values[level]!;
}

const LogRecord = z.looseObject({
  level: z.number(),
  time: z.number().optional(),
  msg: z.string().optional(),
  component: z.string().optional(),
  err: z.looseObject({ message: z.string().optional() }).optional(),
});

/** `HH:MM:SS WARN component: message (error)`: a record as a person reads it; the file has the rest. */
export function formatLogLine(json: string): string {
  const parsed = LogRecord.safeParse(safeJson(json));
  if (!parsed.success) return json.trimEnd();
  const { level, time, msg, component, err } = parsed.data;
  const clock = new Date(time ?? Date.now()).toISOString().slice(11, 19);
  const label = (pino.levels.labels[level] ?? String(level)).toUpperCase();
  const cause = err?.message && err.message !== msg ? ` (${err.message})` : '';
  return `${clock} ${label} ${component ? `${component}: ` : ''}${msg ?? ''}${cause}`;
}

function readableLines(out: NodeJS.WritableStream): { write(chunk: string): void } {
  return { write: (chunk) => out.write(`${formatLogLine(chunk)}\n`) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
