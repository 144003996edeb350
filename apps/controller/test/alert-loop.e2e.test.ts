import type { RunningAlertmanager } from '@spillway/test/support/alertmanager';
import { startInfraAlerting } from '@spillway/test/support/infra-alerting';
import { type MetricsTarget, startMetricsTarget } from '@spillway/test/support/metrics-target';
import type { RunningPrometheus } from '@spillway/test/support/prometheus';
import { type RunningRedis, startRedis } from '@spillway/test/support/redis';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Json, TOKENS } from './controller-harness.js';
import { type RedisHarness, SERVICE, startRedisHarness, withDeadline } from './support/redis-controller.js';

/**
 * The automatic loop with real parts: a test service's /metrics → the real Prometheus 2.42
 * evaluating infra/prometheus/spillway-slo-rules.yml (scrape and evaluation every 1 s) → its page
 * alert → the real Alertmanager 0.25 with infra/alertmanager/alertmanager.yml (receiver URL,
 * token file and waits patched) → POST /v1/alerts/alertmanager on the controller, authenticated
 * with the webhook credential → the controller, its state, lease, jobs and traffic policies in a
 * real Redis → EKS, Kubernetes and Route 53 fakes over HTTP; a second Redis policy store plays
 * the router.
 *
 * As in packages/signals' real test, the rule windows (5m … 6h) are far longer than the test, so
 * the ratio is errors / requests since the start: a 50% error ratio breaches at once, and a large
 * volume of clean traffic brings the ratio under the line within seconds (as hours would).
 */

let redis: RunningRedis | undefined;
let harness: RedisHarness | undefined;
let target: MetricsTarget | undefined;
let alertmanager: RunningAlertmanager | undefined;
let prometheus: RunningPrometheus | undefined;

beforeAll(async () => {
  redis = await startRedis();
  harness = await startRedisHarness({ redisUrl: redis.url });
  target = await startMetricsTarget({ [SERVICE]: { requestsPerSecond: 100, errorRatio: 0, latencySeconds: 0.07 } });
  ({ alertmanager, prometheus } = await startInfraAlerting({
    webhookUrl: `${harness.url}/v1/alerts/alertmanager`,
    webhookToken: TOKENS.webhook,
    scrapeTarget: target.url,
  }));
});

afterAll(async () => {
  // Senders first, so nothing posts to a controller that is going away; every stop runs.
  const results = [
    ...(await Promise.allSettled([prometheus?.stop(), alertmanager?.stop(), target?.stop()])),
    ...(await Promise.allSettled([harness ? withDeadline(harness.stop(), 30_000) : undefined])),
    ...(await Promise.allSettled([redis?.stop()])),
  ];
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
});

const ALERT_TIMEOUT = 40_000;

/** Every audit entry for the service, oldest first. */
async function auditTrail(url: string): Promise<Json[]> {
  const { body } = await api(url, 'GET', `/v1/audit?service=${SERVICE}&limit=1000`);
  return (body.entries as Json[]).reverse();
}

