import { Status } from './schema.js';

/** A watch stream that ended with an error after it had connected (socket reset, proxy idle cut). */
export class WatchStreamClosed extends Error {
  constructor(
    readonly livedMs: number,
    readonly eventCount: number,
    options: { cause: unknown },
  ) {
    super(`watch stream closed after ${livedMs} ms: ${describeError(options.cause)}`, options);
    this.name = 'WatchStreamClosed';
  }
}

/**
 * One line for any error the client library throws: the generated API's ApiException (a
 * multi-line dump with headers), node-fetch errors, the watch's `statusCode` errors and JSON
 * syntax errors from a garbled body.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const fields = error as Error & { code?: unknown; statusCode?: unknown; body?: unknown };
  const httpCode = typeof fields.statusCode === 'number' ? fields.statusCode : fields.code;
  if (typeof httpCode === 'number') return `HTTP ${httpCode}${statusDetail(fields.body, error.message)}`;
  if (error instanceof SyntaxError) return `response is not valid JSON (${error.message})`;
  return error.message;
}

function statusDetail(body: unknown, fallback: string): string {
  const parsed = Status.safeParse(typeof body === 'string' ? safeJson(body) : body);
  if (parsed.success && (parsed.data.reason || parsed.data.message)) {
    return ` ${parsed.data.reason ?? ''}: ${parsed.data.message ?? ''}`.trimEnd();
  }
  // ApiException messages span lines ("HTTP-Code: 401\nMessage: Unauthorized\nBody: …\nHeaders: …").
  const apiMessage = /^Message: (.*)$/m.exec(fallback)?.[1];
  if (apiMessage) return ` ${apiMessage}`;
  const first = fallback.split('\n')[0] ?? '';
  return first.startsWith('HTTP-Code') ? '' : ` ${first}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
