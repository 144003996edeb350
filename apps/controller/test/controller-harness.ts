import { buildConfig } from '@spillway/config';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import type { PrometheusServer } from '@spillway/simulator';
import type { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { CLOUD_FAKES_CAPACITY, startCloudFakes } from '@spillway/test/support/burst-world';
import { XdsServer } from '@spillway/xds';
import { afterEach } from 'vitest';
import { type ControllerStores, type RunningController, startController } from '../src/index.js';
import { checkoutCatalog, fakeCloudAdapters, serveControllerApi, TOKENS } from './support/controller-world.js';

export { TOKENS };

/** One service, checkout.shop, with on-prem endpoints and a cloud target in the fakes. */
export async function startHarness(
  policyOverrides: Record<string, unknown> = {},
  options: {
    stores?: ControllerStores;
    /** The HTTP body limit; production's is 1 MiB. */
    bodyLimit?: number;
    /** More policies, for services without cloud targets (e.g. two services of one alert group). */
    extraPolicies?: Record<string, unknown>[];
    /** Leave checkout.shop's policy out of the file (it comes from a BurstPolicy resource). */
    noFilePolicy?: boolean;
    /** More top-level config fields, given the Kubernetes fake (e.g. customResources). */
    config?: (k8s: FakeKubernetesApi) => Record<string, unknown>;
    /** Serve xDS and LRS (1 s reports) from the harness's catalog and shares; the controller reads the load. */
    loadReports?: boolean;
    /** A Prometheus (or the simulator's Prometheus-shaped server) for SLOs and forecasts. */
    prometheusUrl?: string;
    /** The refused-request audit's clock, to move its minute by hand. */
    denialClock?: () => number;
  } = {},
) {
  const cloudFakes = await startCloudFakes({ kubernetesToken: 'k8s-token', readyStep: 1, nodegroupUpdates: 2 });
  const { k8s, eks, route53 } = cloudFakes;
  const dnsTarget = cloudFakes.policyCloud.route53;
  const checkoutPolicy = {
    service: 'checkout.shop',
    steps: [0.1, 0.3],
    maxShare: 0.5,
    stepIntervalSeconds: 1,
    minDwellSeconds: 1,
    cooldownSeconds: 1,
    capacity: CLOUD_FAKES_CAPACITY,
    cloud: cloudFakes.policyCloud,
    triggers: { alerts: [{ alertname: 'SpillwayErrorBudgetBurn', labels: { service: 'checkout.shop' } }] },
    ...policyOverrides,
  };
  const config = buildConfig({
    clusters: [{ name: 'eks-use1', kind: 'static', environment: 'cloud', region: 'us-west-2' }],
    policies: [...(options.noFilePolicy ? [] : [checkoutPolicy]), ...(options.extraPolicies ?? [])],
    ...options.config?.(k8s),
  });

  const { catalog, cloud } = await checkoutCatalog();

  const traffic = new InMemoryTrafficPolicyStore();
  const adapters = fakeCloudAdapters(cloudFakes);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const xds = options.loadReports
    ? new XdsServer({
        catalog,
        policies: traffic,
        logger: silentLogger(),
        registry,
        loadReporting: { intervalSeconds: 1 },
      })
    : undefined;
  const xdsPort = xds ? await xds.listen('127.0.0.1:0') : 0;
  const measuredLoad = xds && {
    measuredLoad: async (service: string, windowSeconds: number) => xds.measuredLoad(service, windowSeconds)!,
  };
  const running: RunningController = await startController({
    config,
    catalog,
    traffic,
    logger: silentLogger(),
    registry,
    adapters,
    tickMs: 50,
    capacityTtlMs: 0,
    ...(options.stores ? { stores: options.stores } : {}),
    ...(measuredLoad ? { measuredLoad } : {}),
    ...(options.prometheusUrl ? { prometheusUrl: options.prometheusUrl } : {}),
    ...(options.denialClock ? { denialAudit: { now: options.denialClock } } : {}),
  });

  const { url, app } = await serveControllerApi(running, registry, {
    onDenied: running.onDenied,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });

  return {
    url,
    /** checkout.shop's policy as written in the file (a BurstPolicy's spec, when noFilePolicy). */
    checkoutPolicy,
    k8s,
    eks,
    route53,
    dnsTarget,
    traffic,
    cloud,
    running,
    registry,
    xdsPort,
    measuredLoad,
    async stop() {
      await app.close();
      await running.stop();
      await xds?.stop();
      catalog.close();
      adapters.nodegroups.close();
      adapters.dns.close();
      await cloudFakes.close();
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are inspected field by field by the assertions
export type Json = any;

/** `POST /v1/bursts` as the operator, for checkout.shop unless `service` says otherwise: the answer. */
export function postBurst(
  url: string,
  body: { service?: string; share: number; reason: string; steps?: readonly number[] },
) {
  return api(url, 'POST', '/v1/bursts', { service: 'checkout.shop', ...body }, TOKENS.operator);
}

export async function api(url: string, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : null) as Json,
  };
}

/**
 * The harness and the Prometheus-shaped server a test starts, both stopped after each test: set
 * `prometheus` and `harness` on the returned object as they start.
 */
export function stoppedAfterEach(): {
  harness?: Awaited<ReturnType<typeof startHarness>>;
  prometheus?: PrometheusServer;
} {
  const running: { harness?: Awaited<ReturnType<typeof startHarness>>; prometheus?: PrometheusServer } = {};
  afterEach(async () => {
    await running.harness?.stop();
    await running.prometheus?.stop();
    delete running.harness;
    delete running.prometheus;
  });
  return running;
}
