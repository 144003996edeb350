import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { askIdentity } from '../src/identity-server.js';
import { parseSelector } from '../src/promql-selector.js';
import { toRealTime } from '../src/real-time-policies.js';
import { Scenario } from '../src/scenario.js';
import { startFleet } from './support/fleet.js';

describe('the fleet', () => {
  it('hands out the scenario policy with its intervals in real time, and stop() closes every server', async () => {
    const fleet = await startFleet(defaultScenario(), { speed: 10 });
    const [policy] = fleet.policies;
    expect(policy).toMatchObject({ service: 'checkout.shop', stepIntervalSeconds: 6, cooldownSeconds: 12 });
    expect(policy?.slo?.evaluationIntervalSeconds).toBe(1.5);
    expect(policy?.slo?.latency?.query).toBe(
      'service:http_request_duration_seconds:p99_rate5m{service="checkout.shop"}',
    );

    const endpoints = fleet.status().endpoints;
    await fleet.stop();
    await fleet.stop();
    for (const endpoint of endpoints)
      await expect(askIdentity(endpoint.address, endpoint.port, 2_000)).rejects.toThrow();
    await expect(fetch(`${fleet.prometheusUrl}/-/ready`)).rejects.toThrow();
    const route53 = policy?.cloud.route53;
    if (!route53) throw new Error('the default policy has a Route 53 target');
    const pending = fleet.adapters.dns.setWeights(route53, { cloudWeight: 1, onpremWeight: 1 });
    await expect(pending).rejects.toThrow(/stopped/);
  });

  it('runs the policies in real time: intervals ÷ speed, prices per simulated hour × speed, budgets as they are', () => {
    const [simulated] = defaultScenario().policies;
    if (!simulated) throw new Error('the default scenario has a policy');
    const priced = { ...simulated, cost: { ...simulated.cost!, replicaHourly: 0.05, perBurstBudget: 30 } };
    const real = toRealTime(priced, 60);
    expect(real.stepIntervalSeconds).toBe(1);
    expect(real.cost).toMatchObject({ nodeHourly: 25.2, currency: 'USD', perBurstBudget: 30 });
    expect(real.cost?.replicaHourly).toBeCloseTo(3, 9);
  });

  it('rejects scenarios that do not hold together', () => {
    const base = defaultScenario();
    const broken = {
      ...base,
      sites: [...base.sites, { ...base.sites[0], name: 'dc3' }],
      load: [...base.load, { service: 'ghost.shop', baselineRps: 1, capacityRpsPerEndpoint: 1 }],
    };
    const result = Scenario.safeParse(broken);
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((issue) => issue.message) ?? [];
    expect(messages).toContain('zone "dc1-a" is in two sites');
    expect(messages).toContain('no site runs "ghost.shop"');
  });

  it('parses the selector form of the recorded series', () => {
    expect(parseSelector(' service:http_requests:rate5m { service = "a.b", zone!~"x|y" } ')).toEqual({
      metric: 'service:http_requests:rate5m',
      matchers: [
        { name: 'service', op: '=', value: 'a.b' },
        { name: 'zone', op: '!~', value: 'x|y' },
      ],
    });
    expect(() => parseSelector('rate(x[5m])')).toThrow(/parse error/);
  });
});
