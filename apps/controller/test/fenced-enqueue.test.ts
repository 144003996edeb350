import { BullMqJobQueue, FencedEnqueueError } from '@spillway/jobs';
import { createRedisClient, RedisKeys, RedisLease, whenReady } from '@spillway/state';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A leader's job add is fenced like its other writes: BullMQ's add script runs inside MULTI
 * under a WATCH of the lease's fence key, so a former leader's job is never queued.
 */
let redis: RunningRedis | undefined;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await redis?.stop();
});

async function contender(owner: string, keys: RedisKeys): Promise<RedisLease> {
  const client = createRedisClient(redis!.url, { name: owner });
  await whenReady(client);
  const lease = new RedisLease(client, keys, { owner, ttlMs: 1_500 });
  cleanups.push(
    () => client.disconnect(),
    () => lease.stop(),
  );
  return lease;
}

describe('fenced job adds (BullMQ on real Redis)', () => {
  it("queues the current leader's job and refuses a former leader's", async () => {
    const keys = new RedisKeys('fenced-enqueue');
    const jobs = new BullMqJobQueue({ url: redis!.url }, { prefix: 'fenced-enqueue' });
    cleanups.push(() => jobs.close(true));
    const a = await contender('a', keys);
    await a.start();
    const old = await waitFor(() => a.fence(), { message: 'a to lead' });
    const job = (key: string) => ({ key, kind: 'scale-nodegroup', service: 's', burstId: 'b', payload: {} });
    expect(await jobs.enqueue(job('b/1/scale-nodegroup'), old)).toEqual({ enqueued: true });

    await a.stop();
    const b = await contender('b', keys);
    await b.start();
    const current = await waitFor(() => b.fence(), { message: 'b to lead' });
    await expect(jobs.enqueue(job('b/2/scale-nodegroup'), old)).rejects.toBeInstanceOf(FencedEnqueueError);
    expect((await jobs.status('b/2/scale-nodegroup')).state).toBe('unknown');
    expect(await jobs.enqueue(job('b/3/scale-nodegroup'), current)).toEqual({ enqueued: true });
    expect((await jobs.status('b/3/scale-nodegroup')).state).toBe('waiting');
    // Unfenced adds (embedded callers, tests) are not checked.
    expect(await jobs.enqueue(job('b/4/scale-nodegroup'))).toEqual({ enqueued: true });
  });
});
