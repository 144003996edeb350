/**
 * Redis frozen (SIGSTOP), not dead: the sockets stay open and nothing answers.
 *
 * The issue: `POST /v1/bursts` answered 503 after 5 s (`inbox.push: Command timed out`), and the
 * burst started anyway when Redis resumed (the RPUSH had waited in the socket), with no
 * "requested" audit entry; and `/readyz` stayed 200 the whole time. Now a command carries a
 * deadline that Redis itself checks when the push runs (a push that arrives late is refused), and
 * `/readyz` turns 503 when Redis does not answer PING within a short bound.
 *
 * Real parts: redis-server (frozen with SIGSTOP, resumed with SIGCONT), the controller on its
 * Redis stores, its HTTP API with /readyz, the cloud fakes.
 */
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, postBurst } from './controller-harness.js';
import { type RedisHarness, startRedisHarness, withDeadline } from './support/redis-controller.js';

let redis: RunningRedis | undefined;
let harness: RedisHarness | undefined;

beforeAll(async () => {
  redis = await startRedis();
  harness = await startRedisHarness({ redisUrl: redis.url });
});

afterAll(async () => {
  try {
    redis?.resume();
  } catch {
    // not running
  }
  await Promise.allSettled([harness ? withDeadline(harness.stop(), 30_000) : undefined]);
  await redis?.stop();
});

const readyz = async () => (await fetch(`${harness!.url}/readyz`)).status;

describe('Redis frozen with SIGSTOP', () => {
  it('a burst answered 503 never starts, /readyz says 503 while Redis is silent, and a later request works', async () => {
    const h = harness!;
    await waitFor(async () => (await api(h.url, 'GET', '/v1/controller')).body.leader === true, {
      message: 'the controller leading',
    });
    expect(await readyz()).toBe(200);

    redis!.pause();
    const refused = await postBurst(h.url, { share: 0.25, reason: 'sent while Redis is frozen' });
    expect(refused.status).toBe(503);
    // Frozen Redis: nothing closes, only PING goes unanswered.
    await waitFor(async () => (await readyz()) === 503, { message: '/readyz 503 while Redis is frozen' });
    const body = (await (await fetch(`${h.url}/readyz`)).json()) as Json;
    expect(JSON.stringify(body.checks)).toMatch(/PING/);

    redis!.resume();
    await waitFor(async () => (await readyz()) === 200, { message: '/readyz 200 again', timeoutMs: 30_000 });
    await waitFor(
      async () => {
        const controller = (await api(h.url, 'GET', '/v1/controller')).body;
        return controller.leader === true && controller.lastError === null;
      },
      { message: 'the controller leading and reconciling again', timeoutMs: 30_000 },
    );

    // A request after the freeze is accepted and runs; the one answered 503 never does.
    const accepted = await postBurst(h.url, { share: 0.1, reason: 'sent after Redis resumed' });
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await api(h.url, 'GET', `/v1/bursts/${accepted.body.id}`)).body.phase === 'holding', {
      message: 'the accepted burst holding',
      timeoutMs: 60_000,
    });
    const bursts = (await api(h.url, 'GET', '/v1/bursts')).body.bursts as Json[];
    expect(bursts.map((burst) => burst.id)).toEqual([accepted.body.id]);
    const audit = (await api(h.url, 'GET', '/v1/audit?limit=1000')).body.entries as Json[];
    expect(audit.filter((entry) => /share 0\.25/.test(entry.message))).toEqual([]);
  }, 120_000);
});
