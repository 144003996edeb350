import { createMetricsRegistry, type Registry } from '@spillway/observability';
import axios, { type AxiosInstance } from 'axios';
import { PrometheusQueryMetrics } from '../metrics.js';
import {
  describeQuery,
  PrometheusQueryError,
  parseQueryResponse,
  type QueryResponse,
  type RangeSeries,
} from './response.js';

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

/** Prometheus refuses a range query of more points per series than this (its own limit). */
export const MAX_RANGE_QUERY_POINTS = 11_000;

export interface RangeQueryOptions {
  /** Epoch ms of the first point. */
  start: number;
  /** Epoch ms of the last point (inclusive). */
  end: number;
  /** Resolution in seconds (> 0). */
  stepSeconds: number;
  /** This query's deadline, overriding the client's. */
  timeoutMs?: number;
}

/** A range query's answer: one series per label set, each with its points in time order. */
export interface RangeQueryResponse {
  series: RangeSeries[];
  warnings: string[];
}

/**
 * `/api/v1/query` and `/api/v1/query_range` over axios. Every answer is validated; every failure (Prometheus's errors,
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

  /**
   * Runs a range query (`/api/v1/query_range`). The number of points is checked before sending
   * (at most MAX_RANGE_QUERY_POINTS per series, as Prometheus allows), so memory stays bounded;
   * anything but a matrix is a bad_response. Throws PrometheusQueryError on any failure.
   */
  async queryRange(promql: string, options: RangeQueryOptions): Promise<RangeQueryResponse> {
    this.metrics.queries.inc();
    try {
      checkRange(promql, options);
      const response = await this.sendRange(promql, options);
      if (response.resultType !== 'matrix') {
        throw new PrometheusQueryError(
          'bad_response',
          200,
          `Prometheus query "${describeQuery(promql)}" failed: bad_response (HTTP 200): a range query answered ${response.resultType}, not matrix`,
        );
      }
      return { series: response.result, warnings: response.warnings };
    } catch (error) {
      const failure = error instanceof PrometheusQueryError ? error : toQueryError(promql, error);
      this.metrics.errors.inc({ error_type: failure.errorType });
      throw failure;
    }
  }

  private async sendRange(promql: string, options: RangeQueryOptions): Promise<QueryResponse> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const form = new URLSearchParams({
      query: promql,
      start: (options.start / 1000).toFixed(3),
      end: (options.end / 1000).toFixed(3),
      step: String(options.stepSeconds),
      timeout: `${Math.max(1, Math.floor(timeoutMs))}ms`,
    });
    const response = await this.http.post<string>('/api/v1/query_range', form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      timeout: timeoutMs + CLIENT_GRACE_MS,
    });
    return parseQueryResponse(promql, response.status, response.data);
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

/** A range Prometheus would refuse is refused here, with the same words, before any request. */
function checkRange(promql: string, { start, end, stepSeconds }: RangeQueryOptions): void {
  const fail = (why: string) => {
    throw new PrometheusQueryError(
      'bad_data',
      null,
      `Prometheus query "${describeQuery(promql)}" failed: bad_data: ${why}`,
    );
  };
  if (!Number.isFinite(start) || !Number.isFinite(end)) fail('start and end must be times');
  if (end < start) fail('end timestamp must not be before start time');
  if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) fail('step must be a positive number of seconds');
  const points = Math.floor((end - start) / (stepSeconds * 1000)) + 1;
  if (points > MAX_RANGE_QUERY_POINTS) {
    fail(`exceeded maximum resolution of ${MAX_RANGE_QUERY_POINTS} points per timeseries (${points} asked)`);
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
