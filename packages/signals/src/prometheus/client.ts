import { createMetricsRegistry, type Registry } from '@spillway/observability';
import axios, { type AxiosInstance } from 'axios';
import { PrometheusQueryMetrics } from '../metrics.js';
import { describeQuery, PrometheusQueryError, parseQueryResponse, type QueryResponse } from './response.js';

/** How much longer than Prometheus's own `timeout` the client waits for an answer. */
const CLIENT_GRACE_MS = 1_000;

export interface PrometheusClientOptions {
  /** Prometheus's base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept). */
  baseUrl: string;
  /**
   * Default deadline of one query, passed to Prometheus as `timeout`; the client itself gives up
   * one second later (no answer at all: errorType `timeout`, status null).
   */
  timeoutMs?: number;
  /** Extra request headers, e.g. `Authorization` for a Prometheus behind a proxy. */
  headers?: Record<string, string>;
  /** Where the query counters go; a private registry when absent. */
  registry?: Registry;
}

export interface QueryOptions {
  /** Evaluation time; Prometheus's "now" when absent. */
  time?: Date | number;
  /** This query's deadline, overriding the client's. */
  timeoutMs?: number;
}

/**
 * `/api/v1/query` over axios. Every answer is validated; every failure (Prometheus's errors,
 * HTTP errors, bodies of the wrong shape, timeouts, refused connections) is thrown as one
 * PrometheusQueryError, so the caller has exactly one failure type to handle.
 */
export class PrometheusClient {
  private readonly http: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly metrics: PrometheusQueryMetrics;

  constructor(options: PrometheusClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.metrics = new PrometheusQueryMetrics(options.registry ?? createMetricsRegistry({ defaultMetrics: false }));
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      headers: { Accept: 'application/json', ...options.headers },
      // The body is parsed and validated here, whatever the status: Prometheus's errors are JSON.
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
    });
  }

  /** Runs an instant query. Throws PrometheusQueryError on any failure. */
  async query(promql: string, options: QueryOptions = {}): Promise<QueryResponse> {
    this.metrics.queries.inc();
    try {
      return await this.send(promql, options);
    } catch (error) {
      const failure = error instanceof PrometheusQueryError ? error : toQueryError(promql, error);
      this.metrics.errors.inc({ error_type: failure.errorType });
      throw failure;
    }
  }

  private async send(promql: string, options: QueryOptions): Promise<QueryResponse> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const form = new URLSearchParams({ query: promql, timeout: `${Math.max(1, Math.floor(timeoutMs))}ms` });
    if (options.time !== undefined) {
      const seconds = options.time instanceof Date ? options.time.getTime() / 1000 : options.time;
      form.set('time', seconds.toFixed(3));
    }
    // POST with a form body: the documented alternative to GET, with no URL length limit.
    const response = await this.http.post<string>('/api/v1/query', form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      // Prometheus gets `timeout`; the client waits a little longer so that, when Prometheus is
      // alive, its own answer (503 timeout, with its message) arrives before the client gives up.
      timeout: timeoutMs + CLIENT_GRACE_MS,
    });
    return parseQueryResponse(promql, response.status, response.data);
  }
}

/** A transport failure (no usable HTTP answer) as a PrometheusQueryError. */
function toQueryError(promql: string, error: unknown): PrometheusQueryError {
  const where = `Prometheus query "${describeQuery(promql)}"`;
  if (axios.isAxiosError(error)) {
    const code = error.code ?? '';
    if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
      return new PrometheusQueryError(
        'timeout',
        null,
        `${where} failed: timeout: no answer in time (${error.message})`,
      );
    }
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    return new PrometheusQueryError(
      'connection',
      null,
      `${where} failed: connection: ${code ? `${code} ` : ''}${cause}`.replace(/\s+/g, ' '),
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PrometheusQueryError('connection', null, `${where} failed: connection: ${message}`.replace(/\s+/g, ' '));
}
