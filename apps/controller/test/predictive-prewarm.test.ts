import { startPrometheusServer } from '@spillway/simulator';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { api, type Json, startHarness, stoppedAfterEach } from './controller-harness.js';

/**
 * The controller with a predictive policy: it reads the request-rate history from a
 * Prometheus-shaped server (the simulator's, answering `/api/v1/query_range`) through the real
 * PrometheusClient, forecasts, warms the cloud (Deployment and nodegroup fakes) without moving
 * traffic, and releases the warm capacity once the forecast stops supporting it.
 */

const running = stoppedAfterEach();

describe('predictive pre-warming in the controller', () => {
  it('warms capacity ahead of a forecast crossing without moving traffic, then releases it when the forecast fails', async () => {
    const origin = Date.now();
    // Rising 1 rps per second for the last five minutes: 900 rps now, 1000 rps (on-prem capacity) in 100 s.
    let rising = true;
    const rate = (at: number) => (rising ? 600 + (at - (origin - 300_000)) / 1000 : 500);
    const prometheus = await startPrometheusServer({
      services: () => ['checkout.shop'],
      aggregate: (_service, at) => ({ errorRatio: 0, requestsPerSecond: rate(at), p99Seconds: 0.05 }),
      now: () => Date.now(),
    });
    running.prometheus = prometheus;
    const harness = await startHarness(
      {
        predictive: {
          enabled: true,
          rateQuery: 'service:http_requests:rate1m{service="checkout.shop"}',
          capacityRps: 1000,
          historySeconds: 300,
          stepSeconds: 1,
          defaultLeadTimeSeconds: 120,
          releaseAfterSeconds: 10,
        },
      },
      { prometheusUrl: prometheus.url },
    );
    running.harness = harness;
    const { url, k8s, eks, traffic } = harness;
    const share = () => traffic.get('checkout.shop')?.cloudShare ?? 0;

    // The forecast peak (≈1500 rps in 10 min) needs share 0.33: the top step 0.3 → 3 replicas on 2 nodes.
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 3, {
      message: 'warm replicas asked for',
      timeoutMs: 30_000,
    });
    await waitFor(() => eks.nodegroup('burst', 'spot').desiredSize === 2, {
      message: 'warm nodes asked for',
      timeoutMs: 30_000,
    });
    const entries = async () =>
      (await api(url, 'GET', '/v1/audit?service=checkout.shop&limit=200')).body.entries as Json[];
    const prewarm = (await entries()).find((entry: Json) => entry.details?.decision === 'prewarm');
    expect(prewarm?.message).toMatch(
      /forecast \(Holt's linear trend\): .* crosses on-prem capacity 1000 rps at .*\(lead time 120 s\); warming capacity for share 0\.30 without moving traffic/,
    );
    const burst = (await api(url, 'GET', '/v1/bursts')).body;
    expect(JSON.stringify(burst)).toContain('"warming"');
    // The burst API shows the forecast the controller acted on and the warm capacity it called for.
    const id = (burst.bursts as Json[])[0]?.id as string;
    const detail = (await api(url, 'GET', `/v1/bursts/${id}`)).body;
    expect(detail.forecast).toMatchObject({
      method: 'holt',
      capacityRps: 1000,
      horizonSeconds: 600,
      leadTimeSeconds: 120,
      leadTimeLearned: false,
      warm: { share: 0.3, replicas: 3, nodes: 2 },
    });
    expect(detail.forecast.observedRps).toBeGreaterThan(850);
    expect(detail.forecast.peakRps).toBeGreaterThan(1000);
    expect(detail.forecast.summary).toMatch(/^forecast \(Holt's linear trend\): /);
    expect(detail.prewarm).toMatchObject({ shiftedAt: null });
    expect(Date.parse(detail.prewarm.crossingAt)).toBeGreaterThan(Date.parse(detail.prewarm.startedAt));
    // And the policy list, the forecast of each predictive policy (idle or not).
    const policies = (await api(url, 'GET', '/v1/burst-policies')).body;
    expect(policies.forecasts).toEqual([expect.objectContaining({ service: 'checkout.shop', capacityRps: 1000 })]);
    expect(share()).toBe(0);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /spillway_burst_forecast_requests_per_second\{service="checkout.shop",kind="capacity"\} 1000/,
    );
    expect(metrics).toMatch(/spillway_burst_lead_time_seconds\{service="checkout.shop"\} \d+/);
    // No re-breach after a step down: the burst's cooldown is the policy's (flap damping's factor 1).
    expect(metrics).toMatch(/spillway_burst_cooldown_factor\{service="checkout.shop"\} 1$/m);

    // The forecast does not come true: after releaseAfterSeconds the warm capacity goes, traffic never moved.
    rising = false;
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, {
      message: 'warm replicas released',
      timeoutMs: 40_000,
    });
    const released = (await entries()).find(
      (entry: Json) => entry.details?.decision === 'prewarm' && /did not come true/.test(entry.message),
    );
    expect(released?.message).toMatch(/releasing the warm capacity \(no new pre-warm for 10 s\)/);
    expect(share()).toBe(0);
    expect(traffic.get('checkout.shop')?.cloudShare ?? 0).toBe(0);
  }, 90_000);
});
