import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import { DEFAULT_TIMEOUT_GRACE_MS } from './blocking-query.js';

/** An axios client with its own connection pool, which `close()` releases. */
export interface ApiClient {
  readonly http: AxiosInstance;
  close(): void;
}

/**
 * An axios client for a Consul/Nomad HTTP API: the token header, raw bodies, no status throws.
 * Own keep-alive agents, so a stopped source leaves no idle sockets in the global pool.
 */
export function createApiClient(baseURL: string, headers: Record<string, string>): ApiClient {
  const httpAgent = new HttpAgent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  const http = axios.create({
    baseURL,
    httpAgent,
    httpsAgent,
    headers: { Accept: 'application/json', ...headers },
    // Keep the raw text: axios would silently hand back a string for garbage JSON.
    transformResponse: (data: unknown) => data,
    responseType: 'text',
    validateStatus: () => true,
  });
  return {
    http,
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** `wait=` as a Go duration, which both Consul and Nomad parse. */
export function formatWait(waitMs: number): string {
  return waitMs % 1_000 === 0 ? `${waitMs / 1_000}s` : `${Math.max(1, Math.round(waitMs))}ms`;
}

/** The server may hold a query for `wait` plus up to wait/16 of jitter; allow that and a margin. */
export function clientTimeoutMs(waitMs: number, graceMs = DEFAULT_TIMEOUT_GRACE_MS): number {
  return Math.ceil(waitMs + waitMs / 16 + graceMs);
}

export interface GetJsonRequest {
  readonly path: string;
  readonly params: Readonly<Record<string, string | number | undefined>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** How errors name the request; default `GET <path>`. */
  readonly what?: string;
}

/** A 2xx answer with its body parsed as JSON (not yet validated). */
export interface JsonAnswer {
  readonly body: unknown;
  header(name: string): string | undefined;
}

/** GET with a clear one-line error for every way it can go wrong: transport, status, JSON. */
export async function getJson(http: AxiosInstance, request: GetJsonRequest): Promise<JsonAnswer> {
  const what = request.what ?? `GET ${request.path}`;
  let response: AxiosResponse<string>;
  try {
    response = await http.get<string>(request.path, {
      params: definedParams(request.params),
      timeout: request.timeoutMs,
      signal: request.signal,
    });
  } catch (error) {
    throw new Error(`${what}: ${transportMessage(error, request.timeoutMs)}`, { cause: error });
  }
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${what}: HTTP ${response.status}${bodyExcerpt(response.data)}`);
  }
  return { body: parseBody(what, response.data), header: (name) => headerValue(response, name) };
}

/** Reads a blocking index header: a non-negative integer, or the answer is rejected. */
export function readIndex(answer: JsonAnswer, header: string, what: string): number {
  const raw = answer.header(header);
  if (raw === undefined || !/^\d{1,16}$/.test(raw.trim())) {
    throw new Error(`${what}: ${header} header is missing or not an integer (got ${JSON.stringify(raw ?? null)})`);
  }
  return Number(raw.trim());
}

/** Validates a body with zod; the error names the first few bad fields by path. */
export function validate<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new Error(`${what}: unexpected response shape (${issues.join('; ')})`);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}

function parseBody(what: string, data: string): unknown {
  try {
    return JSON.parse(data);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${what}: response is not JSON (${reason})`);
  }
}

function transportMessage(error: unknown, timeoutMs: number): string {
  if (axios.isAxiosError(error) && (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT')) {
    return `timed out after ${timeoutMs} ms`;
  }
  return error instanceof Error ? error.message : String(error);
}

function bodyExcerpt(data: unknown): string {
  const text = typeof data === 'string' ? data.trim() : '';
  return text === '' ? '' : `: ${text.slice(0, 200)}`;
}

function headerValue(response: AxiosResponse, name: string): string | undefined {
  const value: unknown = response.headers[name.toLowerCase()];
  if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

function definedParams(params: GetJsonRequest['params']): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) out[key] = value;
  return out;
}
