import { PrometheusClient, readRateHistory } from '@spillway/signals';
import type { MetricsHistory } from '@spillway/simulator';
import { type PrometheusServer, startPrometheusServer } from '@spillway/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREDICTIVE_SCENARIOS, runScenario, SERVICE, type TickRecord } from '../support/predictive-world.js';

/**
 * Predictive pre-warming end to end in simulated time: the simulator's load model ramps the
 * service's demand, its Prometheus-shaped server answers the policy's rateQuery as a range query
 * (`/api/v1/query_range`), the real PrometheusClient reads it (zod-checked matrix), the core
 * forecasts and decides. The cloud capacity must be warm before the SLO breaches, and traffic
 * must not move until the load reaches on-prem capacity or the SLO breaches.
 */

let history: MetricsHistory | undefined;
let simulatedNow = 0;
let server: PrometheusServer;
let client: PrometheusClient;
let rangeQueries = 0;

beforeAll(async () => {
  server = await startPrometheusServer({
    services: () => (history ? [SERVICE] : []),
    aggregate: (_service, at, windowMs) => history?.window(at, windowMs),
    now: () => simulatedNow,
  });
  client = new PrometheusClient({ baseUrl: server.url, timeoutMs: 5_000 });
});

afterAll(async () => {
  await server?.stop();
});

describe('predictive pre-warming through the simulator and its Prometheus API', () => {
  it('warms cloud capacity before the breach and moves traffic only once the load arrives', async () => {
    const ramp = PREDICTIVE_SCENARIOS.find((scenario) => scenario.name === 'ramp');
    if (!ramp) throw new Error('no ramp scenario');
    let shiftedAt: number | null = null;
    const result = await runScenario(ramp, true, {
      metricsRetentionMs: ramp.historySeconds * 1000,
      onSample: (metrics, now) => {
        history = metrics;
        simulatedNow = now;
      },
      forecastSource: {
        history: async (now, settings) => {
          rangeQueries++;
          return readRateHistory(client, {
            query: settings.rateQuery,
            now,
            historySeconds: settings.historySeconds,
            stepSeconds: settings.stepSeconds,
          });
        },
      },
      // Two minutes after traffic first moved is enough to judge.
      until: (tick) => {
        if (shiftedAt === null && tick.share > 0) shiftedAt = tick.at;
        return shiftedAt !== null && tick.at >= shiftedAt + 120_000;
      },
    });
    const ticks = result.ticks;
    expect(rangeQueries).toBeGreaterThan(100);
    // The forecasts were made from the range answers: an hour of history at 15 s is up to 241 points.
    expect(ticks.at(-1)?.forecast?.method).toBe('holt');

    const firstIndex = (accept: (tick: TickRecord) => boolean) => ticks.findIndex(accept);
    const warmed = firstIndex((tick) => tick.phase === 'warming');
    const capacityAsked = firstIndex((tick) => tick.actions.some((a) => a.kind === 'scale-deployment'));
    const shifted = firstIndex((tick) => tick.share > 0);
    const breached = firstIndex((tick) => tick.signals.slo === 'breached');
    expect(warmed).toBeGreaterThan(0);
    expect(capacityAsked).toBe(warmed);
    expect(shifted).toBeGreaterThan(warmed);

    // No traffic moved while warming; the scale-out asked for no traffic share at all.
    for (const tick of ticks.slice(0, shifted)) {
      expect(tick.share).toBe(0);
      expect(tick.actions.filter((a) => a.kind === 'set-traffic-share' && a.share > 0)).toEqual([]);
    }
    // Traffic moved when the load reached on-prem capacity (900 rps) or the SLO breached, not before.
    const shift = ticks[shifted] as TickRecord;
    const arrived = (shift.forecast?.observedRps ?? 0) >= 900 || shift.signals.slo === 'breached';
    expect(arrived).toBe(true);
    // The capacity for the first step was ready before traffic moved, and before any breach.
    const ready = firstIndex((tick) => tick.replicasReady >= 2);
    expect(ready).toBeGreaterThan(warmed);
    expect(ready).toBeLessThanOrEqual(shifted);
    if (breached !== -1) expect(ready).toBeLessThan(breached);
    // The audit names the forecast that drove the pre-warm.
    expect(result.audit.find((line) => line.includes(' prewarm: '))).toMatch(
      /prewarm: forecast \(Holt's linear trend\): .* crosses on-prem capacity 900 rps at .* warming capacity for share 0\.50 without moving traffic/,
    );
  });

  it('answers a range query with Prometheus’ bad_data for a resolution past 11,000 points', async () => {
    const body = new URLSearchParams({ query: 'service:http_requests:rate1m', start: '0', end: '20000', step: '1' });
    const response = await fetch(`${server.url}/api/v1/query_range`, { method: 'POST', body });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    await expect(
      client.queryRange('service:http_requests:rate1m', { start: 0, end: 20_000_000, stepSeconds: 1 }),
    ).rejects.toMatchObject({
      errorType: 'bad_data',
      message: expect.stringMatching(/exceeded maximum resolution of 11000 points/),
    });
  });
});
