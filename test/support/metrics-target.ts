import { createServer } from 'node:http';
import { closeServer, listenOnLoopback } from './http.js';

/** The traffic a service is simulated to receive, from now on. */
export interface TrafficShape {
  requestsPerSecond: number;
  /** Share of requests answered 500 (0..1); the rest are 200. */
  errorRatio: number;
  /** Every request takes this long (observed into the histogram). */
  latencySeconds: number;
}

/** prom-client's default buckets, then +Inf. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface ServiceState {
  shape: TrafficShape;
  ok: number;
  errors: number;
  /** Cumulative counts per finite bucket, then +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

export interface MetricsTarget {
  /** The metrics URL to scrape: `http://127.0.0.1:PORT/metrics`. */
  readonly url: string;
  /** `127.0.0.1:PORT` */
  readonly hostPort: string;
  /** Changes a service's traffic from now on (counters keep what they counted so far). */
  set(service: string, shape: Partial<TrafficShape>): void;
  /** Counter values right now, for assertions and debugging. */
  totals(service: string): { ok: number; errors: number };
  /** Scrapes served so far. */
  scrapes(): number;
  stop(): Promise<void>;
}

const IDLE: TrafficShape = { requestsPerSecond: 0, errorRatio: 0, latencySeconds: 0.05 };

/**
 * A service's `/metrics` as Prometheus would scrape it: `http_requests_total{service,code}` and
 * `http_request_duration_seconds` (histogram), driven by the test. Counters grow continuously
 * with time at the configured rate (not per scrape), so rates in Prometheus match the shape
 * whatever the scrape timing on a busy machine. Every series exists from the start with 0, as
 * infra/prometheus/spillway-slo-rules.yml asks of real services.
 */
export async function startMetricsTarget(initial: Record<string, Partial<TrafficShape>> = {}): Promise<MetricsTarget> {
  const services = new Map<string, ServiceState>();
  let last = performance.now();
  let scrapes = 0;

  const advance = () => {
    const now = performance.now();
    const seconds = (now - last) / 1000;
    last = now;
    for (const state of services.values()) {
      const requests = state.shape.requestsPerSecond * seconds;
      const errors = requests * state.shape.errorRatio;
      state.errors += errors;
      state.ok += requests - errors;
      BUCKETS.forEach((le, index) => {
        if (state.shape.latencySeconds <= le) state.buckets[index]! += requests;
      });
      state.buckets[BUCKETS.length]! += requests;
      state.sum += requests * state.shape.latencySeconds;
      state.count += requests;
    }
  };

  const set = (service: string, shape: Partial<TrafficShape>) => {
    advance();
    const state = services.get(service);
    if (state) state.shape = { ...state.shape, ...shape };
    else {
      services.set(service, {
        shape: { ...IDLE, ...shape },
        ok: 0,
        errors: 0,
        buckets: new Array<number>(BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      });
    }
  };
  for (const [service, shape] of Object.entries(initial)) set(service, shape);

  const render = (): string => {
    advance();
    const lines = [
      '# HELP http_requests_total Requests handled, by service and HTTP status code.',
      '# TYPE http_requests_total counter',
    ];
    for (const [service, state] of services) {
      lines.push(`http_requests_total{service="${service}",code="200"} ${state.ok}`);
      lines.push(`http_requests_total{service="${service}",code="500"} ${state.errors}`);
    }
    lines.push('# HELP http_request_duration_seconds Request latency.');
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const [service, state] of services) {
      BUCKETS.forEach((le, index) => {
        lines.push(`http_request_duration_seconds_bucket{service="${service}",le="${le}"} ${state.buckets[index]}`);
      });
      lines.push(
        `http_request_duration_seconds_bucket{service="${service}",le="+Inf"} ${state.buckets[BUCKETS.length]}`,
      );
      lines.push(`http_request_duration_seconds_sum{service="${service}"} ${state.sum}`);
      lines.push(`http_request_duration_seconds_count{service="${service}"} ${state.count}`);
    }
    return `${lines.join('\n')}\n`;
  };

  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrapes++;
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  const base = await listenOnLoopback(server);

  return {
    url: `${base}/metrics`,
    hostPort: new URL(base).host,
    set,
    totals: (service) => {
      advance();
      const state = services.get(service);
      return { ok: state?.ok ?? 0, errors: state?.errors ?? 0 };
    },
    scrapes: () => scrapes,
    stop: () => closeServer(server),
  };
}
