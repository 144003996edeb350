import { KubeConfig } from '@kubernetes/client-node';
import type { Denial } from '@spillway/auth';
import type { BurstState } from '@spillway/burst';
import { type DnsWeights, EksNodegroupScaler, KubernetesDeploymentScaler, Route53DnsWeights } from '@spillway/cloud';
import type { ClusterConfig, RetentionSettings, SpillwayConfig } from '@spillway/config';
import { InProcessJobQueue, type JobQueue } from '@spillway/jobs';
import type { CatalogReader, MeasuredLoadReader, TrafficPolicyReader, TrafficPolicyWriter } from '@spillway/model';
import type { Logger, ReadinessCheck, Registry } from '@spillway/observability';
import {
  AlertmanagerApiClient,
  AlertmanagerGroupMembers,
  AlertmanagerIntake,
  PrometheusClient,
  SloEvaluator,
} from '@spillway/signals';
import {
  type AlertBook,
  type AlertBookLimits,
  type AuditCaps,
  type AuditLog,
  type BurstRecords,
  type BurstRetention,
  type CommandInbox,
  type DueIndex,
  InMemoryAlertBook,
  InMemoryAuditLog,
  InMemoryBurstRecords,
  InMemoryCommandInbox,
  InMemoryDueIndex,
  InMemoryLease,
  InMemoryStateStore,
  type Lease,
  type StateStore,
} from '@spillway/state';
import type { FastifyInstance } from 'fastify';
import { BurstController } from './burst-controller.js';
import { StoredBurstState } from './burst-state-schema.js';
import type { CloudAdapters } from './cloud-observer.js';
import { ConfigReloads } from './config-reload.js';
import { BurstPolicyResources } from './custom-resources/burst-policy-resources.js';
import { customResourcesKubeConfig } from './custom-resources/kube-config.js';
import { registerAlertRoutes } from './http/alert-routes.js';
import { registerBurstRoutes } from './http/burst-routes.js';
import { DenialAudit, type DenialAuditOptions } from './http/denial-audit.js';
import { LivePolicySet } from './policies/live-policy-set.js';

/** Where the controller keeps its state: in memory (embedded) or in Redis (distributed). */
export interface ControllerStores {
  readonly states: StateStore<BurstState>;
  readonly bursts: BurstRecords;
  readonly audit: AuditLog;
  readonly inbox: CommandInbox;
  /** Which alerts fire, as Alertmanager said to any controller. */
  readonly alerts: AlertBook;
  readonly lease: Lease;
  /** When each service is next due for a reconcile (the periodic tick visits only those). */
  readonly due: DueIndex;
  readonly jobs: JobQueue;
  /** Whether the store is reachable (Redis); absent for in-memory stores, which always are. */
  readonly health?: ReadinessCheck;
  /** Releases connections; called by stop(). */
  close?(): Promise<void>;
}

/** The config's `retention:` in the stores' terms; absent, the stores' defaults. */
export function storeRetention(retention?: RetentionSettings): { bursts?: BurstRetention; caps?: AuditCaps } {
  if (!retention) return {};
  return {
    bursts: { maxEnded: retention.bursts.maxCount, maxAgeMs: retention.bursts.maxAgeDays * 24 * 3600 * 1000 },
    caps: retention.audit,
  };
}

export function inMemoryStores(
  options: { alerts?: AlertBookLimits; retention?: RetentionSettings } = {},
): ControllerStores {
  const jobs = new InProcessJobQueue({ backoff: { type: 'exponential', delayMs: 500 } });
  const { bursts, caps } = storeRetention(options.retention);
  return {
    states: new InMemoryStateStore<BurstState>(StoredBurstState),
    bursts: new InMemoryBurstRecords(bursts ? { retention: bursts } : {}),
    audit: new InMemoryAuditLog(caps ? { caps } : {}),
    inbox: new InMemoryCommandInbox(),
    alerts: new InMemoryAlertBook(options.alerts),
    lease: new InMemoryLease(),
    due: new InMemoryDueIndex(),
    jobs,
    close: () => jobs.close(),
  };
}

