import { RedisKeys } from '@spillway/state';
import { waitFor } from '@spillway/test/support/wait';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postBurst } from './controller-harness.js';
import { type ControllerPair, startControllerPair } from './support/controller-pair.js';
import type { RedisHarness } from './support/redis-controller.js';

/**
 * Per-service series are the leader's: a controller that loses the lease mid-burst while it
 * keeps running (and keeps being scraped) must not go on showing the phase, share and cost it
 * last set, or a dashboard (and the "stuck scaling out" alert) reads a former leader's view.
 */
let pair: ControllerPair | undefined;
let first: RedisHarness | undefined;
let second: RedisHarness | undefined;

beforeAll(async () => {
  pair = await startControllerPair({
    policy: { cost: { nodeHourly: 3_600, currency: 'EUR', dailyResetTimeZone: 'UTC' } },
  });
  ({ first, second } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

async function metricsText(h: RedisHarness): Promise<string> {
  return (await fetch(`${h.url}/metrics`)).text();
}

/** The exposed series labelled with a service, e.g. `spillway_burst_phase{service="checkout.shop",phase="idle"}`. */
function serviceSeries(text: string): string[] {
  return text.split('\n').filter((line) => /^\w+\{[^}]*\bservice="/.test(line));
}

describe('per-service metrics across a leader change (real Redis, two controllers)', () => {
  it('the former leader drops its per-service series; the new leader shows its own', async () => {
    const started = await postBurst(first!.url, { share: 0.1, reason: 'failover metrics test' });
    expect(started.status).toBe(202);
    await waitFor(
      async () => {
        const text = await metricsText(first!);
        return /^spillway_burst_cost_total\{[^}]*service="checkout\.shop"[^}]*\} [1-9]/m.test(text) &&
          /^spillway_burst_committed_share\{service="checkout\.shop"\} 0\.1$/m.test(text)
          ? text
          : undefined;
      },
      { timeoutMs: 30_000, message: 'the first controller showing the burst at 0.1 and its cost' },
    );
    expect(serviceSeries(await metricsText(second!))).toEqual([]);

    // The lease goes to the second controller while the first keeps running: its next renewal
    // finds another owner (as after a pause longer than the lease), the second's next round keeps it.
    const redis = new Redis(pair!.redisUrl);
    try {
      await redis.set(new RedisKeys().lease('controller'), second!.running.controller.owner, 'PX', 3_000);
    } finally {
      redis.disconnect();
    }
    await waitFor(() => !first!.running.controller.isLeader() && second!.running.controller.isLeader(), {
      timeoutMs: 30_000,
      message: 'the second controller leading, the first not',
    });
    // A pass the first had under way when it lost the lease has ended too.
    await first!.running.controller.settled();
    const former = await metricsText(first!);
    expect(serviceSeries(former)).toEqual([]);
    expect(former).toMatch(/^spillway_controller_leader 0$/m);

    const current = await waitFor(
      async () => {
        const text = await metricsText(second!);
        return /^spillway_burst_committed_share\{service="checkout\.shop"\} 0\.1$/m.test(text) ? text : undefined;
      },
      { timeoutMs: 30_000, message: 'the new leader showing the burst' },
    );
    expect(current).toMatch(
      /^spillway_burst_phase\{service="checkout\.shop",phase="(scaling-out|shifting|holding)"\} 1$/m,
    );
    expect(current).toMatch(/^spillway_controller_leader 1$/m);
    expect(serviceSeries(await metricsText(first!))).toEqual([]);
  }, 90_000);
});
