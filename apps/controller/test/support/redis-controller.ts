import { buildConfig } from '@spillway/config';
import { createLogger, createMetricsRegistry } from '@spillway/observability';
import type { RedisAccess } from '@spillway/state';
import { CLOUD_FAKES_CAPACITY, type CloudFakes, startCloudFakes } from '@spillway/test/support/burst-world';
import {
  type RedisControllerStores,
  type RunningController,
  redisStores,
  redisTrafficPolicies,
  startController,
} from '../../src/index.js';
import { checkoutCatalog, fakeCloudAdapters, serveControllerApi } from './controller-world.js';

export const SERVICE = 'checkout.shop';

/** One change of the cloud share as a router sees it: ms since the harness started. */
export interface ShareChange {
  readonly atMs: number;
  readonly share: number;
}

export interface RedisHarnessOptions {
  readonly redisUrl: string;
  /** Merged over the default policy for checkout.shop. */
  readonly policy?: Record<string, unknown>;
  /** Short, so a lease lost in an outage comes back within seconds. Default 3 s. */
  readonly leaseTtlMs?: number;
  /** TLS trust and password for a `rediss://` Redis with `requirepass`. */
  readonly redisAccess?: RedisAccess;
  /** The cloud fakes of another harness, for a second controller of the same world (not closed by stop()). */
  readonly cloud?: CloudFakes;
  /** The periodic reconcile tick. Default 100 ms. */
  readonly tickMs?: number;
  /** Wraps the Redis stores before the controller gets them (a test holding one write back). */
  readonly wrapStores?: (stores: RedisControllerStores) => RedisControllerStores;
}

export type { CloudFakes };

/** The fakes of one in-process world: replicas ready one per read, nodegroup updates settling after two describes. */
async function startHarnessCloud(cleanups: (() => Promise<unknown> | unknown)[]): Promise<CloudFakes> {
  const cloud = await startCloudFakes({ kubernetesToken: 'k8s-token', readyStep: 1, nodegroupUpdates: 2 });
  cleanups.push(() => cloud.close());
  return cloud;
}

/**
 * The controller as `spillway controller` runs it, in-process: state, lease, jobs and traffic
 * policies in a real Redis (`redisStores`), the HTTP API with auth (tokens of controller-harness)
 * and `/readyz` fed by the store's health, AWS and Kubernetes through the HTTP fakes. A second
 * traffic-policy store on its own connections plays the router: `shares` records every change
 * of checkout.shop's cloud share it sees.
 */
export async function startRedisHarness(options: RedisHarnessOptions) {
  const started = performance.now();
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const stop = async () => {
    // Each step runs even if an earlier one fails or hangs (a store left waiting on a dead Redis).
    const failures: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await withDeadline(Promise.resolve().then(cleanup), 15_000);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length) throw failures[0];
  };
  try {
    const cloudFakes = options.cloud ?? (await startHarnessCloud(cleanups));
    const { k8s, eks, route53, zone } = cloudFakes;
    const config = buildConfig({
      clusters: [{ name: 'eks-use1', kind: 'static', environment: 'cloud', region: 'us-west-2' }],
      redis: options.redisUrl,
      policies: [
        {
          service: SERVICE,
          steps: [0.1, 0.25],
          maxShare: 0.5,
          stepIntervalSeconds: 1,
          minDwellSeconds: 2,
          cooldownSeconds: 3,
          capacity: CLOUD_FAKES_CAPACITY,
          cloud: cloudFakes.policyCloud,
          // The page alert of infra/prometheus/spillway-slo-rules.yml for this service.
          triggers: {
            alerts: [{ alertname: 'SpillwayErrorBudgetBurn', labels: { service: SERVICE, severity: 'page' } }],
          },
          ...options.policy,
        },
      ],
    });

    const { catalog } = await checkoutCatalog();
    cleanups.push(() => catalog.close());

    const adapters = fakeCloudAdapters(cloudFakes);
    cleanups.push(() => {
      adapters.nodegroups.close();
      adapters.dns.close();
    });

    // The routers' view, on connections of its own.
    // Silent under vitest unless LOG_LEVEL says otherwise (e.g. LOG_LEVEL=warn to see the outage).
    const logger = createLogger('controller-e2e');
    const router = await redisTrafficPolicies(options.redisUrl, logger, options.redisAccess);
    cleanups.push(() => router.close());
    const shares: ShareChange[] = [];
    router.policies.subscribe((service) => {
      if (service !== SERVICE) return;
      shares.push({
        atMs: Math.round(performance.now() - started),
        share: router.policies.get(SERVICE)?.cloudShare ?? 0,
      });
    });

    const redis = await redisStores(options.redisUrl, {
      logger,
      leaseTtlMs: options.leaseTtlMs ?? 3_000,
      ...(options.redisAccess ? { access: options.redisAccess } : {}),
    });
    const stores = options.wrapStores?.(redis) ?? redis;
    const registry = createMetricsRegistry({ defaultMetrics: false });
    let running: RunningController;
    try {
      running = await startController({
        config,
        catalog,
        traffic: stores.traffic,
        stores,
        logger,
        registry,
        adapters,
        tickMs: options.tickMs ?? 100,
        capacityTtlMs: 0,
      });
    } catch (error) {
      await stores.close?.();
      throw error;
    }
    cleanups.push(() => running.stop());

    const { url, app } = await serveControllerApi(running, registry, { checks: running.readiness });
    cleanups.push(() => app.close());

    return {
      url,
      cloud: cloudFakes,
      k8s,
      eks,
      route53,
      /** The weighted record the policy sets: `setIdentifiers[1]` is the cloud set. */
      zone,
      stores,
      running,
      registry,
      router,
      /** The cloud share the routers serve now (0 when they have no policy). */
      routerShare: () => router.policies.get(SERVICE)?.cloudShare ?? 0,
      shares,
      elapsedMs: () => Math.round(performance.now() - started),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

export type RedisHarness = Awaited<ReturnType<typeof startRedisHarness>>;

/** The distinct values in the order they first appeared, e.g. the desired sizes asked for. */
export function distinctInOrder<T>(values: readonly T[]): T[] {
  return values.filter((value, index) => index === 0 || values[index - 1] !== value);
}

/** Rejects when `promise` takes longer than `ms`: a cleanup step must not hang afterAll. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cleanup step did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