describe('alert fires → burst → alert resolves → back (real Prometheus, Alertmanager, Redis)', () => {
  it('bursts on the infra page alert, steps traffic up, and after the resolve and cooldown steps it back and releases capacity', async () => {
    try {
      await alertLoop(harness!);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await diagnostics(harness!)}`, { cause: error });
    }
  });
});

/** What a failure report needs: what the routers saw, what was scaled, what the controller decided. */
async function diagnostics(h: RedisHarness): Promise<string> {
  const trail = await auditTrail(h.url).catch((error: Error) => [{ message: `audit unavailable: ${error.message}` }]);
  return [
    `routers saw: ${JSON.stringify(h.shares)}`,
    `UpdateNodegroupConfig: ${JSON.stringify(h.eks.updateRequests('burst', 'spot').map((r) => [r.status, r.body]))}`,
    `scale PUTs: ${JSON.stringify(h.k8s.deploymentRequests('shop', 'checkout', 'PUT').map((r) => r.status))}`,
    'audit:',
    ...trail.map((e: Json) => `  ${e.at} ${e.kind} ${e.actor} ${e.message}`),
  ].join('\n');
}

async function alertLoop(h: RedisHarness): Promise<void> {
  const { url, k8s, eks, route53 } = h;

  // Clean traffic: the rules evaluate, the ratio exists and is 0, nothing bursts.
  await waitFor(
    async () => {
      const response = await fetch(
        `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(`service:http_requests_errors:ratio_rate5m{service="${SERVICE}"}`)}`,
      );
      const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result[0]?.value[1] === '0';
    },
    { timeoutMs: 30_000, intervalMs: 250, message: 'the 5m error ratio recorded at 0 for clean traffic' },
  );
  expect((await api(url, 'GET', '/v1/controller')).body).toMatchObject({ leader: true, degraded: false });
  expect((await api(url, 'GET', '/v1/bursts')).body.bursts).toEqual([]);
  expect(h.shares).toEqual([]);

  // Errors rise: the page alert fires, Alertmanager delivers it, the burst starts.
  const errorsAt = h.elapsedMs();
  target!.set(SERVICE, { errorRatio: 0.5 });
  await waitFor(() => h.routerShare() === 0.1, { timeoutMs: ALERT_TIMEOUT, message: 'the routers at share 0.1' });
  const stepOneAt = h.elapsedMs();
  // Capacity came first: share 0.1 needs ceil(0.1 × 10) = 1 replica on 1 node.
  expect(k8s.deployment('shop', 'checkout').replicas).toBeGreaterThanOrEqual(1);
  expect(eks.nodegroup('burst', 'spot').desiredSize).toBeGreaterThanOrEqual(1);
  await waitFor(() => h.routerShare() === 0.25, { timeoutMs: 20_000, message: 'the routers at share 0.25' });
  const active = await waitFor(
    async () => {
      const { body } = await api(url, 'GET', '/v1/bursts?active=true');
      const burst = body.bursts[0] as Json;
      return burst?.phase === 'holding' ? burst : undefined;
    },
    { timeoutMs: 20_000, message: 'the burst holding at its top step' },
  );
  expect(active).toMatchObject({ service: SERVICE, origin: 'signal', share: 0.25, path: [0.1, 0.25], active: true });
  // 0.25: ceil(2.5) = 3 replicas on ceil(3 / 2) = 2 nodes.
  await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 3, { message: '3 replicas' });
  await waitFor(() => eks.nodegroup('burst', 'spot').desiredSize === 2, { message: '2 nodes' });
  const id = active.id as string;

  // Errors stop: lots of clean traffic brings every window under the line; the alert resolves.
  const cleanAt = h.elapsedMs();
  target!.set(SERVICE, { errorRatio: 0, requestsPerSecond: 500_000 });
  await waitFor(() => h.routerShare() === 0, { timeoutMs: ALERT_TIMEOUT, message: 'the routers back at share 0' });
  const backAt = h.elapsedMs();
  await waitFor(() => k8s.deployment('shop', 'checkout').replicas === 0, { message: 'replicas back to 0' });
  await waitFor(() => eks.nodegroup('burst', 'spot').desiredSize === 0, { message: 'nodes back to 0' });
  const ended = await waitFor(
    async () => {
      const { body } = await api(url, 'GET', `/v1/bursts/${id}`);
      return body.active === false ? body : undefined;
    },
    { message: 'the burst ended' },
  );
  expect(ended).toMatchObject({ id, phase: 'ended', active: false, share: 0 });
  const endedAt = h.elapsedMs();

  // Where traffic went, as the routers saw it: up one step at a time, down one step at a time.
  const shares = h.shares.map((change) => change.share);
  expect(shares).toEqual([0.1, 0.25, 0.1, 0]);

  // What was recorded: the webhook deliveries, the decisions with their reasons, the actions.
  const trail = await auditTrail(url);
  const firing = trail.find((e) => e.kind === 'signal' && e.message === 'alerts firing: SpillwayErrorBudgetBurn');
  const resolved = trail.find((e) => e.kind === 'signal' && e.message === 'alerts resolved');
  expect(firing).toMatchObject({ actor: 'webhook', service: SERVICE });
  expect(resolved).toMatchObject({ actor: 'webhook', service: SERVICE });
  // The ticket alert of the same burn (6h/30m over 6x, severity ticket) matches no policy.
  const everything = (await api(url, 'GET', '/v1/audit?limit=1000')).body.entries as Json[];
  // Unmatched alerts are summarised per post (counted by alertname, no labels kept).
  expect(
    everything.find((e) =>
      /^\d+ alerts? matched no policy: alertname=SpillwayErrorBudgetBurn ×\d+; ignored$/.test(e.message),
    ),
  ).toMatchObject({
    kind: 'signal',
    actor: 'webhook',
    details: { byAlertname: [{ alertname: 'SpillwayErrorBudgetBurn', count: expect.any(Number) }] },
  });
  const decisions = trail.filter((e) => e.kind === 'decision' && e.burstId === id);
  const said = (decision: string, pattern: RegExp) =>
    decisions.find((e) => e.details.decision === decision && pattern.test(e.message));
  expect(said('start', /alert SpillwayErrorBudgetBurn firing; bursting toward share 0\.1/)).toBeDefined();
  expect(said('step', /share 0 → 0\.10?$/)).toBeDefined();
  expect(said('step', /share 0\.10? → 0\.25/)).toBeDefined();
  expect(said('phase', /cooldown over/)).toBeDefined();
  expect(said('step', /share 0\.25 → 0\.10?$/)).toBeDefined();
  expect(said('step', /share 0\.10? → 0$/)).toBeDefined();
  expect(said('end', /ended; capacity at the floor/)).toBeDefined();
  // No flapping: share changes at least minDwellSeconds (2 s) apart, on the controller's clock.
  const stepTimes = decisions.filter((e) => e.details.decision === 'step').map((e) => Date.parse(e.at));
  expect(stepTimes).toHaveLength(4);
  for (let i = 1; i < stepTimes.length; i++) {
    expect(stepTimes[i]! - stepTimes[i - 1]!).toBeGreaterThanOrEqual(2_000);
  }
  // The share came down only after the resolve plus the 3 s cooldown.
  const resolvedAt = Date.parse(resolved.at);
  const firstDown = decisions.find((e) => e.details.decision === 'step' && /share 0\.25 → /.test(e.message));
  expect(Date.parse(firstDown.at) - resolvedAt).toBeGreaterThanOrEqual(3_000);

  // What was scaled: each desired value asked for once, up with the steps and back to the floor.
  const queued = trail.filter((e) => e.kind === 'action' && e.details?.action?.burstId === id);
  const asked = (kind: string, field: string) =>
    queued.filter((e) => e.details.action.kind === kind).map((e) => e.details.action[field] as number);
  expect(asked('scale-deployment', 'replicas')).toEqual([1, 3, 0]);
  expect(asked('scale-nodegroup', 'desiredSize')).toEqual([1, 2, 0]);
  expect(asked('set-traffic-share', 'share')).toEqual([0.1, 0.25, 0.1, 0]);
  const updates = eks.updateRequests('burst', 'spot');
  expect(updates.map((r) => [r.status, (r.body as Json).scalingConfig.desiredSize])).toEqual([
    [200, 1],
    [200, 2],
    [200, 0],
  ]);
  const puts = k8s.deploymentRequests('shop', 'checkout', 'PUT');
  expect(puts.map((r) => r.status)).toEqual([200, 200, 200]);
  expect(route53.acceptedChanges()).toHaveLength(4); // one weight change per share change

  const controller = (await api(url, 'GET', '/v1/controller')).body;
  expect(controller).toMatchObject({ leader: true, degraded: false, store: { name: 'redis', ready: true } });
  console.info(
    `alert loop: errors at ${errorsAt} ms, share 0.1 at ${stepOneAt} ms, clean at ${cleanAt} ms, ` +
      `share 0 at ${backAt} ms, ended at ${endedAt} ms; routers saw ${JSON.stringify(h.shares)}; ` +
      `UpdateNodegroupConfig ${JSON.stringify(updates.map((r) => (r.body as Json).scalingConfig.desiredSize))}, ` +
      `scale PUTs ${puts.length}, Route 53 changes ${route53.acceptedChanges().length}`,
  );
}
