import { buildConfig } from '@spillway/config';
import { silentLogger } from '@spillway/observability';
import { RedisKeys } from '@spillway/state';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisControllerStores, redisStores } from '../src/index.js';

/**
 * The config's `controller:` reaches Redis: the lease key lives `leaseSeconds`, and a running
 * action job's BullMQ lock `jobLockSeconds` (the defaults, 10 s and 30 s, would show here).
 */
let redis: RunningRedis | undefined;
let stores: RedisControllerStores | undefined;
let client: Redis | undefined;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
}, 60_000);

afterAll(async () => {
  await stores?.lease.stop();
  await stores?.close?.();
  client?.disconnect();
  await redis?.stop();
});

describe('controller: settings on a real Redis', () => {
  it('the lease and a running job’s lock last as long as the config says', async () => {
    const config = buildConfig({
      redis: redis!.url,
      controller: { leaseSeconds: 4, renewSeconds: 1, jobLockSeconds: 7 },
    });
    stores = await redisStores(redis!.url, { logger: silentLogger(), controller: config.controller });
    await stores.lease.start();
    // A Redis younger than the lease makes the first holder wait that long (lease-scripts.ts).
    await waitFor(() => stores!.lease.isLeader(), { timeoutMs: 30_000, message: 'the lease taken' });
    const leaseTtl = await client!.pttl(new RedisKeys().lease('controller'));
    expect(leaseTtl).toBeGreaterThan(0);
    expect(leaseTtl).toBeLessThanOrEqual(4_000);

    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    stores.jobs.process({
      probe: async () => {
        await held;
        return null;
      },
    });
    await stores.jobs.enqueue({ key: 'b1/1/probe', kind: 'probe', service: 'echo.demo', burstId: 'b1', payload: null });
    const lock = await waitFor(async () => (await client!.keys('spillway:spillway-probe:*:lock'))[0], {
      message: 'the job running under its lock',
    });
    const lockTtl = await client!.pttl(lock);
    release();
    expect(lockTtl).toBeGreaterThan(0);
    expect(lockTtl).toBeLessThanOrEqual(7_000);
  }, 60_000);
});
