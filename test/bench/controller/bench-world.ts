/**
 * The world the controller benchmark runs in: N services, each with its own burst policy,
 * Deployment (fake Kubernetes API) and managed nodegroup (fake EKS API), all with cloud
 * endpoints ready and healthy in the catalog, and the burst controller with its HTTP routes
 * started in this process, in-memory or on Redis.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { CatalogStore } from '@spillway/catalog';
import { EksNodegroupScaler, KubernetesDeploymentScaler } from '@spillway/cloud';
import { buildConfig, type SpillwayConfig } from '@spillway/config';
import {
  type ControllerStores,
  inMemoryStores,
  type RunningController,
  redisStores,
  redisTrafficPolicies,
  startController,
} from '@spillway/controller';
import type { BurstPolicy, TrafficPolicyReader, TrafficPolicyWriter } from '@spillway/model';
import {
  createMetricsRegistry,
  enforceHttpLimits,
  httpServerOptions,
  installProblemHandlers,
  registerOperationalRoutes,
  silentLogger,
} from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { FakeEksApi } from '@spillway/test/fakes/eks-api';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { ManualSource } from '@spillway/test/support/manual-source';
import Fastify, { type FastifyInstance } from 'fastify';

export const WEBHOOK_TOKEN = 'bench-webhook-token';
export const ALERT_NAME = 'SLOBurnRateHigh';
const K8S_TOKEN = 'bench-k8s-token';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** The first (and only) step of every policy: capacity 2 replicas on 1 node. */
export const STEP = 0.2;

export const serviceName = (i: number) => `svc-${i}`;
export const serviceKey = (i: number) => `${serviceName(i)}.bench`;

/** One policy per service; a single step and long intervals, so a burst holds and makes no background work. */
export function benchConfig(services: number): SpillwayConfig {
  const policies = Array.from({ length: services }, (_, i) => ({
    service: serviceKey(i),
    steps: [STEP],
    maxShare: 0.5,
    stepIntervalSeconds: 3600,
    minDwellSeconds: 1,
    cooldownSeconds: 3600,
    capacity: { replicasAtFullShare: 10, podsPerNode: 2, maxReplicas: 10, maxNodes: 3 },
    cloud: {
      eks: { region: 'us-west-2', cluster: 'bench', nodegroup: `ng-${i}` },
      deployment: { cluster: 'eks-bench', namespace: 'bench', name: serviceName(i) },
    },
    triggers: { alerts: [{ alertname: ALERT_NAME, labels: { service: serviceName(i) } }] },
  }));
  return buildConfig({
    clusters: [{ name: 'eks-bench', kind: 'static', environment: 'cloud', region: 'us-west-2' }],
    policies,
  });
}

