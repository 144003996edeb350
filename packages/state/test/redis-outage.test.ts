import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createRedisClient,
  RedisAuditLog,
  RedisHealth,
  RedisKeys,
  RedisStateStore,
  StateUnavailableError,
  whenReady,
} from '../src/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ redis: RunningRedis; health: RedisHealth; store: RedisStateStore<{ n: number }> }> {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const health = new RedisHealth();
  const client = createRedisClient(redis.url, { name: 'controller', health });
  cleanups.push(() => client.disconnect());
  await whenReady(client);
  const store = new RedisStateStore(client, new RedisKeys('t'), z.object({ n: z.number() }));
  return { redis, health, store };
}

/** Resolves with how the promise settled, or 'pending' if it has not within `ms` (a hang). */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'pending'> {
  const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms).unref());
  return await Promise.race([promise.catch((error: Error) => error), timeout]);
}

describe('Redis outage', () => {
  it('health goes down with the error and back up; reads and writes fail fast meanwhile', async () => {
    const { redis, health, store } = await setup();
    const changes: string[] = [];
    health.onChange((snapshot) => changes.push(snapshot.state));
    expect(health.snapshot()).toMatchObject({ state: 'up', connections: { controller: 'up' } });
    expect(health.check()).toEqual({ ready: true });
    await store.put('web.shop', { n: 1 });

    await redis.kill();
    await waitFor(() => health.state === 'down', { message: 'health down' });
    expect(health.check().ready).toBe(false);
    expect(health.check().detail).toMatch(/redis down since .*controller/);
    const read = await settleWithin(store.get('web.shop'), 2_000);
    expect(read).toBeInstanceOf(StateUnavailableError);
    expect(String(read)).toMatch(/state store unavailable during state\.get/);
    expect(await settleWithin(store.put('web.shop', { n: 2 }), 2_000)).toBeInstanceOf(StateUnavailableError);

    await redis.restart();
    await waitFor(() => health.state === 'up', { message: 'health up again' });
    expect(changes).toEqual(['down', 'up']);
    await store.put('web.shop', { n: 3 });
    expect(await store.get('web.shop')).toEqual({ n: 3 });
    expect(health.lastError).toMatch(/controller: /);
  });

  it('an audit append whose connection drops mid-flight rejects rather than being re-sent later', async () => {
    const { redis } = await setup();
    const client = createRedisClient(redis.url);
    cleanups.push(() => client.disconnect());
    await whenReady(client);
    const log = new RedisAuditLog(client, new RedisKeys('t'));
    // CLIENT PAUSE holds writes in the server, so the append is in flight when the server dies.
    const pauser = createRedisClient(redis.url);
    cleanups.push(() => pauser.disconnect());
    await whenReady(pauser);
    await pauser.client('PAUSE', 5_000, 'WRITE');
    // Handle the outcome at once: the append may reject while the kill is still being awaited.
    const append = log
      .append({ at: new Date().toISOString(), actor: 'c', kind: 'decision', message: 'm' })
      .catch((error: Error) => error);
    await redis.kill();
    expect(await settleWithin(append, 2_000)).toBeInstanceOf(StateUnavailableError);
  });
});
