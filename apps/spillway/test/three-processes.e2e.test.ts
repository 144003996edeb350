/**
 * The alert-to-burst loop of apps/controller/test/alert-loop.e2e.test.ts, with the three services
 * as separate `spillway` processes sharing a real Redis:
 *
 *   a test service's /metrics → the real Prometheus evaluating infra/prometheus/spillway-slo-rules.yml
 *   → its page alert → the real Alertmanager with infra/alertmanager/alertmanager.yml
 *   → POST /v1/alerts/alertmanager on the `spillway controller` process (webhook token)
 *   → the controller scales the cloud fakes (EKS nodegroup, Deployment, Route 53 over HTTP, through
 *     the real AWS SDK and @kubernetes/client-node in the child) and writes the traffic policy to Redis
 *   → the `spillway router` process reads it over Redis pub/sub and pushes a new
 *     ClusterLoadAssignment to an ADS client in this test (an on-prem client in dc1/dc1-a);
 *   `spillway federation` serves the catalog both follow.
 *
 * What the test checks is what each service does for the others: the burst is visible at the cloud
 * fakes (capacity first) and in the router's EDS (cloud localities at priority 0 with
 * share × 10000 of the weight), step by step, and after the alert resolves the EDS loses its cloud
 * weight and the capacity is released.
 */
import type { RunningAlertmanager } from '@spillway/test/support/alertmanager';
import { type BurstWorld, startBurstWorld } from '@spillway/test/support/burst-world';
import { startInfraAlerting } from '@spillway/test/support/infra-alerting';
import { type MetricsTarget, startMetricsTarget } from '@spillway/test/support/metrics-target';
import type { RunningPrometheus } from '@spillway/test/support/prometheus';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClaLocality, type ClaSnapshot, ClaWatch } from './support/cla-watch.js';
import {
  CLOUD_REGION,
  K8S_TOKEN,
  SERVICE,
  spawnCli,
  THREE_PROCESS_FILES,
  TOKENS,
} from './support/three-process-world.js';

// biome-ignore lint/suspicious/noExplicitAny: API answers are inspected field by field by the assertions
type Json = any;

let world: BurstWorld | undefined;
let target: MetricsTarget | undefined;
let alertmanager: RunningAlertmanager | undefined;
let prometheus: RunningPrometheus | undefined;
let watch: ClaWatch | undefined;
let controllerUrl = '';
let routerUrl = '';
let xdsPort = 0;

beforeAll(async () => {
  world = await startBurstWorld({
    spawn: spawnCli,
    // Every replica asked for is ready at the next read (the pods come up at once), and an
    // accepted update is ACTIVE at the next DescribeNodegroup (the scaler's 30 s waiter never waits).
    cloud: { kubernetesToken: K8S_TOKEN, readyStep: 10, nodegroupUpdates: 0 },
    files: THREE_PROCESS_FILES,
  });
  target = await startMetricsTarget({ [SERVICE]: { requestsPerSecond: 100, errorRatio: 0, latencySeconds: 0.07 } });

  const { url: federationUrl } = await world.startFederation();
  // Controller and router start together: both follow the federation, both use Redis.
  let router: { url: string; xdsPort: number };
  [{ url: controllerUrl }, router] = await Promise.all([
    world.startController(federationUrl),
    world.startRouter(federationUrl),
  ]);
  ({ url: routerUrl, xdsPort } = router);

  ({ alertmanager, prometheus } = await startInfraAlerting({
    webhookUrl: `${controllerUrl}/v1/alerts/alertmanager`,
    webhookToken: TOKENS.webhook,
    scrapeTarget: target.url,
  }));
}, 120_000);

afterAll(async () => {
  // Senders first, so nothing posts to a controller that is going away; every stop runs.
  const results = [
    ...(await Promise.allSettled([prometheus?.stop(), alertmanager?.stop(), target?.stop(), watch?.close()])),
    ...(await Promise.allSettled([world?.stop()])),
  ];
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}, 60_000);

const eks = () => world!.cloud.eks;
const k8s = () => world!.cloud.k8s;
const dns = () => world!.cloud.dns;

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Every audit entry for the service, oldest first. */
async function auditTrail(): Promise<Json[]> {
  return ((await getJson(`${controllerUrl}/v1/audit?service=${SERVICE}&limit=1000`)).entries as Json[]).reverse();
}

const nodegroupUpdates = () => eks().updateRequests('burst', 'spot');
const scalePuts = () => k8s().deploymentRequests('shop', 'checkout', 'PUT');
const cloudDnsWeight = () =>
  world!.cloud.route53.record(dns().hostedZoneId, dns().recordName, 'A', dns().cloudSetIdentifier)?.Weight;

/** Localities as `priority region/zone weight [endpoints]`, sorted, for whole-layout assertions. */
function layout(snapshot: ClaSnapshot | undefined): string[] {
  return (snapshot?.localities ?? [])
    .map((l: ClaLocality) => `${l.priority} ${l.region}/${l.zone} ${l.weight} [${l.endpoints.join(', ')}]`)
    .sort();
}

