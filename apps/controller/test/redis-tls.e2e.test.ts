import { readFileSync } from 'node:fs';
import { silentLogger } from '@spillway/observability';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStores } from '../src/index.js';
import { postBurst } from './controller-harness.js';
import { startRedisHarness, withDeadline } from './support/redis-controller.js';

/**
 * Distributed mode on a Redis that serves TLS only and requires a password, as a managed Redis
 * does: the controller's state, lease, BullMQ jobs and the routers' policy pub/sub all work over
 * `rediss://`; a client that does not trust the server's CA, or has the wrong password, fails at
 * start with the reason, not with a bare timeout.
 */
const PASSWORD = 'redis-test-password-5f3a';
let pki: TestPki;
let redis: RunningRedis;

beforeAll(async () => {
  pki = createTestPki();
  redis = await startRedis({ tls: { ...pki.server('redis'), caFile: pki.ca.certFile }, password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
  pki?.remove();
});

describe('Redis over TLS with a password', () => {
  it('runs a burst: state, lease, jobs and the routers’ policies over rediss://', async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const harness = await startRedisHarness({
      redisUrl: redis.url,
      redisAccess: { ca: readFileSync(pki.ca.certFile), password: PASSWORD },
    });
    try {
      const started = await postBurst(harness.url, { share: 0.25, reason: 'rediss check' });
      expect(started.status).toBe(202);
      await waitFor(() => harness.routerShare() === 0.25, { timeoutMs: 30_000, message: 'routers at 0.25' });
      // The scaling jobs ran through BullMQ on the same TLS Redis.
      expect(harness.k8s.deployment('shop', 'checkout').replicas).toBeGreaterThan(0);
      expect(harness.stores.health.state).toBe('up');
    } finally {
      await withDeadline(harness.stop(), 30_000);
    }
  });

  it('fails clearly at start with a CA that did not sign the server certificate', async () => {
    const start = redisStores(redis.url, {
      logger: silentLogger(),
      access: { ca: readFileSync(pki.otherCa.certFile), password: PASSWORD },
      startTimeoutMs: 3_000,
    });
    await expect(start).rejects.toThrow(/state store unavailable during connect: .*last error: .*certificate/);
  });

  it('fails clearly at start with a wrong password, and never says the password', async () => {
    const wrong = 'not-the-password';
    const start = redisStores(redis.url, {
      logger: silentLogger(),
      access: { ca: readFileSync(pki.ca.certFile), password: wrong },
      startTimeoutMs: 3_000,
    });
    const error = await start.then(
      () => undefined,
      (failure: Error) => failure,
    );
    expect(error?.message).toMatch(/WRONGPASS|invalid password|invalid username-password/i);
    expect(error?.message).not.toContain(wrong);
  });
});