export interface ControllerOptions {
  readonly config: SpillwayConfig;
  readonly catalog: CatalogReader;
  readonly traffic: TrafficPolicyReader & TrafficPolicyWriter;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly stores?: ControllerStores;
  /** Cloud adapters; default: the real AWS and Kubernetes clients the policies need. */
  readonly adapters?: CloudAdapters & { readonly dns?: DnsWeights };
  /** Prometheus base URL for the policies' SLO queries; absent: SLOs are `unknown`. */
  readonly prometheusUrl?: string;
  /**
   * How the predictive policies' range queries reach Prometheus: the client as it is by default;
   * the simulated fleet, whose clock runs faster than the controller's, translates their times.
   */
  readonly rangeQueries?: (client: PrometheusClient) => Pick<PrometheusClient, 'queryRange'>;
  readonly tickMs?: number;
  readonly capacityTtlMs?: number;
  /** The router's measured load (LRS): in-process in embedded mode, over HTTP otherwise. */
  readonly measuredLoad?: MeasuredLoadReader;
  /** Bounds and clock of the refused-request audit (defaults: see DenialAuditOptions). */
  readonly denialAudit?: DenialAuditOptions;
}

export interface RunningController {
  readonly controller: BurstController;
  /** The policies in force: the config file's, merged with BurstPolicy resources when watched. */
  readonly policies: LivePolicySet;
  /** Applies a reloaded config file (ConfigFileWatcher's onReload): policies live, the rest at restart. */
  readonly reloads: ConfigReloads;
  readonly stores: ControllerStores;
  /** For `/readyz` (registerOperationalRoutes `checks`): not ready while the store is unreachable. */
  readonly readiness: readonly ReadinessCheck[];
  /** Mounts the burst, audit and webhook routes on an HTTP server. */
  routes(app: FastifyInstance): void;
  /** For the auth hook (registerAuth `onDenied`): audits refused requests, rate-limited. */
  readonly onDenied: (denial: Denial) => void;
  stop(): Promise<void>;
}

/** The burst controller with its stores, signals and adapters, ready to mount on an HTTP server. */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  const { config, logger, registry } = options;
  const stores = options.stores ?? inMemoryStores({ alerts: alertBookLimits(config), retention: config.retention });
  const prometheusClient = options.prometheusUrl
    ? new PrometheusClient({ baseUrl: options.prometheusUrl, registry })
    : undefined;
  const prometheus = prometheusClient ? new SloEvaluator(prometheusClient) : undefined;
  const policies = new LivePolicySet(config.policies);
  const controller = new BurstController({
    ...stores,
    policies,
    catalog: options.catalog,
    traffic: options.traffic,
    adapters: options.adapters ?? defaultAdapters(config),
    ...(prometheus ? { slo: prometheus } : {}),
    ...(prometheusClient ? { rateHistory: options.rangeQueries?.(prometheusClient) ?? prometheusClient } : {}),
    logger,
    registry,
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    ...(options.capacityTtlMs !== undefined ? { capacityTtlMs: options.capacityTtlMs } : {}),
    ...(options.measuredLoad ? { measuredLoad: options.measuredLoad } : {}),
  });
  const intake = new AlertmanagerIntake({
    policies: policies.current(),
    registry,
    groupMembers: groupMembers(config, registry),
  });
  const unfollow = policies.subscribe(() => intake.setPolicies(policies.current()));
  const denials = new DenialAudit(stores.audit, registry, logger.child({ component: 'auth' }), options.denialAudit);
  await controller.start();
  const resources = watchBurstPolicies(options, policies, controller, stores);
  const reloads = new ConfigReloads({
    config,
    policies,
    audit: stores.audit,
    logger,
    registry,
    isLeader: () => controller.isLeader(),
  });
  return {
    controller,
    policies,
    reloads,
    stores,
    readiness: [...(stores.health ? [stores.health] : []), ...(resources ? [resourcesReadiness(resources)] : [])],
    onDenied: denials.onDenied,
    routes(app) {
      registerBurstRoutes(app, {
        controller,
        bursts: stores.bursts,
        audit: stores.audit,
        ...(stores.health ? { health: stores.health } : {}),
      });
      registerAlertRoutes(app, { controller, intake });
    },
    async stop() {
      unfollow();
      await resources?.stop();
      await controller.stop();
      denials.stop();
      await stores.close?.();
    },
  };
}

