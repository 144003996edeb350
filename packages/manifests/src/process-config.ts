import { ConfigError, formatPath, SpillwayConfig } from '@spillway/config';
import type { ManifestValues } from './values.js';

/** The three processes of the distributed mode, each its own Deployment. */
export type SpillwayProcess = 'federation' | 'router' | 'controller';
export const PROCESSES: readonly SpillwayProcess[] = ['federation', 'router', 'controller'];

/** Ports: the CLI's defaults (docs/operations.md#processes). */
export const PORTS = { federation: 7070, router: 7071, controller: 7072, xds: 18000, redis: 6379 } as const;

/** Where the pods find their files. */
export const PATHS = {
  configDir: '/etc/spillway',
  config: '/etc/spillway/config.yaml',
  httpTls: '/etc/spillway/tls/http',
  xdsTls: '/etc/spillway/tls/xds',
  redisCa: '/etc/spillway/tls/redis',
  /** Writable (an emptyDir): the router's catalog snapshot, $HOME for a generated admin token. */
  state: '/var/lib/spillway',
} as const;

export const REDIS_PASSWORD_ENV = 'SPILLWAY_REDIS_PASSWORD';

/** `spillway-federation` etc.; also the app.kubernetes.io/component label's value. */
export function objectName(process: SpillwayProcess | 'redis'): string {
  return `spillway-${process}`;
}

/** The in-cluster DNS name of a process's Service. */
export function serviceHost(values: ManifestValues, process: SpillwayProcess | 'redis'): string {
  return `${objectName(process)}.${values.namespace}.svc`;
}

/** Where BurstPolicy and Drill objects live: the controller watches that namespace only (a Role). */
export function customResourceNamespace(values: ManifestValues): string {
  return values.customResources.namespace ?? values.namespace;
}

/** The config's clusters, or this cluster watched in-cluster when the values name none. */
export function configuredClusters(values: ManifestValues): Record<string, unknown>[] {
  const clusters = values.config.clusters;
  if (clusters !== undefined) return clusters as Record<string, unknown>[];
  return [{ name: 'local', kind: 'kubernetes', environment: 'onprem', region: 'local' }];
}

export interface InClusterCluster {
  readonly name: string;
  readonly namespaces?: string[];
}

/**
 * Clusters the federation reaches through this pod's ServiceAccount: `kind: kubernetes` without
 * a kubeconfig (client-node's in-cluster config). Others bring their own credentials.
 */
export function inClusterClusters(values: ManifestValues): InClusterCluster[] {
  return configuredClusters(values)
    .filter((cluster) => cluster.kind === 'kubernetes' && cluster.kubeconfig === undefined)
    .map((cluster) => cluster as unknown as InClusterCluster);
}

/**
 * The router's and controller's APIs take mutations, which need configured tokens beyond
 * loopback (a generated admin token is for a workstation). Without tokens they listen on the
 * pod's loopback only: reachable through `kubectl port-forward`, not from the network.
 */
export function apiExposed(values: ManifestValues): boolean {
  const auth = values.config.auth as { tokens?: unknown[] } | undefined;
  return (auth?.tokens?.length ?? 0) > 0;
}

/** The address a process's HTTP API listens on inside its pod. */
export function httpListen(values: ManifestValues, process: SpillwayProcess): string {
  const host = process === 'federation' || apiExposed(values) ? '0.0.0.0' : '127.0.0.1';
  return `${host}:${PORTS[process]}`;
}

/** The federation's URL as the router and controller follow it: HTTPS, client certificate. */
export function federationUrl(values: ManifestValues): string {
  return `https://${serviceHost(values, 'federation')}:${PORTS.federation}`;
}

export function redisUrl(values: ManifestValues): string {
  return values.redis.url ?? `redis://${serviceHost(values, 'redis')}:${PORTS.redis}`;
}

/**
 * The config file one process runs with (its ConfigMap's config.yaml), as the user would write
 * it: the values' `config`, plus where it listens, its Redis and its certificate files. The
 * federation requires client certificates (it hands out every endpoint and has no tokens); the
 * router and controller present the same certificate to it and trust the CA in the Secret.
 */
export function processConfig(values: ManifestValues, process: SpillwayProcess): Record<string, unknown> {
  const http = { certFile: `${PATHS.httpTls}/tls.crt`, keyFile: `${PATHS.httpTls}/tls.key` };
  const caFile = `${PATHS.httpTls}/ca.crt`;
  const { customResources, ...shared } = values.config;
  const base: Record<string, unknown> = { ...shared, clusters: configuredClusters(values) };
  const redis = {
    redis: redisUrl(values),
    ...(values.redis.passwordSecret ? { redisPasswordEnv: REDIS_PASSWORD_ENV } : {}),
    ...(values.redis.caSecret ? { redisCaFile: `${PATHS.redisCa}/ca.crt` } : {}),
  };
  switch (process) {
    case 'federation':
      return {
        ...base,
        listen: { http: httpListen(values, process) },
        tls: { http: { ...http, clientCaFile: caFile }, caFile },
      };
    case 'router':
      return {
        ...base,
        listen: { http: httpListen(values, process), xds: `0.0.0.0:${PORTS.xds}` },
        ...redis,
        tls: {
          http,
          caFile,
          xds: {
            certFile: `${PATHS.xdsTls}/tls.crt`,
            keyFile: `${PATHS.xdsTls}/tls.key`,
            clientCaFile: `${PATHS.xdsTls}/ca.crt`,
          },
        },
        router: {
          ...(values.config.router as object | undefined),
          snapshotFile: `${PATHS.state}/catalog-snapshot.json`,
        },
      };
    case 'controller':
      return {
        ...base,
        listen: { http: httpListen(values, process) },
        ...redis,
        tls: { http, caFile },
        // BurstPolicy objects through the pod's ServiceAccount, in the namespace its Role covers.
        customResources: { ...(customResources as object | undefined), namespace: customResourceNamespace(values) },
      };
  }
}

/**
 * Checks a process's config with the config file's own schema, so a values file whose `config`
 * the processes would refuse fails here, naming the values file and field.
 */
export function checkProcessConfig(config: Record<string, unknown>, valuesFile: string): void {
  const result = SpillwayConfig.safeParse(config);
  if (result.success) return;
  throw new ConfigError(
    valuesFile,
    result.error.issues.map((issue) => ({ path: `config.${formatPath(issue.path)}`, message: issue.message })),
  );
}