/** The router's layout for dc1/dc1-a without a burst: cloud only as the last failover ring. */
const NO_BURST = [
  '0 dc1/dc1-a 1 [10.0.0.1:8080 HEALTHY]',
  '1 dc1/dc1-b 1 [10.0.0.2:8080 HEALTHY]',
  `2 ${CLOUD_REGION}/${CLOUD_REGION}a 1 [10.1.0.1:8080 HEALTHY]`,
  `2 ${CLOUD_REGION}/${CLOUD_REGION}b 1 [10.1.0.2:8080 HEALTHY]`,
];

/** During a burst at share s: priority 0 holds the nearest on-prem zone and the healthy cloud, 10000 split. */
function burstLayout(share: number): string[] {
  const cloud = Math.round(share * 10_000);
  return [
    `0 dc1/dc1-a ${10_000 - cloud} [10.0.0.1:8080 HEALTHY]`,
    `0 ${CLOUD_REGION}/${CLOUD_REGION}a ${cloud / 2} [10.1.0.1:8080 HEALTHY]`,
    `0 ${CLOUD_REGION}/${CLOUD_REGION}b ${cloud / 2} [10.1.0.2:8080 HEALTHY]`,
    '1 dc1/dc1-b 1 [10.0.0.2:8080 HEALTHY]',
  ].sort();
}

/** What a failure report needs: what each process said, what the router sent, what was scaled and decided. */
async function diagnostics(): Promise<string> {
  const trail = await auditTrail().catch((error: Error) => [{ message: `audit unavailable: ${error.message}` }]);
  return [
    `router EDS shares: ${JSON.stringify(watch?.received.map((s) => [s.atMs, s.cloudShare]))}`,
    `UpdateNodegroupConfig: ${JSON.stringify(nodegroupUpdates().map((r) => [r.status, r.body]))}`,
    `scale PUTs: ${JSON.stringify(scalePuts().map((r) => r.status))}`,
    world?.outputs() ?? '',
    'audit:',
    ...trail.map((e: Json) => `  ${e.at} ${e.kind} ${e.actor} ${e.message}`),
  ].join('\n');
}

