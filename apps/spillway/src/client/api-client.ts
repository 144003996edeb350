import { Agent } from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import type { z } from 'zod';
import { CliError } from '../load-config.js';
import { formatDuration } from './format.js';
import { Problem } from './schemas.js';

/** The request the API refused: its status and the problem+json `detail`. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${status} ${detail}`, 1);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  /** Base URL, e.g. http://127.0.0.1:7070. */
  readonly baseUrl: string;
  readonly token?: string | undefined;
  /** Per request. */
  readonly timeoutMs: number;
  /** For https:// URLs: the CA to trust (else the system's), a client certificate and key. */
  readonly tls?: ApiClientTls;
}

/** PEM contents, as read from the files the flags name. */
export interface ApiClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Query values the API takes; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The Spillway HTTP API through axios: a timeout on every request, the bearer token when there
 * is one, every answer checked against a zod schema, and every failure turned into one line.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly http: AxiosInstance;
  private readonly hasToken: boolean;

  constructor(options: ApiClientOptions) {
    this.baseUrl = checkedBaseUrl(options.baseUrl);
    this.hasToken = Boolean(options.token);
    this.http = axios.create({
      baseURL: this.baseUrl,
      timeout: options.timeoutMs,
      headers: { Accept: 'application/json', ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}) },
      // Every status comes back as a response; check() decides what is an error.
      validateStatus: () => true,
      maxRedirects: 0,
      ...(this.baseUrl.startsWith('https:') && options.tls ? { httpsAgent: new Agent({ ...options.tls }) } : {}),
    });
  }

  async get<S extends z.ZodType>(path: string, schema: S, query: Query = {}): Promise<z.infer<S>> {
    const response = await this.send(() => this.http.get(path, { params: definedOnly(query) }), 'GET', path);
    return parse(schema, this.check(response), 'GET', path);
  }

  async post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.infer<S>> {
    const response = await this.send(() => this.http.post(path, body), 'POST', path);
    return parse(schema, this.check(response), 'POST', path);
  }

  /** POSTs text as it is (a drill file as YAML, so the server's errors can name its lines). */
  async postText<S extends z.ZodType>(path: string, text: string, contentType: string, schema: S): Promise<z.infer<S>> {
    const response = await this.send(
      () => this.http.post(path, text, { headers: { 'Content-Type': contentType } }),
      'POST',
      path,
    );
    return parse(schema, this.check(response), 'POST', path);
  }

  /** A GET whose non-2xx answers are results too (`/readyz` answers 503 when not ready). */
  async probe<S extends z.ZodType>(path: string, schema: S): Promise<{ status: number; body: z.infer<S> }> {
    const response = await this.send(() => this.http.get(path), 'GET', path);
    if (response.status >= 500 && response.status !== 503) this.check(response);
    return { status: response.status, body: parse(schema, response.data, 'GET', path) };
  }

  private async send(request: () => Promise<AxiosResponse>, method: string, path: string): Promise<AxiosResponse> {
    try {
      return await request();
    } catch (error) {
      throw this.transportError(error, method, path);
    }
  }

  private transportError(error: unknown, method: string, path: string): CliError {
    if (!isAxiosError(error)) return new CliError(error instanceof Error ? error.message : String(error));
    const code = error.code ?? '';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      const timeout = error.config?.timeout ?? 0;
      return new CliError(`no answer from ${this.baseUrl} to ${method} ${path} within ${formatDuration(timeout)}`);
    }
    const tls = this.tlsHint(code, error.message);
    if (tls) return new CliError(`cannot reach ${this.baseUrl}: ${tls}`);
    const why = code && code !== 'ECONNREFUSED' ? ` [${code}]` : '';
    return new CliError(`cannot reach ${this.baseUrl} (is spillway up running?)${why}`);
  }

  /** What a TLS failure most likely means, in the words of the flag that fixes it. */
  private tlsHint(code: string, message: string): string | undefined {
    const why = `[${code || message}]`;
    if (!this.baseUrl.startsWith('https:')) {
      const dropped = code === 'ECONNRESET' || /socket hang up/i.test(message);
      return dropped ? `the connection closed without an answer ${why} (does it serve HTTPS? use https://)` : undefined;
    }
    if (UNTRUSTED_CERTIFICATE.has(code))
      return `its certificate is not trusted ${why} (pass --ca-file or set SPILLWAY_CA_FILE)`;
    const refused = code === 'ECONNRESET' || code === 'EPROTO' || /alert|handshake/i.test(message);
    return refused
      ? `the TLS handshake failed ${why} (does it require a client certificate? pass --cert and --key)`
      : undefined;
  }

  /** The body of a 2xx answer; an ApiError with the problem's detail for anything else. */
  private check(response: AxiosResponse): unknown {
    if (response.status >= 200 && response.status < 300) return response.data;
    const problem = Problem.safeParse(response.data);
    const detail =
      (problem.success ? (problem.data.detail ?? problem.data.title) : undefined) ??
      (response.statusText || 'request failed');
    throw new ApiError(response.status, detail + this.authHint(response.status));
  }

  private authHint(status: number): string {
    if (status !== 401 && status !== 403) return '';
    return this.hasToken ? '' : ' (pass --token or set SPILLWAY_TOKEN)';
  }
}

/** Node's codes for a server certificate the client does not trust or that does not name the host. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** An http(s) URL without a trailing slash; anything else is a usage error (exit 2). */
export function checkedBaseUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliError(`invalid API URL "${text}": expected e.g. http://127.0.0.1:7070`, 2);
  }
  return text.replace(/\/+$/, '');
}

function definedOnly(query: Query): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)) as Record<
    string,
    string | number | boolean
  >;
}

function parse<S extends z.ZodType>(schema: S, data: unknown, method: string, path: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return withUnknownFields(data, result.data);
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new CliError(`unexpected answer to ${method} ${path}: ${where}${issue?.message ?? 'invalid'}`);
}

/**
 * The parsed answer with the fields its schema does not know put back from the raw one: a newer
 * server's fields reach `--json` output. Parsed values win (defaults, transforms).
 */
function withUnknownFields<T>(raw: unknown, parsed: T): T {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return parsed.map((item, index) => withUnknownFields(raw[index], item)) as T;
  }
  if (!isPlainObject(raw) || !isPlainObject(parsed)) return parsed;
  const merged: Record<string, unknown> = { ...raw };
  for (const [key, value] of Object.entries(parsed)) merged[key] = withUnknownFields(raw[key], value);
  return merged as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
