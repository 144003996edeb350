import type { BurstState } from '@spillway/burst';
import { type FencingToken, RedisKeys } from '@spillway/state';
import { waitFor } from '@spillway/test/support/wait';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisControllerStores } from '../src/index.js';
import { api, postBurst, TOKENS } from './controller-harness.js';
import { type ControllerPair, startControllerPair } from './support/controller-pair.js';
import { SERVICE } from './support/redis-controller.js';

/**
 * Split brain for the length of a pass: a leader paused mid-pass (here: held just before it
 * stores its decision, as a GC pause or a stalled connection would hold it) wakes up after its
 * lease went to another controller. Its writes must be refused, and what the new leader decided
 * (here: an operator's abort, drained to idle) must stand in the store and in the cloud.
 */
let pair: ControllerPair | undefined;

/** The first controller's first decision to leave idle, held until `resume()`. */
const held = {
  armed: true,
  reached: false,
  state: undefined as BurstState | undefined,
  resume: () => {},
  /** How the held write ended: 'written' or the error's name. */
  outcome: undefined as Promise<string> | undefined,
};

/** The first controller's states store, with its first non-idle write of SERVICE held back. */
function holdFirstDecision(stores: RedisControllerStores): RedisControllerStores {
  const states = Object.create(stores.states) as RedisControllerStores['states'];
  states.put = (service: string, state: BurstState, fence?: FencingToken) => {
    if (!held.armed || service !== SERVICE || state.phase === 'idle') return stores.states.put(service, state, fence);
    held.armed = false;
    held.state = state;
    const gate = new Promise<void>((resolve) => {
      held.resume = resolve;
    });
    held.reached = true;
    const write = gate.then(() => stores.states.put(service, state, fence));
    held.outcome = write.then(
      () => 'written',
      (error: Error) => error.name,
    );
    return write;
  };
  return { ...stores, states };
}

beforeAll(async () => {
  pair = await startControllerPair({ first: { wrapStores: holdFirstDecision } });
}, 60_000);

afterAll(async () => {
  held.resume();
  await pair?.stop();
});

async function storedState(redisUrl: string): Promise<BurstState | undefined> {
  const redis = new Redis(redisUrl);
  try {
    const raw = await redis.hget(new RedisKeys().state('controller'), SERVICE);
    return raw === null ? undefined : (JSON.parse(raw) as BurstState);
  } finally {
    redis.disconnect();
  }
}

describe('a leader paused mid-pass after its lease moved on (real Redis, two controllers)', () => {
  it("has its writes refused; the new leader's decisions stand in the store and in the cloud", async () => {
    const { first, second, cloud, redisUrl } = pair!;
    const started = await postBurst(first.url, { share: 0.1, reason: 'fencing test' });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    // The first decided to start the burst; its pass is paused before it stores that.
    await waitFor(() => held.reached, { timeoutMs: 30_000, message: 'the first controller deciding the burst' });
    expect(held.state?.burst?.id).toBe(id);

    // The lease goes to the second while the first is paused (as after a pause past the ttl).
    const redis = new Redis(redisUrl);
    try {
      await redis.set(new RedisKeys().lease('controller'), second.running.controller.owner, 'PX', 3_000);
    } finally {
      redis.disconnect();
    }
    await waitFor(() => !first.running.controller.isLeader() && second.running.controller.isLeader(), {
      timeoutMs: 30_000,
      message: 'the second controller leading, the first not',
    });

    // The new leader starts the operator's burst itself, then the operator aborts it: drained to idle.
    await waitFor(async () => (await storedState(redisUrl))?.burst?.id === id, {
      timeoutMs: 30_000,
      message: 'the second controller starting the burst',
    });
    const aborted = await api(second.url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'enough' }, TOKENS.operator);
    expect(aborted.status).toBe(202);
    const decided = await waitFor(
      async () => {
        const state = await storedState(redisUrl);
        return state?.phase === 'idle' && state.burst === null && second.routerShare() === 0 ? state : undefined;
      },
      { timeoutMs: 60_000, message: 'the aborted burst drained to idle by the new leader' },
    );
    // What the new leader has asked of the cloud so far; the old leader must add nothing to it.
    await second.running.controller.settled();
    const nodes = cloud.eks.nodegroup('burst', 'spot').desiredSize;
    const scaledBefore = cloud.eks.updateRequests('burst', 'spot').length;

    // The old leader wakes up and goes on with its pass.
    held.resume();
    expect(await held.outcome).toBe('FencedWriteError');
    await first.running.controller.settled();
    // One more pass of the new leader over what is stored now.
    second.running.controller.kick(SERVICE);
    await second.running.controller.settled();

    const after = await storedState(redisUrl);
    expect(after?.phase).toBe('idle');
    expect(after?.burst).toBeNull();
    expect(after?.seq).toBe(decided.seq);
    expect(cloud.eks.nodegroup('burst', 'spot').desiredSize).toBe(nodes);
    expect(cloud.eks.updateRequests('burst', 'spot')).toHaveLength(scaledBefore);
    expect(second.routerShare()).toBe(0);
    const metrics = await (await fetch(`${first.url}/metrics`)).text();
    expect(metrics).toMatch(/^spillway_controller_fenced_writes_total\{operation="state\.put"\} 1$/m);
  }, 120_000);
});