describe('federation, controller and router as three processes on one Redis (real Prometheus, Alertmanager)', () => {
  it('an alert bursts checkout.shop: the cloud fakes scale and the router process serves the cloud share; after the resolve both step back', async () => {
    try {
      await alertLoop();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await diagnostics()}`, { cause: error });
    }
  }, 180_000);
});

async function alertLoop(): Promise<void> {
  // Both services are up: the router has the federation's catalog, the controller holds the lease.
  await waitFor(async () => (await fetch(`${routerUrl}/readyz`)).status === 200, {
    timeoutMs: 30_000,
    message: 'the router ready (following the federation)',
  });
  await waitFor(async () => (await getJson(`${controllerUrl}/v1/controller`)).leader === true, {
    timeoutMs: 30_000,
    message: 'the controller leading',
  });

  // An on-prem xDS client in dc1/dc1-a: without a burst, cloud is only its last failover ring.
  watch = new ClaWatch(
    xdsPort,
    SERVICE,
    { id: `three-processes-${process.pid}`, locality: { region: 'dc1', zone: 'dc1-a' } },
    new Set([CLOUD_REGION]),
  );
  await waitFor(() => watch!.latest, { timeoutMs: 20_000, message: "the router's first ClusterLoadAssignment" });
  expect(layout(watch.latest)).toEqual(NO_BURST);

  // Clean traffic: the rules evaluate, the ratio exists and is 0, nothing bursts.
  await waitFor(
    async () => {
      const body = await getJson(
        `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(`service:http_requests_errors:ratio_rate5m{service="${SERVICE}"}`)}`,
      );
      return body.data.result[0]?.value[1] === '0';
    },
    { timeoutMs: 30_000, intervalMs: 250, message: 'the 5m error ratio recorded at 0 for clean traffic' },
  );
  expect((await getJson(`${controllerUrl}/v1/bursts`)).bursts).toEqual([]);
  expect(watch.shares()).toEqual([0]);
  expect(nodegroupUpdates()).toEqual([]);
  expect(scalePuts()).toEqual([]);

  // Errors rise: the page alert fires, Alertmanager delivers it to the controller process, the
  // burst scales the cloud, and the router process pushes the first step to the client.
  target!.set(SERVICE, { errorRatio: 0.5 });
  const first = await waitFor(() => watch!.received.find((s) => s.cloudShare === 0.1), {
    timeoutMs: 60_000,
    message: "the router's EDS at cloud share 0.1",
  });
  // Capacity came first: share 0.1 needs ceil(0.1 × 10) = 1 replica on 1 node.
  expect(k8s().deployment('shop', 'checkout').replicas).toBeGreaterThanOrEqual(1);
  expect(eks().nodegroup('burst', 'spot').desiredSize).toBeGreaterThanOrEqual(1);
  expect(layout(first)).toEqual(burstLayout(0.1));
  expect(first.cloudWeight).toBe(1_000);

  const second = await waitFor(() => watch!.received.find((s) => s.cloudShare === 0.25), {
    timeoutMs: 30_000,
    message: "the router's EDS at cloud share 0.25",
  });
  expect(layout(second)).toEqual(burstLayout(0.25));
  expect(second.cloudWeight).toBe(2_500);
  const active = await waitFor(
    async () => {
      const burst = (await getJson(`${controllerUrl}/v1/bursts?active=true`)).bursts[0] as Json;
      return burst?.phase === 'holding' ? burst : undefined;
    },
    { timeoutMs: 30_000, message: 'the burst holding at its top step' },
  );
  expect(active).toMatchObject({ service: SERVICE, origin: 'signal', share: 0.25, path: [0.1, 0.25], active: true });
  // 0.25: ceil(2.5) = 3 replicas on ceil(3 / 2) = 2 nodes.
  expect(k8s().deployment('shop', 'checkout')).toMatchObject({ replicas: 3, readyReplicas: 3 });
  expect(eks().nodegroup('burst', 'spot')).toMatchObject({ desiredSize: 2, status: 'ACTIVE' });
  // Route 53 follows the share: cloud weight round(0.25 × 255) = 64.
  await waitFor(() => cloudDnsWeight() === 64, { timeoutMs: 30_000, message: 'the cloud DNS weight at 64' });
  const id = active.id as string;

  // Errors stop: lots of clean traffic brings every window under the line; the alert resolves,
  // and after the cooldown the router's EDS steps back to no cloud weight.
  target!.set(SERVICE, { errorRatio: 0, requestsPerSecond: 500_000 });
  const back = await waitFor(() => watch!.received.find((s) => s.atMs > second.atMs && s.cloudShare === 0), {
    timeoutMs: 60_000,
    message: "the router's EDS back at cloud share 0",
  });
  expect(layout(back)).toEqual(NO_BURST);
  // Capacity released once share 0 is applied: the Deployment and the nodegroup at the floor.
  await waitFor(() => k8s().deployment('shop', 'checkout').replicas === 0, {
    timeoutMs: 30_000,
    message: 'replicas back to 0',
  });
  await waitFor(() => eks().nodegroup('burst', 'spot').desiredSize === 0, {
    timeoutMs: 30_000,
    message: 'nodes back to 0',
  });
  const ended = await waitFor(
    async () => {
      const burst = await getJson(`${controllerUrl}/v1/bursts/${id}`);
      return burst.active === false ? burst : undefined;
    },
    { timeoutMs: 30_000, message: 'the burst ended' },
  );
  expect(ended).toMatchObject({ id, phase: 'ended', active: false, share: 0 });

  // Where the client's traffic went, as the router process served it: up a step at a time, down
  // a step at a time (share changes are ≥ minDwellSeconds = 2 s apart, each one pushed).
  expect(watch.shares()).toEqual([0, 0.1, 0.25, 0.1, 0]);

  // The controller heard firing and resolved from Alertmanager, authenticated as the config's
  // webhook token (its name, `alertmanager`, is the actor).
  const trail = await auditTrail();
  const signal = (message: string) => trail.find((e) => e.kind === 'signal' && e.message === message);
  expect(signal('alerts firing: SpillwayErrorBudgetBurn')).toMatchObject({ actor: 'alertmanager', service: SERVICE });
  expect(signal('alerts resolved')).toMatchObject({ actor: 'alertmanager', service: SERVICE });
  expect(
    trail.find(
      (e) =>
        e.kind === 'decision' &&
        e.burstId === id &&
        e.details.decision === 'start' &&
        /alert SpillwayErrorBudgetBurn firing; bursting toward share 0\.1/.test(e.message),
    ),
  ).toBeDefined();

  // What the cloud fakes were asked, through the real SDK clients in the controller process.
  expect(nodegroupUpdates().map((r) => [r.status, (r.body as Json).scalingConfig.desiredSize])).toEqual([
    [200, 1],
    [200, 2],
    [200, 0],
  ]);
  expect(scalePuts().map((r) => r.status)).toEqual([200, 200, 200]);
  // And DNS back: the cloud weighted set at 0.
  await waitFor(() => cloudDnsWeight() === 0, { timeoutMs: 30_000, message: 'the cloud DNS weight back at 0' });

  console.info(
    `three processes: router EDS shares ${JSON.stringify(watch.received.map((s) => [s.atMs, s.cloudShare]))}; ` +
      `UpdateNodegroupConfig ${JSON.stringify(nodegroupUpdates().map((r) => (r.body as Json).scalingConfig.desiredSize))}, ` +
      `scale PUTs ${scalePuts().length}, Route 53 changes ${world!.cloud.route53.acceptedChanges().length}`,
  );
}
