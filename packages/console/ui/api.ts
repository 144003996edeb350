// Every call the console makes: same origin, JSON, the operator's token as a bearer header.
import { currentToken } from './token.js';

/** A refused or failed call, with the server's problem+json detail when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  /** Sent as JSON; a string is sent as YAML (drill files). */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (typeof options.body === 'string') {
    headers['content-type'] = 'application/yaml';
    body = options.body;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, problemText(response.status, json));
  return json as T;
}

function problemText(status: number, json: unknown): string {
  const problem = json as { title?: string; detail?: string } | undefined;
  const hint = status === 401 ? ' (enter an operator token above)' : '';
  return `${status} ${problem?.title ?? 'Error'}: ${problem?.detail ?? 'no detail'}${hint}`;
}
