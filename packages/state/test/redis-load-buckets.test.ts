import { loadBucketOf, type MeasuredLocalityLoad } from '@spillway/model';
import { describe, expect, it } from 'vitest';
import { type CorruptStateError, FleetMeasuredLoad, LOAD_BUCKET_TTL_SECONDS, RedisLoadBuckets } from '../src/index.js';
import { useRedis } from './redis-fixture.js';

const fixture = useRedis();
const NOW = 1_700_000_002_000;
const NOW_BUCKET = loadBucketOf(NOW);

const onprem = (requests: number, errors = 0): MeasuredLocalityLoad => ({
  region: 'dc1',
  zone: 'a',
  environment: 'onprem',
  requests,
  errors,
});
const cloud = (requests: number): MeasuredLocalityLoad => ({
  region: 'us-east-1',
  zone: 'b',
  environment: 'cloud',
  requests,
  errors: 0,
});

describe('RedisLoadBuckets and FleetMeasuredLoad', () => {
  it('sums every router’s buckets inside the window, and each key expires', async () => {
    const client = await fixture.client();
    const keys = fixture.keys();
    const buckets = new RedisLoadBuckets(client, keys);
    const fleet = new FleetMeasuredLoad(buckets, () => NOW);
    await buckets.publish('router-1', [
      { service: 'cart.shop', bucket: NOW_BUCKET, localities: [onprem(70, 2)] },
      { service: 'cart.shop', bucket: NOW_BUCKET - 3, localities: [onprem(5)] },
      // Older than a 15 s window (whose first bucket counts whole): not counted in it.
      { service: 'cart.shop', bucket: NOW_BUCKET - 4, localities: [onprem(1000)] },
    ]);
    await buckets.publish('router-2', [{ service: 'cart.shop', bucket: NOW_BUCKET - 1, localities: [cloud(25)] }]);
    // A rewrite replaces that router's field: the recent buckets are sent again as they fill.
    await buckets.publish('router-1', [{ service: 'cart.shop', bucket: NOW_BUCKET, localities: [onprem(75, 2)] }]);

    const load = await fleet.measuredLoad('cart.shop', 15);
    expect(load).toEqual({
      service: 'cart.shop',
      windowSeconds: 15,
      localities: [
        { region: 'dc1', zone: 'a', environment: 'onprem', requests: 80, errors: 2 },
        { region: 'us-east-1', zone: 'b', environment: 'cloud', requests: 25, errors: 0 },
      ],
      cloudShare: 25 / 105,
    });
    expect((await fleet.measuredLoad('cart.shop', 600)).localities[0]?.requests).toBe(1080);
    expect(await fleet.measuredLoad('other.shop', 60)).toMatchObject({ localities: [], cloudShare: null });
    const ttl = await client.ttl(keys.loadBucket('cart.shop', NOW_BUCKET));
    expect(ttl).toBeGreaterThan(LOAD_BUCKET_TTL_SECONDS - 10);
    expect(ttl).toBeLessThanOrEqual(LOAD_BUCKET_TTL_SECONDS);
  });

  it('skips a corrupt entry, naming its key and router, and sums the rest', async () => {
    const client = await fixture.client();
    const keys = fixture.keys();
    const corrupt: CorruptStateError[] = [];
    const buckets = new RedisLoadBuckets(client, keys, { onCorrupt: (error) => corrupt.push(error) });
    await buckets.publish('router-1', [{ service: 'cart.shop', bucket: NOW_BUCKET, localities: [onprem(10)] }]);
    await client.hset(keys.loadBucket('cart.shop', NOW_BUCKET), 'router-2', '[{"region":"dc1","requests":-1}]');
    const load = await new FleetMeasuredLoad(buckets, () => NOW).measuredLoad('cart.shop', 5);
    expect(load.localities).toEqual([onprem(10)]);
    expect(corrupt.map((error) => [error.key, error.field])).toEqual([
      [keys.loadBucket('cart.shop', NOW_BUCKET), 'router-2'],
    ]);
  });
});