type Notification = {
  alerts: { labels: Record<string, string>; startsAt: string; fingerprint: string }[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  groupKey: string;
};
const CAPTURED = fixtureJson<Notification>('alertmanager-0.25-webhook.firing.captured.json');

/** The captured Alertmanager 0.25 firing notification (version 4), relabelled for service `i`. */
export function webhookBody(i: number): string {
  const body = structuredClone(CAPTURED);
  const labels = { ...body.commonLabels, service: serviceName(i), namespace: 'bench' };
  const alert = body.alerts[0];
  if (!alert) throw new Error('the captured notification has no alert');
  alert.labels = { ...alert.labels, ...labels };
  alert.startsAt = new Date().toISOString();
  alert.fingerprint = (0x1ba2b94c9000dcf3n + BigInt(i)).toString(16);
  body.commonLabels = labels;
  body.groupLabels = { alertname: ALERT_NAME, service: serviceName(i) };
  body.groupKey = `{}:{alertname="${ALERT_NAME}", service="${serviceName(i)}"}`;
  return JSON.stringify(body);
}

/**
 * Calls `onRecord` with the time each request record is added to a fake's call log, which the
 * fakes do as the request arrives (Kubernetes: on its headers; EKS: once its body is read).
 */
export function stampCallLog<T>(log: T[], onRecord: (record: T, at: bigint) => void): void {
  const push = Array.prototype.push;
  Object.defineProperty(log, 'push', {
    configurable: true,
    writable: true,
    value(this: T[], ...items: T[]): number {
      const at = process.hrtime.bigint();
      for (const item of items) onRecord(item, at);
      return push.apply(this, items);
    },
  });
}

export interface BenchWorld {
  readonly url: string;
  readonly config: SpillwayConfig;
  readonly policies: readonly BurstPolicy[];
  readonly k8s: FakeKubernetesApi;
  readonly eks: FakeEksApi;
  /** The router's side of the traffic policies: what a router process would see. */
  readonly router: TrafficPolicyReader;
  readonly running: RunningController;
  readonly app: FastifyInstance;
  /** hrtime of the last webhook request's arrival (Fastify's first hook). */
  lastArrival(): bigint | undefined;
  stop(): Promise<void>;
}

export async function startBenchWorld(options: { services: number; redisUrl?: string }): Promise<BenchWorld> {
  const { services } = options;
  const config = benchConfig(services);
  const k8s = await FakeKubernetesApi.start({ token: K8S_TOKEN });
  const eks = await FakeEksApi.start();
  for (let i = 0; i < services; i++) {
    // Pods are ready as soon as they are read after a scale; a nodegroup update settles on the
    // first describe after it: the cloud is instant, so the figures are the controller's.
    k8s.upsertDeployment({ namespace: 'bench', name: serviceName(i), replicas: 0, readyStep: 1000 });
    eks.setNodegroup({ cluster: 'bench', name: `ng-${i}`, minSize: 0, maxSize: 3, desiredSize: 0, updateDescribes: 0 });
  }

  const catalog = new CatalogStore({ staleAfterMs: 600_000 });
  const dc1 = new ManualSource('dc1', 'onprem', 'dc1');
  const cloud = new ManualSource('eks-bench', 'cloud', 'us-west-2');
  await dc1.start(catalog.attach(dc1));
  await cloud.start(catalog.attach(cloud));
  const onprem: Record<string, ReturnType<ManualSource['endpoint']>[]> = {};
  const inCloud: Record<string, ReturnType<ManualSource['endpoint']>[]> = {};
  for (let i = 0; i < services; i++) {
    const b = (i >> 8) & 255;
    const c = i & 255;
    onprem[serviceKey(i)] = [dc1.endpoint(`10.${b}.${c}.1`), dc1.endpoint(`10.${b}.${c}.2`)];
    inCloud[serviceKey(i)] = [cloud.endpoint(`10.100.${c}.1`), cloud.endpoint(`10.100.${c}.2`)];
  }
  dc1.report(onprem);
  cloud.report(inCloud);

  const logger = silentLogger();
  let stores: ControllerStores;
  let traffic: TrafficPolicyReader & TrafficPolicyWriter;
  let router: TrafficPolicyReader;
  let closeRouter: () => Promise<void> = async () => {};
  if (options.redisUrl) {
    const redis = await redisStores(options.redisUrl, { logger });
    stores = redis;
    traffic = redis.traffic;
    // A router process's view: its own Redis client, kept in sync over pub/sub.
    const routerSide = await redisTrafficPolicies(options.redisUrl, logger);
    router = routerSide.policies;
    closeRouter = () => routerSide.close();
  } else {
    stores = inMemoryStores();
    const memory = new InMemoryTrafficPolicyStore();
    traffic = memory;
    router = memory;
  }

  // The cloud's own waits (the describe-until-ACTIVE poll) at 5 ms instead of the waiter's 30 s.
  const pacing = { intervalMs: 5, timeoutMs: 60_000 };
  const adapters = {
    nodegroups: new EksNodegroupScaler({ client: { endpoint: eks.url, credentials }, pacing }),
    deployments: new KubernetesDeploymentScaler(() => kubeConfig(k8s.url)),
  };
  const registry = createMetricsRegistry({ defaultMetrics: false });
  // tickMs and capacityTtlMs are the controller's defaults: the path is event-driven.
  const running = await startController({ config, catalog, traffic, stores, logger, registry, adapters });

  let arrival: bigint | undefined;
  const app = enforceHttpLimits(Fastify(httpServerOptions()));
  app.addHook('onRequest', async (request) => {
    if (request.url === '/v1/alerts/alertmanager') arrival = process.hrtime.bigint();
  });
  installProblemHandlers(app);
  registerAuth(app, {
    openReads: true,
    authenticator: new TokenAuthenticator([
      { name: 'alertmanager', role: 'webhook', sha256: sha256Hex(WEBHOOK_TOKEN) },
    ]),
  });
  registerOperationalRoutes(app, { registry });
  running.routes(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });

  return {
    url,
    config,
    policies: config.policies,
    k8s,
    eks,
    router,
    running,
    app,
    lastArrival: () => arrival,
    async stop() {
      await app.close();
      await running.stop();
      await closeRouter();
      catalog.close();
      adapters.nodegroups.close();
      await Promise.all([k8s.close(), eks.close()]);
    },
  };
}

/** A server with the same body limit whose webhook route does nothing: the HTTP floor. */
export async function startNoopServer(): Promise<{ url: string; close(): Promise<void> }> {
  const app = enforceHttpLimits(Fastify(httpServerOptions()));
  app.post('/v1/alerts/alertmanager', async () => ({}));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    close: () => app.close(),
  };
}

function kubeConfig(server: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'eks-bench', server, skipTLSVerify: true }],
    users: [{ name: 'spillway', token: K8S_TOKEN }],
    contexts: [{ name: 'eks-bench', cluster: 'eks-bench', user: 'spillway' }],
    currentContext: 'eks-bench',
  });
  return config;
}
