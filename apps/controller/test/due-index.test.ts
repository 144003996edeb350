import type { BurstState } from '@spillway/burst';
import type { AlertBook, DueIndex, StateStore } from '@spillway/state';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inMemoryStores } from '../src/index.js';
import { api, type Json, startHarness, TOKENS } from './controller-harness.js';
import { FollowerLease } from './support/follower-lease.js';
import { webhookBody } from './support/webhook-body.js';

/**
 * The periodic tick visits only the services due (docs/burst-controller.md#when-a-service-is-looked-at).
 * Two controllers share one set of in-memory stores, as two processes share Redis: the leader
 * decides, the other only takes webhooks. checkout.shop has a cloud target and an alert trigger;
 * ten more policies are idle and stay so.
 */

const SERVICE = 'checkout.shop';
const IDLE = Array.from({ length: 10 }, (_, i) => `idle-${i}.shop`);

const shared = inMemoryStores();
/** Reconcile visits per service (each reads the state once) and ticks (each takes from the index), on the leader. */
const visits = new Map<string, number>();
let takes = 0;
/** Armed: the leader's next read of SERVICE's alerts lets a webhook in through the other controller first. */
let armed = false;
let phaseWhenMarked: string | undefined;

const countingStates: StateStore<BurstState> = Object.assign(Object.create(shared.states) as StateStore<BurstState>, {
  get: async (service: string) => {
    visits.set(service, (visits.get(service) ?? 0) + 1);
    return await shared.states.get(service);
  },
});
const countingDue: DueIndex = Object.assign(Object.create(shared.due) as DueIndex, {
  takeDue: async (now: number, limit: number) => {
    takes += 1;
    return await shared.due.takeDue(now, limit);
  },
});
/** The alert book as the leader reads it: the answer is read first, then (once) the webhook lands. */
const racingAlerts: AlertBook = {
  record: (service, observations, now) => shared.alerts.record(service, observations, now),
  async firing(service, now) {
    const held = await shared.alerts.firing(service, now);
    if (armed && service === SERVICE) {
      armed = false;
      const response = await api(
        follower!.url,
        'POST',
        '/v1/alerts/alertmanager',
        webhookBody([
          {
            labels: { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE },
            startsAt: new Date(Date.now() - 1_000),
            fingerprint: '0a1b2c3d4e5f6071',
          },
        ]),
        TOKENS.webhook,
      );
      expect(response.status).toBe(200);
      phaseWhenMarked = (await shared.states.get(SERVICE))?.phase ?? 'idle';
    }
    return held;
  },
};

let leader: Awaited<ReturnType<typeof startHarness>> | undefined;
let follower: Awaited<ReturnType<typeof startHarness>> | undefined;

beforeAll(async () => {
  const extraPolicies = IDLE.map((service) => ({
    service,
    steps: [0.1],
    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 },
    triggers: { alerts: [{ alertname: 'SpillwayErrorBudgetBurn', labels: { service } }] },
  }));
  leader = await startHarness(
    {},
    { stores: { ...shared, states: countingStates, due: countingDue, alerts: racingAlerts }, extraPolicies },
  );
  follower = await startHarness(
    {},
    { stores: { ...shared, jobs: inMemoryStores().jobs, lease: new FollowerLease('webhook-node') }, extraPolicies },
  );
  await leader.running.controller.settled();
}, 60_000);

afterAll(async () => {
  await follower?.stop();
  await leader?.stop();
});

describe('the due index', () => {
  it('after the start-up pass (which read no capacity for services at rest), ticks visit no idle service', async () => {
    // The start-up pass (leadership) visited every policy once.
    for (const service of [SERVICE, ...IDLE]) expect(visits.get(service)).toBeGreaterThanOrEqual(1);
    // A decision at rest does not use the cloud's capacity, so none was read for it.
    expect(leader!.eks.describeRequests('burst', 'spot')).toEqual([]);
    expect(leader!.k8s.deploymentRequests('shop', 'checkout', 'GET')).toEqual([]);
    visits.clear();
    const from = takes;
    await waitFor(() => takes >= from + 10, { message: 'ten ticks' });
    await leader!.running.controller.settled();
    expect([...visits.keys()]).toEqual([]);
  });

  it('a webhook taken by another controller while the leader reconciles that service is not lost', async () => {
    armed = true;
    // Due now: the next tick takes the entry, and the visit reads the alerts before the webhook lands.
    await shared.due.schedule(SERVICE, 0);
    await waitFor(() => phaseWhenMarked !== undefined, { message: 'the webhook landing mid-visit' });
    // The visit that took the entry decided from the alerts as they were: nothing fired yet.
    expect(phaseWhenMarked).toBe('idle');
    // The mark the other controller made is still in the index: a later tick starts the burst.
    const burst = await waitFor(
      async () => ((await api(leader!.url, 'GET', '/v1/bursts?active=true')).body.bursts as Json[])[0],
      { timeoutMs: 20_000, message: 'the leader starting the burst' },
    );
    expect(burst).toMatchObject({ service: SERVICE, origin: 'signal' });
    // Once a signal asks for a burst, the capacity is read.
    await waitFor(() => leader!.eks.describeRequests('burst', 'spot').length > 0, { message: 'DescribeNodegroup' });
    // The idle services were still not looked at.
    for (const service of IDLE) expect(visits.get(service)).toBeUndefined();
  });
});
