import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WindowAggregate } from './metrics-history.js';
import { matches, parseSelector, SelectorSyntaxError } from './promql-selector.js';
import { recordedSeries, seriesValue } from './recorded-series.js';

/** What the server reads its answers from: the fleet's metrics history. */
export interface SeriesSource {
  /** Services that have series. */
  services(): readonly string[];
  /** The service's aggregate over (at − windowMs, at], or undefined without samples there. */
  aggregate(service: string, at: number, windowMs: number): WindowAggregate | undefined;
  /** Simulated epoch ms: the "now" of a query without `time`. */
  now(): number;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`: the base URL to give PrometheusClient. */
  readonly url: string;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * A server with Prometheus' `/api/v1/query` and `/api/v1/query_range` API (GET with query parameters or POST with a form
 * body, as the real one) answering the simulator's recorded series as instant vectors, in the
 * real JSON shape. Errors are Prometheus' too: `bad_data` 400 for a query or time it cannot parse.
 */
export async function startPrometheusServer(source: SeriesSource, host = '127.0.0.1'): Promise<PrometheusServer> {
  const server = createServer((request, response) => {
    handle(source, request, response).catch((error: unknown) =>
      send(response, 500, { status: 'error', errorType: 'internal', error: String(error) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(source: SeriesSource, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://simulator');
  if (url.pathname === '/-/ready' || url.pathname === '/-/healthy') {
    response.writeHead(200, { 'Content-Type': 'text/plain' }).end('Prometheus (simulated) is Ready.\n');
    return;
  }
  if (url.pathname !== '/api/v1/query' && url.pathname !== '/api/v1/query_range') {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'POST') {
    response.writeHead(405, { Allow: 'GET, POST' }).end();
    return;
  }
  // Prometheus reads parameters from the URL and from a form body alike (Go's ParseForm).
  const params = new URLSearchParams(url.search);
  if (request.method === 'POST') {
    for (const [name, value] of new URLSearchParams(await readBody(request))) params.append(name, value);
  }
  const [status, body] = url.pathname === '/api/v1/query' ? answer(source, params) : answerRange(source, params);
  send(response, status, body);
}

function answer(source: SeriesSource, params: URLSearchParams): [number, unknown] {
  const query = params.get('query');
  if (!query) return badData('invalid parameter "query": 1:1: parse error: no expression found in input');
  const now = source.now();
  let at = now;
  const time = params.get('time');
  if (time !== null) {
    const parsed = parseTime(time);
    if (parsed === undefined) return badData(`invalid parameter "time": cannot parse "${time}" to a valid timestamp`);
    // The simulator has no future; a later time sees the latest samples, as Prometheus's lookback would.
    at = Math.min(parsed, now);
  }
  try {
    return [200, { status: 'success', data: { resultType: 'vector', result: vector(source, query, at) } }];
  } catch (error) {
    if (error instanceof SelectorSyntaxError || error instanceof SyntaxError) {
      return badData(`invalid parameter "query": ${error.message}`);
    }
    throw error;
  }
}

/** Prometheus' own bound on points per series in a range query. */
const MAX_RANGE_POINTS = 11_000;

/**
 * `/api/v1/query_range`: the instant answer at start, start + step, … ≤ end, as a matrix with
 * one series per service; Prometheus' bad_data errors for a missing or bad start/end/step, an end
 * before the start, and more than 11,000 points per series. Times after the simulator's now have
 * no samples (the simulator has no future), so the matrix stops at now.
 */
function answerRange(source: SeriesSource, params: URLSearchParams): [number, unknown] {
  const query = params.get('query');
  if (!query) return badData('invalid parameter "query": 1:1: parse error: no expression found in input');
  const start = parseTime(params.get('start') ?? '');
  if (start === undefined)
    return badData(`invalid parameter "start": cannot parse "${params.get('start') ?? ''}" to a valid timestamp`);
  const end = parseTime(params.get('end') ?? '');
  if (end === undefined)
    return badData(`invalid parameter "end": cannot parse "${params.get('end') ?? ''}" to a valid timestamp`);
  if (end < start) return badData('invalid parameter "end": end timestamp must not be before start time');
  const stepMs = parseStep(params.get('step') ?? '');
  if (stepMs === undefined)
    return badData(`invalid parameter "step": cannot parse "${params.get('step') ?? ''}" to a valid duration`);
  if (stepMs <= 0) {
    return badData('zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  if ((end - start) / stepMs > MAX_RANGE_POINTS) {
    return badData(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    );
  }
  const last = Math.min(end, source.now());
  const matrix = new Map<string, { metric: InstantSample['metric']; values: InstantSample['value'][] }>();
  try {
    for (let at = start; at <= last; at += stepMs) {
      for (const sample of vector(source, query, at)) {
        const entry = matrix.get(sample.metric.service) ?? { metric: sample.metric, values: [] };
        entry.values.push(sample.value);
        matrix.set(sample.metric.service, entry);
      }
    }
  } catch (error) {
    if (error instanceof SelectorSyntaxError || error instanceof SyntaxError) {
      return badData(`invalid parameter "query": ${error.message}`);
    }
    throw error;
  }
  return [200, { status: 'success', data: { resultType: 'matrix', result: [...matrix.values()] } }];
}

interface InstantSample {
  metric: { __name__: string; service: string };
  value: [number, string];
}

function vector(source: SeriesSource, query: string, at: number): InstantSample[] {
  const selector = parseSelector(query);
  const series = recordedSeries(selector.metric);
  // An unknown metric name is no error in Prometheus: the vector is just empty.
  if (!series) return [];
  const result: InstantSample[] = [];
  for (const service of source.services()) {
    const labels = { __name__: selector.metric, service };
    if (!matches(selector.matchers, labels)) continue;
    const aggregate = source.aggregate(service, at, series.windowMs);
    if (aggregate)
      result.push({ metric: labels, value: [Math.round(at) / 1000, formatValue(seriesValue(series, aggregate))] });
  }
  return result;
}

/** A step as Prometheus takes it: float seconds or a duration (`15s`, `1m`, `1h30m`); ms. */
function parseStep(text: string): number | undefined {
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  return parts.reduce((sum, part) => sum + Number(part[1]) * (units[part[2] ?? ''] ?? 0), 0);
}

/** Prometheus' text for a float: NaN, +Inf, -Inf, or the shortest round-tripping decimal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Unix seconds (with a fraction) or RFC 3339, as Prometheus accepts; returns epoch ms. */
function parseTime(text: string): number | undefined {
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parsed = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(parsed) ? parsed : undefined;
}

function badData(error: string): [number, unknown] {
  return [400, { status: 'error', errorType: 'bad_data', error }];
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
