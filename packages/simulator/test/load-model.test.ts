import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { PrometheusClient, SloEvaluator } from '@spillway/signals';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { observe, offeredRps, type ServingEndpoint } from '../src/load-model.js';
import { Scenario, type ServiceLoad } from '../src/scenario.js';
import { startFleet } from './support/fleet.js';

const checkout = (): ServiceLoad => {
  const load = defaultScenario().load.find((entry) => entry.service === 'checkout.shop');
  if (!load) throw new Error('the default scenario has a checkout load');
  return load;
};
const endpoints = (environment: 'onprem' | 'cloud', count: number, extra = 0): ServingEndpoint[] =>
  Array.from({ length: count }, () => ({ environment, extraLatencySeconds: extra }));

describe('the load model (pure)', () => {
  it('follows the surge timeline: baseline, ramp, hold, ramp down', () => {
    const load = checkout();
    expect(offeredRps(load, 0)).toBe(200);
    expect(offeredRps(load, 75)).toBe(400);
    expect(offeredRps(load, 200)).toBe(600);
    expect(offeredRps(load, 60 + 30 + 480 + 15)).toBe(400);
    expect(offeredRps(load, 1_000)).toBe(200);
  });

  it('saturates on-prem during the surge, and a cloud share relieves it', () => {
    const load = checkout();
    const saturated = observe(load, 600, 0, [...endpoints('onprem', 6), ...endpoints('cloud', 6)]);
    expect(saturated.maxUtilisation).toBeCloseTo(1.25);
    expect(saturated.p99Seconds).toBe(load.p99CapSeconds);
    expect(saturated.errorsPerSecond / 600).toBeCloseTo(0.0005 + (1 - 1 / 1.25));

    const relieved = observe(load, 600, 0.5, [...endpoints('onprem', 6), ...endpoints('cloud', 6)]);
    expect(relieved.onpremRps).toBe(300);
    expect(relieved.cloudRps).toBe(300);
    expect(relieved.p99Seconds).toBeCloseTo(0.05 / (1 - 0.625));
    expect(relieved.errorsPerSecond / 600).toBeCloseTo(0.0005);
  });

  it('fails over when a side has no healthy endpoints, and fails everything when none has', () => {
    const load = checkout();
    expect(observe(load, 200, 0.5, endpoints('onprem', 6)).effectiveCloudShare).toBe(0);
    expect(observe(load, 200, 0.1, endpoints('cloud', 6)).effectiveCloudShare).toBe(1);
    const outage = observe(load, 200, 0, []);
    expect(outage.errorsPerSecond).toBe(200);
  });

  it('adds a latency fault to the p99 only when the slow endpoints carry at least 1% of requests', () => {
    const load = checkout();
    const base = observe(load, 200, 0, endpoints('onprem', 6)).p99Seconds;
    expect(observe(load, 200, 0, [...endpoints('onprem', 3), ...endpoints('onprem', 3, 0.5)]).p99Seconds).toBeCloseTo(
      base + 0.5,
    );
    // A 0.5% cloud share on slow endpoints stays under the 99th percentile.
    expect(
      observe(load, 200, 0.005, [...endpoints('onprem', 6), ...endpoints('cloud', 1, 0.5)]).p99Seconds,
    ).toBeLessThan(base + 0.5);
  });
});

/**
 * The default world with a surge from t=0 and 6 cloud pods ready from the start, and checkout's
 * policy only (at 600× cart.shop's predictive durations fall below the schema's bounds in real time).
 */
function surgeScenario(): Scenario {
  const base = defaultScenario();
  return Scenario.parse({
    ...base,
    policies: base.policies.filter((policy) => policy.service === 'checkout.shop'),
    sites: base.sites.map((site) =>
      site.name === 'us-east-1'
        ? {
            ...site,
            nodegroups: [],
            deployments: [{ namespace: 'shop', name: 'checkout', service: 'checkout.shop', initialReplicas: 6 }],
          }
        : site,
    ),
    load: base.load.map((load) =>
      load.service === 'checkout.shop'
        ? { ...load, surges: [{ atSeconds: 0, rampSeconds: 0, holdSeconds: 1_000_000, peakRps: 600 }] }
        : load,
    ),
  });
}

describe('the load model through the fleet', () => {
  it("breaches the default policy's SLO in the surge and recovers once the router applies a cloud share", async () => {
    const traffic = new InMemoryTrafficPolicyStore();
    // 600× : the 1h burn-rate window passes in 6 real seconds.
    const fleet = await startFleet(surgeScenario(), { speed: 600, traffic });
    const [policy] = fleet.scenario.policies;
    if (!policy?.slo) throw new Error('the default scenario has a policy with an SLO');
    const slo = new SloEvaluator(new PrometheusClient({ baseUrl: fleet.prometheusUrl }));

    const breached = await waitFor(
      async () => {
        const signal = await slo.evaluate(policy.slo!);
        return signal.state === 'breached' ? signal : undefined;
      },
      { timeoutMs: 30_000, message: 'the SLO to breach during the surge' },
    );
    expect(breached.values.latencySeconds).toBeGreaterThan(policy.slo.latency?.thresholdSeconds ?? 0);
    expect(breached.values.errorRatios?.['5m']).toBeGreaterThan(14.4 * 0.001);

    await traffic.set({
      service: 'checkout.shop',
      cloudShare: 0.5,
      reason: 'test burst',
      updatedAt: new Date().toISOString(),
    });
    const checkout = fleet.status().services.find((service) => service.service === 'checkout.shop');
    expect(checkout).toMatchObject({ effectiveCloudShare: 0.5, onpremRps: 300, cloudRps: 300 });

    const recovered = await waitFor(
      async () => {
        const signal = await slo.evaluate(policy.slo!);
        return signal.state === 'recovered' ? signal : undefined;
      },
      { timeoutMs: 45_000, message: 'the SLO to recover with half the traffic in the cloud' },
    );
    expect(recovered.values.latencySeconds).toBeLessThan(0.2);
  });
});
