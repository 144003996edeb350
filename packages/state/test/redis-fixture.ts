import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedisClient, RedisKeys, type StateRedisOptions, whenReady } from '../src/index.js';

/**
 * One real Redis per test file; each test gets its own key prefix, so tests cannot see each
 * other's keys, and every client a test opened is closed after it.
 */
export function useRedis(): {
  redis: () => RunningRedis;
  client: (options?: StateRedisOptions) => Promise<Redis>;
  keys: () => RedisKeys;
  onCleanup: (cleanup: () => Promise<void> | void) => void;
} {
  let server: RunningRedis | undefined;
  let prefix = '';
  let counter = 0;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    prefix = '';
  });

  const redis = () => {
    if (!server) throw new Error('redis not started');
    return server;
  };
  return {
    redis,
    client: async (options = {}) => {
      const client = createRedisClient(redis().url, options);
      cleanups.push(() => client.disconnect());
      await whenReady(client);
      return client;
    },
    keys: () => {
      if (prefix === '') prefix = `t${++counter}-${process.pid}`;
      return new RedisKeys(prefix);
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
  };
}
