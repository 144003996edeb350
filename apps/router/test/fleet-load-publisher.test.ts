import { type LoadBucket, loadBucketOf } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { LoadReportStore, measuredLoad } from '@spillway/xds';
import { InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { describe, expect, it } from 'vitest';
import { FleetLoadPublisher } from '../src/index.js';

const T0 = 1_700_000_000_000;

/** A publisher over a real load report store, its clock in the test's hands, its sink a list. */
function world() {
  const store = new LoadReportStore({ bucketSeconds: 5, retentionSeconds: 600 });
  const catalog = new InMemoryCatalog();
  const sent: LoadBucket[][] = [];
  let now = T0;
  const publisher = new FleetLoadPublisher({
    sink: { publish: async (_router, buckets) => void sent.push([...buckets]) },
    routerId: 'router-1',
    measured: (service, windowSeconds, at) =>
      measuredLoad(service, windowSeconds, store.window(service, windowSeconds, at), catalog.current()),
    services: () => ['cart.shop', 'idle.shop'],
    reportIntervalSeconds: 10,
    intervalMs: 60_000,
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    now: () => now,
  });
  const report = (requests: number) =>
    store.record(
      'lrs-1',
      'cart.shop',
      [{ region: 'dc1', zone: 'a', subZone: '', successful: requests, errors: 0, inProgress: 0, issued: requests }],
      now,
    );
  return { publisher, sent, report, advance: (ms: number) => (now += ms) };
}

describe('FleetLoadPublisher', () => {
  it('sends the recent buckets of services with load, once more with empty ones when it is gone, then nothing', async () => {
    const { publisher, sent, report, advance } = world();
    report(40);
    await publisher.tick();
    // The current bucket and three before it (a 10 s report interval and one more); idle.shop has no load.
    expect(sent).toHaveLength(1);
    expect(sent[0]?.map((b) => [b.service, b.bucket])).toEqual(
      [0, 1, 2, 3].map((k) => ['cart.shop', loadBucketOf(T0) - k]),
    );
    expect(sent[0]?.[0]?.localities).toMatchObject([{ region: 'dc1', zone: 'a', requests: 40 }]);

    advance(20_000); // past the recent buckets: the 40 requests are final where they were sent
    await publisher.tick();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.every((b) => b.localities.length === 0)).toBe(true);
    await publisher.tick();
    expect(sent).toHaveLength(2);

    report(7);
    await publisher.stop(); // a last publication on the way out
    expect(sent[2]?.[0]).toMatchObject({ bucket: loadBucketOf(T0 + 20_000), localities: [{ requests: 7 }] });
  });
});
