import { BurstTimeline } from '@spillway/api';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type Json, postBurst, startHarness, TOKENS } from './controller-harness.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const share = () => harness!.traffic.get('checkout.shop')?.cloudShare ?? 0;

describe('manual burst through the API (embedded mode, cloud fakes)', () => {
  it('scales the cloud, shifts traffic to the share, then on abort rolls traffic back before capacity', async () => {
    harness = await startHarness();
    const { url, k8s, eks, route53 } = harness;

    const started = await postBurst(url, { share: 0.3, reason: 'game day: checkout surge' });
    expect(started.status).toBe(202);
    const id = started.body.id as string;

    await waitFor(() => share() === 0.3, { message: 'share 0.3 applied', timeoutMs: 30_000 });
    // Capacity for 0.3: ceil(0.3 × 10) = 3 replicas on ceil(3 / 2) = 2 nodes, each asked for once.
    expect(k8s.deployment('shop', 'checkout').replicas).toBe(3);
    expect(k8s.deploymentRequests('shop', 'checkout').filter((r) => r.method === 'PUT')).toHaveLength(1);
    expect(eks.nodegroup('burst', 'spot')).toMatchObject({ desiredSize: 2 });
    expect(eks.updateRequests('burst', 'spot')).toHaveLength(1);
    await waitFor(() => route53.acceptedChanges().length === 1, { message: 'DNS weights set' });
    const weights = route53.record(
      harness.dnsTarget.hostedZoneId,
      'example.com.',
      'A',
      harness.dnsTarget.cloudSetIdentifier,
    );
    expect(weights?.Weight).toBe(77); // round(0.3 × 255)

    const shown = await waitFor(async () => {
      const burst = await api(url, 'GET', `/v1/bursts/${id}`);
      return burst.body.phase === 'holding' ? burst : undefined;
    });
    expect(shown.body).toMatchObject({ id, service: 'checkout.shop', active: true, share: 0.3, actor: 'operator' });
    expect(shown.body.history.map((entry: { kind: string }) => entry.kind)).toContain('decision');
    // Capacity asked for against capacity ready, and the share the router holds (the console shows them).
    expect(shown.body).toMatchObject({
      appliedShare: 0.3,
      capacity: { share: 0.3, replicas: { requested: 3, ready: 3 }, nodes: { requested: 2 } },
    });
    // The phase and share history, from the audited decisions: it steps up to 0.3 and holds.
    const timeline = BurstTimeline.parse((await api(url, 'GET', `/v1/bursts/${id}/timeline`)).body);
    expect(timeline.points.at(-1)).toMatchObject({ phase: 'holding', share: 0.3 });
    expect(timeline.points.map((point) => point.share)).toEqual(
      [...timeline.points.map((point) => point.share)].sort((a, b) => a - b),
    );
    expect(timeline.phases.map((span) => span.phase)).toEqual(expect.arrayContaining(['scaling-out', 'holding']));
    expect(timeline.phases.at(-1)?.until).toBeNull();

    const aborted = await api(url, 'POST', `/v1/bursts/${id}/abort`, { reason: 'enough' }, TOKENS.operator);
    expect(aborted.status).toBe(202);
    await waitFor(() => share() === 0, { message: 'traffic back on-prem' });
    await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, { message: 'replicas released' });
    const ended = await waitFor(async () => {
      const burst = await api(url, 'GET', `/v1/bursts/${id}`);
      return burst.body.active === false ? burst : undefined;
    });
    expect(ended.body.abort).toMatchObject({ reason: 'enough', actor: 'operator' });

    // Traffic went back first, capacity after: the order the actions were queued in.
    const audit = (await api(url, 'GET', `/v1/audit?burstId=${id}&limit=500`)).body.entries.reverse();
    const queued = audit
      .filter((entry: Json) => entry.kind === 'action' && entry.details?.action)
      .map((entry: Json) => entry.details.action);
    const trafficBack = queued.findIndex((a: Json) => a.kind === 'set-traffic-share' && a.share === 0);
    const capacityBack = queued.findIndex((a: Json) => a.kind === 'scale-deployment' && a.replicas === 0);
    expect(trafficBack).toBeGreaterThanOrEqual(0);
    expect(capacityBack).toBeGreaterThan(trafficBack);
  });

  it('answers bad requests with a clear 4xx and changes nothing', async () => {
    harness = await startHarness();
    const { url } = harness;
    const good = { service: 'checkout.shop', share: 0.3, reason: 'test' };
    expect((await api(url, 'POST', '/v1/bursts', good)).status).toBe(401);
    expect((await api(url, 'POST', '/v1/bursts', good, TOKENS.viewer)).status).toBe(403);
    expect((await api(url, 'POST', '/v1/bursts', good, TOKENS.webhook)).status).toBe(403);

    const wrongType = await api(url, 'POST', '/v1/bursts', { ...good, share: '0.3' }, TOKENS.operator);
    expect(wrongType.status).toBe(400);
    expect(wrongType.type).toContain('application/problem+json');
    expect(wrongType.body.detail).toContain('share');
    expect((await api(url, 'POST', '/v1/bursts', { ...good, share: 1.5 }, TOKENS.operator)).status).toBe(400);
    expect((await api(url, 'POST', '/v1/bursts', { ...good, surprise: 1 }, TOKENS.operator)).status).toBe(400);
    expect((await api(url, 'POST', '/v1/bursts', '{"service": ', TOKENS.operator)).status).toBe(400);
    const unknown = await api(url, 'POST', '/v1/bursts', { ...good, service: 'nope.shop' }, TOKENS.operator);
    expect(unknown).toMatchObject({ status: 422 });
    expect(unknown.body.detail).toBe('no burst policy for nope.shop; add one under policies: in the config');
    expect((await api(url, 'POST', '/v1/bursts', { ...good, share: 0.8 }, TOKENS.operator)).status).toBe(422);
    const huge = await api(url, 'POST', '/v1/bursts', { ...good, reason: 'x'.repeat(200_000) }, TOKENS.operator);
    expect(huge.status).toBe(413);
    expect((await api(url, 'GET', '/v1/bursts/does-not-exist')).status).toBe(404);
    expect((await api(url, 'POST', '/v1/bursts/does-not-exist/abort', {}, TOKENS.operator)).status).toBe(404);
    expect((await api(url, 'GET', '/v1/audit?limit=lots')).status).toBe(400);

    // Nothing was recorded (but the refusals themselves), queued or shifted.
    expect((await api(url, 'GET', '/v1/bursts')).body.bursts).toEqual([]);
    expect((await api(url, 'GET', '/v1/audit?class=operator,decision,signal')).body.entries).toEqual([]);
    const denials = (await api(url, 'GET', '/v1/audit?class=denial')).body.entries as Json[];
    expect(denials.map((entry) => [entry.actor, entry.details.status]).reverse()).toEqual([
      ['anonymous', 401],
      ['viewer', 403],
      ['webhook', 403],
    ]);
    expect(share()).toBe(0);
  });
});
