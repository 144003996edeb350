import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, TOKENS } from './controller-harness.js';
import { type ControllerPair, startControllerPair } from './support/controller-pair.js';
import { type RedisHarness, SERVICE } from './support/redis-controller.js';
import { webhookBody } from './support/webhook-body.js';

/**
 * Two controllers on one real Redis and one set of cloud fakes: the alert book lives in Redis, so
 * a webhook taken by the controller that does not lead drives the leader, and the controller that
 * leads next knows which alerts fire. The policy (redis-controller.ts): steps 0.1 → 0.25,
 * minDwell 2 s, cooldown 3 s; 0.25 needs 3 replicas on 2 nodes.
 */

let pair: ControllerPair | undefined;
let first: RedisHarness | undefined;
let second: RedisHarness | undefined;

beforeAll(async () => {
  pair = await startControllerPair();
  ({ first, second } = pair);
}, 60_000);

afterAll(async () => {
  await pair?.stop();
});

const alert = { alertname: 'SpillwayErrorBudgetBurn', service: SERVICE, severity: 'page' };
const startsAt = new Date(Date.now() - 60_000);

async function postWebhook(url: string, body: unknown): Promise<void> {
  const response = await api(url, 'POST', '/v1/alerts/alertmanager', body, TOKENS.webhook);
  expect(response.status).toBe(200);
}

/** Every cloud write so far: UpdateNodegroupConfig calls, Deployment scale PUTs, Route 53 changes. */
function cloudWrites(h: RedisHarness) {
  return {
    nodegroupUpdates: h.eks.updateRequests('burst', 'spot').length,
    deploymentPuts: h.k8s.deploymentRequests('shop', 'checkout', 'PUT').length,
    route53Changes: h.route53.acceptedChanges().length,
  };
}

async function activeBurst(url: string): Promise<Json | undefined> {
  return ((await api(url, 'GET', '/v1/bursts?active=true')).body.bursts as Json[])[0];
}

describe('the alert book in Redis, shared by two controllers', () => {
  it('a webhook to the controller that does not lead starts the burst on the leader', async () => {
    expect(second!.running.controller.isLeader()).toBe(false);
    await postWebhook(second!.url, webhookBody([{ labels: alert, startsAt, fingerprint: 'a1b2c3d4e5f60718' }]));
    const holding = await waitFor(
      async () => {
        const burst = await activeBurst(first!.url);
        return burst?.phase === 'holding' ? burst : undefined;
      },
      { timeoutMs: 30_000, message: 'the leader holding an alert-driven burst' },
    );
    expect(holding).toMatchObject({ service: SERVICE, origin: 'signal', share: 0.25 });
    await waitFor(() => first!.routerShare() === 0.25, { message: 'the routers at 0.25' });
    // The decision was the leader's, from the alert the other controller took.
    const trail = (await api(first!.url, 'GET', `/v1/audit?burstId=${holding.id}&limit=100`)).body.entries as Json[];
    expect(trail.find((e: Json) => e.details?.decision === 'start')).toMatchObject({
      actor: first!.running.controller.owner,
      message: expect.stringMatching(/alert SpillwayErrorBudgetBurn firing/),
    });
  }, 60_000);

  it('the next leader keeps holding the burst: no drain, no cloud write', async () => {
    await waitFor(() => first!.k8s.deployment('shop', 'checkout').replicas === 3, { message: '3 replicas' });
    await waitFor(() => first!.eks.nodegroup('burst', 'spot').desiredSize === 2, { message: '2 nodes' });
    await waitFor(() => first!.route53.acceptedChanges().length === 2, { message: 'Route 53 at 0.25' });
    const id = (await activeBurst(first!.url))?.id as string;
    const before = cloudWrites(first!);
    const sharesBefore = second!.shares.length;

    await first!.stop();
    await waitFor(() => second!.running.controller.isLeader(), { timeoutMs: 30_000, message: 'the second leading' });
    // Long enough for the old behaviour to show: cooldown (3 s) of quiet, then a step down after
    // minDwell (2 s). The leader reconciles every 100 ms meanwhile.
    const tookOver = Date.now();
    await waitFor(() => Date.now() - tookOver > 7_000, { timeoutMs: 10_000, message: 'cooldown and dwell passed' });
    await second!.running.controller.settled();

    const burst = (await api(second!.url, 'GET', `/v1/bursts/${id}`)).body;
    expect(burst).toMatchObject({ id, phase: 'holding', share: 0.25, active: true });
    expect(second!.routerShare()).toBe(0.25);
    expect(cloudWrites(second!)).toEqual(before);
    // The routers saw no change of share since the first controller stopped.
    expect(second!.shares.slice(sharesBefore)).toEqual([]);

    // The resolve, again to whichever controller takes it, ends the burst as usual.
    const endsAt = new Date();
    await postWebhook(
      second!.url,
      webhookBody([{ labels: alert, startsAt, endsAt, status: 'resolved', fingerprint: 'a1b2c3d4e5f60718' }]),
    );
    await waitFor(() => second!.routerShare() === 0, { timeoutMs: 30_000, message: 'share back to 0' });
  }, 90_000);
});
