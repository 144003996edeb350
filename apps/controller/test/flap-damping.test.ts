import { startPrometheusServer } from '@spillway/simulator';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { api, type Json, startHarness, stoppedAfterEach } from './controller-harness.js';

/**
 * Flap damping in the controller, with the policy's own window and cap: a service whose SLO holds
 * only at the top step (the load stays above on-prem capacity) re-breaches after each step down.
 * Each re-breach doubles the burst's cooldown up to `damping.maxFactor`; the metrics show it.
 */

const running = stoppedAfterEach();

/** `metric{service="checkout.shop"} N` in a Prometheus exposition; undefined without the series. */
function sample(exposition: string, metric: string): number | undefined {
  const match = new RegExp(`^${metric}\\{service="checkout\\.shop"\\} (\\S+)$`, 'm').exec(exposition);
  return match ? Number(match[1]) : undefined;
}

describe('flap damping in the controller', () => {
  it("re-breaches after a step down double the burst's cooldown up to damping.maxFactor, counted and shown", async () => {
    // The SLO holds at the top step (0.3) only: below it the p99 is over the 0.5 s threshold.
    let cloudShare = () => 0;
    const prometheus = await startPrometheusServer({
      services: () => ['checkout.shop'],
      aggregate: () => ({ errorRatio: 0, requestsPerSecond: 100, p99Seconds: cloudShare() >= 0.3 ? 0.05 : 2 }),
      now: () => Date.now(),
    });
    running.prometheus = prometheus;
    const harness = await startHarness(
      {
        triggers: { alerts: [] },
        slo: {
          latency: {
            query: 'service:http_request_duration_seconds:p99_rate1m{service="checkout.shop"}',
            thresholdSeconds: 0.5,
          },
          evaluationIntervalSeconds: 0.2,
        },
        cooldownSeconds: 1,
        // A wide window: a busy machine may take a while to see the re-breach.
        damping: { windowCooldowns: 10, maxFactor: 2 },
      },
      { prometheusUrl: prometheus.url },
    );
    running.harness = harness;
    const { url, traffic } = harness;
    cloudShare = () => traffic.get('checkout.shop')?.cloudShare ?? 0;

    const metrics = async () => (await fetch(`${url}/metrics`)).text();
    const exposition = await waitFor(
      async () => {
        const text = await metrics();
        return (sample(text, 'spillway_burst_damping_total') ?? 0) >= 2 ? text : undefined;
      },
      { message: 'two damped re-breaches', timeoutMs: 60_000 },
    );
    // The cap is the policy's: 2 × its cooldown, held there at the second re-breach.
    expect(sample(exposition, 'spillway_burst_cooldown_factor')).toBe(2);
    const entries = (await api(url, 'GET', '/v1/audit?service=checkout.shop&limit=500')).body.entries as Json[];
    const damping = entries
      .filter((entry: Json) => entry.details?.decision === 'damping')
      .map((entry: Json) => entry.message as string)
      .reverse();
    expect(damping[0]).toMatch(/^re-breached \d+ s after stepping down to 0\.10: cooldown now 2 s$/);
    expect(damping[1]).toMatch(
      /^re-breached \d+ s after stepping down to 0\.10: cooldown now 2 s \(the bound, 2 × the policy's\)$/,
    );
  }, 90_000);
});
