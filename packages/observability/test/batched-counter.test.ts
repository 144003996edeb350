import { describe, expect, it } from 'vitest';
import { BatchedCounter, Counter, createMetricsRegistry, metricOnce } from '../src/index.js';

function responsesCounter(registry = createMetricsRegistry({ defaultMetrics: false })) {
  const counter = metricOnce(registry, Counter, {
    name: 'test_responses_total',
    help: 'responses',
    labelNames: ['protocol', 'type'],
  });
  return { registry, counter };
}

describe('BatchedCounter', () => {
  it('shows in /metrics exactly what inc would have, per label set, each time the registry is read', async () => {
    const { registry, counter } = responsesCounter();
    const batched = new BatchedCounter(counter);
    const sotw = batched.cell({ protocol: 'sotw', type: 'Cluster' });
    const delta = batched.cell({ protocol: 'delta', type: 'Cluster' });
    for (let n = 0; n < 5; n++) sotw.inc();
    delta.inc();
    const first = await registry.metrics();
    expect(first).toContain('test_responses_total{protocol="sotw",type="Cluster"} 5');
    expect(first).toContain('test_responses_total{protocol="delta",type="Cluster"} 1');
    sotw.inc();
    // The same label set asked for again is the same cell.
    batched.cell({ protocol: 'sotw', type: 'Cluster' }).inc();
    const second = await registry.metrics();
    expect(second).toContain('test_responses_total{protocol="sotw",type="Cluster"} 7');
    expect(second).toContain('test_responses_total{protocol="delta",type="Cluster"} 1');
  });

  it('lets a restarted component count on the same series, and a closed one stops after its last counts', async () => {
    const { registry, counter } = responsesCounter();
    const before = new BatchedCounter(counter);
    before.cell({ protocol: 'sotw', type: 'Listener' }).inc();
    before.close();
    const after = new BatchedCounter(metricOnce(registry, Counter, { name: 'test_responses_total', help: 'x' }));
    const cell = after.cell({ protocol: 'sotw', type: 'Listener' });
    cell.inc();
    cell.inc();
    expect(await registry.metrics()).toContain('test_responses_total{protocol="sotw",type="Listener"} 3');
    const values = await counter.get();
    expect(values.values).toEqual([{ labels: { protocol: 'sotw', type: 'Listener' }, value: 3 }]);
  });
});
