import { PrometheusClient, PrometheusQueryError, readRateHistory } from '@spillway/signals';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsHistory } from '../src/metrics-history.js';
import { type PrometheusServer, startPrometheusServer } from '../src/prometheus-server.js';
import { realTimeRangeQueries } from '../src/real-time-range-queries.js';

/** Two services with a sample every 5 s for 10 minutes; checkout's rate rises 1 rps per sample. */
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const NOW = T0 + 600_000;
const histories = new Map<string, MetricsHistory>();
for (const [service, base] of [
  ['checkout.shop', 100],
  ['cart.shop', 50],
] as const) {
  const history = new MetricsHistory(3_600_000);
  for (let i = 0; i <= 120; i++) {
    history.append({ at: T0 + i * 5_000, requestsPerSecond: base + i, errorsPerSecond: 0, p99Seconds: 0.05 });
  }
  histories.set(service, history);
}

let server: PrometheusServer;
let client: PrometheusClient;

beforeAll(async () => {
  server = await startPrometheusServer({
    services: () => [...histories.keys()],
    aggregate: (service, at, windowMs) => histories.get(service)?.window(at, windowMs),
    now: () => NOW,
  });
  client = new PrometheusClient({ baseUrl: server.url, timeoutMs: 5_000 });
});

afterAll(async () => {
  await server?.stop();
});

const rate = 'service:http_requests:rate30s{service="checkout.shop"}';

describe('the simulator’s /api/v1/query_range', () => {
  it('answers a matrix at start, start + step, … up to its now, read by the real client', async () => {
    const answer = await client.queryRange(rate, { start: NOW - 120_000, end: NOW + 60_000, stepSeconds: 30 });
    expect(answer.series).toHaveLength(1);
    const [series] = answer.series;
    expect(series?.metric).toEqual({ __name__: 'service:http_requests:rate30s', service: 'checkout.shop' });
    // (NOW − 120 s … NOW] every 30 s: 5 points; nothing after now (the simulator has no future).
    expect(series?.values.map((point) => point.timestamp)).toEqual(
      [0, 1, 2, 3, 4].map((i) => (NOW - 120_000 + i * 30_000) / 1000),
    );
    // The 30 s rate at NOW averages the 6 samples in (NOW − 30 s, NOW]: 100 + 115 … 100 + 120.
    expect(series?.values.at(-1)?.value).toBeCloseTo(100 + 117.5, 6);
  });

  it('accepts Prometheus durations as the step and answers every matching service', async () => {
    const body = new URLSearchParams({
      query: 'service:http_requests:rate30s',
      start: String((NOW - 60_000) / 1000),
      end: new Date(NOW).toISOString(),
      step: '1m',
    });
    const response = await fetch(`${server.url}/api/v1/query_range?${body}`);
    expect(response.status).toBe(200);
    const json = (await response.json()) as {
      data: { resultType: string; result: { metric: { service: string }; values: unknown[] }[] };
    };
    expect(json.data.resultType).toBe('matrix');
    expect(json.data.result.map((series) => [series.metric.service, series.values.length]).sort()).toEqual([
      ['cart.shop', 2],
      ['checkout.shop', 2],
    ]);
  });

  it('refuses what Prometheus refuses with bad_data 400', async () => {
    const ask = async (params: Record<string, string>) => {
      const response = await fetch(`${server.url}/api/v1/query_range`, {
        method: 'POST',
        body: new URLSearchParams({ query: rate, ...params }),
      });
      return [response.status, ((await response.json()) as { errorType: string; error: string }).error] as const;
    };
    expect(await ask({ start: '10', end: '5', step: '1' })).toEqual([
      400,
      'invalid parameter "end": end timestamp must not be before start time',
    ]);
    expect((await ask({ start: '0', end: '5', step: '0' }))[1]).toMatch(/zero or negative query resolution step/);
    expect((await ask({ start: '0', end: '5', step: 'soon' }))[1]).toMatch(/invalid parameter "step"/);
    expect((await ask({ start: 'x', end: '5', step: '1' }))[1]).toMatch(/invalid parameter "start"/);
    expect((await ask({ start: '0', end: '11001', step: '1' }))[1]).toMatch(
      /exceeded maximum resolution of 11,000 points/,
    );
  });

  it('readRateHistory: one series as epoch-ms points; more than one is an error naming the query', async () => {
    const points = await readRateHistory(client, { query: rate, now: NOW, historySeconds: 300, stepSeconds: 15 });
    expect(points).toHaveLength(21);
    expect(points.at(-1)).toEqual({ at: NOW, value: 217.5 });
    const both = await readRateHistory(client, {
      query: 'service:http_requests:rate30s',
      now: NOW,
      historySeconds: 300,
      stepSeconds: 15,
    }).catch((error: unknown) => error);
    expect(both).toBeInstanceOf(PrometheusQueryError);
    expect((both as Error).message).toBe(
      'Prometheus query "service:http_requests:rate30s" failed: bad_data: the rate query answered 2 series; it must answer one (aggregate with sum)',
    );
    const none = await readRateHistory(client, {
      query: 'service:http_requests:rate30s{service="none.shop"}',
      now: NOW,
      historySeconds: 300,
      stepSeconds: 15,
    });
    expect(none).toEqual([]);
  });
});

describe('realTimeRangeQueries: a real-time controller against a fleet running 60× faster', () => {
  it('reads the simulated window the real one stands for, with real timestamps and rates per simulated second', async () => {
    // The fleet started at T0; 10 real seconds later its clock says T0 + 600 s (NOW).
    const clock = { origin: T0, speed: 60 };
    const history = await readRateHistory(realTimeRangeQueries(client, clock), {
      query: rate,
      now: T0 + 10_000,
      historySeconds: 5,
      stepSeconds: 1,
    });
    // 5 real seconds at 1 s: 300 simulated seconds at 60 s, points back on the real clock.
    expect(history.map((point) => point.at)).toEqual([5, 6, 7, 8, 9, 10].map((s) => T0 + s * 1000));
    // The rate rises 1 rps per 5 simulated seconds: 12 rps per simulated minute, so per real second.
    const rises = history.slice(1).map((point, i) => point.value - (history[i]?.value ?? 0));
    for (const rise of rises) expect(rise).toBeCloseTo(12, 6);
    // The direct answer at the simulated instants carries the same values.
    const direct = await readRateHistory(client, { query: rate, now: NOW, historySeconds: 300, stepSeconds: 60 });
    expect(history.map((point) => point.value)).toEqual(direct.map((point) => point.value));
  });
});
