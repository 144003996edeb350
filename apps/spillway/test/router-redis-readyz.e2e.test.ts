/**
 * `spillway router` reading its traffic policies from Redis: `/readyz` covers Redis. The issue
 * found the router's /readyz had no Redis check at all, and the controller's stayed 200 while
 * Redis was frozen (SIGSTOP: no connection event, only silence). Now both answer 503 once Redis
 * does not answer PING within a short bound, and 200 again when it does.
 *
 * Real parts: redis-server frozen with SIGSTOP; `spillway federation` and `spillway router` as
 * child processes.
 */
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

const running: CliProcess[] = [];
let redis: RunningRedis | undefined;
afterEach(async () => {
  redis?.resume();
  for (const cli of running.splice(0)) await cli.stop();
  await redis?.stop();
});

describe('spillway router with policies in Redis', () => {
  it('/readyz is 503 while Redis does not answer, 200 again when it does', async () => {
    redis = await startRedis();
    const federation = new CliProcess(['federation', '--listen', '127.0.0.1:0']);
    running.push(federation);
    const api = await federation.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const router = new CliProcess(['router', '--federation', api, '--xds', '127.0.0.1:0', '--listen', '127.0.0.1:0'], {
      SPILLWAY_REDIS_URL: redis.url,
    });
    running.push(router);
    const routerApi = await router.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const readyz = async () => {
      const response = await fetch(`${routerApi}/readyz`);
      return { status: response.status, body: (await response.json()) as { checks: { name: string }[] } };
    };
    await waitFor(async () => (await readyz()).status === 200, { message: 'router ready', timeoutMs: 30_000 });
    expect((await readyz()).body.checks.map((check) => check.name)).toContain('redis');

    redis.pause();
    const frozen = await waitFor(
      async () => {
        const answer = await readyz();
        return answer.status === 503 ? answer : undefined;
      },
      { message: 'router /readyz 503 while Redis is frozen' },
    );
    expect(JSON.stringify(frozen.body.checks)).toMatch(/redis.*PING/);

    redis.resume();
    await waitFor(async () => (await readyz()).status === 200, { message: 'router ready again', timeoutMs: 30_000 });
  }, 90_000);
});