/**
 * Not ready until the BurstPolicy resources have been listed once: before that, a policy that
 * lives only in a resource is unknown, and its bursts would be refused.
 */
function resourcesReadiness(resources: BurstPolicyResources): ReadinessCheck {
  return {
    name: 'custom-resources',
    check: () =>
      resources.synced ? { ready: true } : { ready: false, detail: 'BurstPolicy resources not listed yet' },
  };
}

/** BurstPolicy resources into the live policies, when `customResources:` is configured. */
function watchBurstPolicies(
  options: ControllerOptions,
  policies: LivePolicySet,
  controller: BurstController,
  stores: ControllerStores,
): BurstPolicyResources | undefined {
  const settings = options.config.customResources;
  if (!settings) return undefined;
  const resources = new BurstPolicyResources({
    kubeConfig: customResourcesKubeConfig(settings),
    namespace: settings.namespace,
    policies,
    isLeader: () => controller.isLeader(),
    owner: controller.owner,
    states: stores.states,
    traffic: options.traffic,
    logger: options.logger,
    registry: options.registry,
    statusIntervalMs: settings.statusIntervalSeconds * 1000,
    clusters: new Set(options.config.clusters.map((cluster) => cluster.name)),
  });
  resources.start();
  return resources;
}

/** Where a truncated notification's members are read: Alertmanager's API (docs/burst-controller.md#signals). */
function groupMembers(config: SpillwayConfig, registry: Registry): AlertmanagerGroupMembers {
  const { alertmanagerUrl, useExternalUrl, queryTimeoutSeconds } = config.alerts;
  return new AlertmanagerGroupMembers({
    ...(alertmanagerUrl ? { url: alertmanagerUrl } : {}),
    useExternalUrl,
    client: new AlertmanagerApiClient({ timeoutMs: queryTimeoutSeconds * 1000, registry }),
  });
}

/** The alert book's limits from the config's `alerts` section. */
export function alertBookLimits(config: SpillwayConfig): AlertBookLimits {
  return { expiryMs: config.alerts.expirySeconds * 1000 };
}

/**
 * The real clients. All three are made whatever the policies name today: a reload or a
 * BurstPolicy may add a cloud target later, and the clients connect only when first used.
 */
export function defaultAdapters(config: SpillwayConfig): CloudAdapters & { dns?: DnsWeights } {
  const clusters = new Map(config.clusters.map((cluster) => [cluster.name, cluster]));
  return {
    nodegroups: new EksNodegroupScaler(),
    dns: new Route53DnsWeights(),
    deployments: new KubernetesDeploymentScaler((name) => kubeConfigFor(clusters.get(name), name)),
  };
}

function kubeConfigFor(cluster: ClusterConfig | undefined, name: string): KubeConfig {
  if (cluster?.kind !== 'kubernetes') {
    throw new Error(
      `cluster "${name}" cannot scale Deployments: only clusters of kind kubernetes carry a kubeconfig (see docs/operations.md)`,
    );
  }
  const kubeConfig = new KubeConfig();
  if (cluster.kubeconfig) kubeConfig.loadFromFile(cluster.kubeconfig);
  else kubeConfig.loadFromDefault();
  if (cluster.context) kubeConfig.setCurrentContext(cluster.context);
  return kubeConfig;
}
