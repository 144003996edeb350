import { PrometheusClient, PrometheusQueryError, SloEvaluator } from '@spillway/signals';
import { describe, expect, it } from 'vitest';
import { defaultScenario, sloQueries } from '../src/default-scenario.js';
import { startFleet } from './support/fleet.js';

const queries = sloQueries('checkout.shop');

describe('the Prometheus-shaped server', () => {
  it("answers the default policy's queries as Prometheus does, parsed by the real PrometheusClient", async () => {
    const fleet = await startFleet(defaultScenario());
    const client = new PrometheusClient({ baseUrl: fleet.prometheusUrl, timeoutMs: 5_000 });
    for (const query of [queries.p99, queries.errors5m, queries.errors1h]) {
      const response = await client.query(query);
      expect(response.resultType).toBe('vector');
      if (response.resultType !== 'vector') continue;
      expect(response.result).toHaveLength(1);
      const [sample] = response.result;
      expect(sample?.metric).toEqual({ __name__: query.slice(0, query.indexOf('{')), service: 'checkout.shop' });
      expect(sample && 'value' in sample ? Number.isFinite(sample.value) : false).toBe(true);
    }
    // Baseline load (200 rps on 6 × 80 rps) is well inside the default policy's SLO.
    const [policy] = fleet.scenario.policies;
    if (!policy?.slo) throw new Error('the default scenario has a policy with an SLO');
    const signal = await new SloEvaluator(client).evaluate(policy.slo);
    expect(signal.state).toBe('recovered');
    expect(signal.values.latencySeconds).toBeCloseTo(0.05 / (1 - 200 / 6 / 80), 3);
  });

  it('speaks the wire format: string values, GET and POST, time, matchers, unknown names', async () => {
    const fleet = await startFleet(defaultScenario());
    const get = await fetch(`${fleet.prometheusUrl}/api/v1/query?query=${encodeURIComponent(queries.errors5m)}`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('application/json');
    const body = (await get.json()) as {
      status: string;
      data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    const value = body.data.result[0]?.value;
    expect(typeof value?.[0]).toBe('number');
    expect(value?.[1]).toBe('0.0005');

    const client = new PrometheusClient({ baseUrl: fleet.prometheusUrl });
    const all = await client.query('service:http_requests:rate5m{service=~"cart.*|search.*"}', { time: new Date() });
    expect(all.resultType === 'vector' && all.result.map((s) => s.metric.service).sort()).toEqual([
      'cart.shop',
      'search.catalog',
    ]);
    const none = await client.query('service:not_recorded:rate5m{service="checkout.shop"}');
    expect(none.resultType === 'vector' && none.result).toEqual([]);
  });

  it('answers a query it cannot parse with bad_data 400, like Prometheus', async () => {
    const fleet = await startFleet(defaultScenario());
    const client = new PrometheusClient({ baseUrl: fleet.prometheusUrl });
    for (const query of ['sum(rate(http_requests_total[5m]))', 'service:x{service="a"', 'up{job=~"("}']) {
      const error = await client.query(query).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PrometheusQueryError);
      expect(error).toMatchObject({ errorType: 'bad_data', status: 400 });
    }
    const response = await fetch(`${fleet.prometheusUrl}/api/v1/query`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });
});
