import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisHarness, startRedisHarness } from './support/redis-controller.js';

/**
 * A controller that starts and takes the lease reconciles every policy once, not once for
 * starting and again for leading. The periodic tick is an hour away, so every pass counted by
 * spillway_controller_reconcile_duration_seconds is one the start-up asked for. Redis has been
 * up for a lease ttl first, as in production: a younger Redis makes the lease wait (see
 * lease-scripts.ts), and the controller would take it only after starting.
 */
let redis: RunningRedis | undefined;
let h: RedisHarness | undefined;

beforeAll(async () => {
  redis = await startRedis();
  const client = new Redis(redis.url);
  try {
    await waitFor(async () => /uptime_in_seconds:([3-9]|\d\d+)\r?\n/.test(await client.info('server')), {
      message: 'Redis up for the 3 s lease ttl',
    });
  } finally {
    client.disconnect();
  }
  h = await startRedisHarness({ redisUrl: redis.url, tickMs: 3_600_000 });
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await redis?.stop();
});

/** How many reconcile passes this controller's /metrics has counted. */
async function passes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = /^spillway_controller_reconcile_duration_seconds_count(?:\{[^}]*\})? (\d+)$/m.exec(text);
  return Number(count?.[1] ?? 0);
}

describe('a controller starting as the leader', () => {
  it('runs one reconcile pass over its policies', async () => {
    await waitFor(() => h!.running.controller.isLeader(), { message: 'the controller leading' });
    await waitFor(async () => (await passes(h!.url)) > 0, { message: 'a reconcile pass counted' });
    await h!.running.controller.settled();
    expect(await passes(h!.url)).toBe(1);
    // The pass looked at the policy: its service shows its phase.
    expect(await (await fetch(`${h!.url}/metrics`)).text()).toMatch(
      /^spillway_burst_phase\{service="checkout\.shop",phase="idle"\} 1$/m,
    );
  }, 60_000);
});
