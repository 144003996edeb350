import type { TrafficPolicy } from '@spillway/model';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { RedisTrafficPolicyStore } from '../src/index.js';
import { useRedis } from './redis-fixture.js';

const fixture = useRedis();

function policy(service: string, cloudShare: number): TrafficPolicy {
  return { service, cloudShare, reason: `burst b-${service}`, updatedAt: new Date().toISOString() };
}

/** Two processes' worth of stores: a controller that writes, a router that reads. */
async function controllerAndRouter() {
  const keys = fixture.keys();
  const controller = new RedisTrafficPolicyStore(await fixture.client({ name: 'controller' }), keys);
  const router = new RedisTrafficPolicyStore(await fixture.client({ name: 'router' }), keys);
  fixture.onCleanup(() => controller.stop());
  fixture.onCleanup(() => router.stop());
  await controller.start();
  await router.start();
  return { keys, controller, router };
}

describe('RedisTrafficPolicyStore', () => {
  it('a policy the controller sets reaches the router through pub/sub, and so does a clear', async () => {
    const { controller, router } = await controllerAndRouter();
    const heard: string[] = [];
    router.subscribe((service) => heard.push(service));
    await controller.set(policy('web.shop', 0.3));
    expect(controller.get('web.shop')?.cloudShare).toBe(0.3);
    await waitFor(() => router.get('web.shop')?.cloudShare === 0.3, { message: 'router to see 0.3' });
    await controller.set(policy('web.shop', 0.5));
    await waitFor(() => router.get('web.shop')?.cloudShare === 0.5, { message: 'router to see 0.5' });
    await controller.clear('web.shop');
    await waitFor(() => router.get('web.shop') === undefined, { message: 'router to see the clear' });
    expect(heard).toEqual(['web.shop', 'web.shop', 'web.shop']);
    expect(router.all()).toEqual([]);
  });

  it('a store started later loads what is already there', async () => {
    const { keys, controller } = await controllerAndRouter();
    await controller.set(policy('web.shop', 0.2));
    await controller.set(policy('api.shop', 0.1));
    const late = new RedisTrafficPolicyStore(await fixture.client(), keys);
    fixture.onCleanup(() => late.stop());
    await late.start();
    expect(
      late
        .all()
        .map((p) => p.service)
        .sort(),
    ).toEqual(['api.shop', 'web.shop']);
  });

  it('reloads everything when its subscription reconnects: changes missed meanwhile are not lost', async () => {
    const { keys, router } = await controllerAndRouter();
    const raw = await fixture.client();
    // A write whose message the router never hears (as if published while it was disconnected).
    await raw.hset(keys.policies(), 'web.shop', JSON.stringify(policy('web.shop', 0.4)));
    expect(router.get('web.shop')).toBeUndefined();
    await raw.client('KILL', 'TYPE', 'pubsub');
    await waitFor(() => router.get('web.shop')?.cloudShare === 0.4, { message: 'reload after reconnect' });
  });

  it('ignores a corrupt policy and keeps the last good one', async () => {
    const { keys, controller, router } = await controllerAndRouter();
    await controller.set(policy('web.shop', 0.3));
    await waitFor(() => router.get('web.shop')?.cloudShare === 0.3, { message: 'router to see 0.3' });
    const raw = await fixture.client();
    await raw.hset(keys.policies(), 'web.shop', JSON.stringify({ service: 'web.shop', cloudShare: 7 }));
    await raw.publish(keys.policiesChannel(), 'web.shop');
    await raw.hset(keys.policies(), 'api.shop', JSON.stringify(policy('api.shop', 0.1)));
    await raw.publish(keys.policiesChannel(), 'api.shop');
    // Messages are delivered in order: once api.shop arrived, web.shop's corrupt one was handled.
    await waitFor(() => router.get('api.shop'), { message: 'router to see api.shop' });
    expect(router.get('web.shop')?.cloudShare).toBe(0.3);
  });
});
