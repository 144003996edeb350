import { readFile } from 'node:fs/promises';
import { ConfigError, parseYamlWith } from '@spillway/config';
import { z } from 'zod';

/** A DNS-1123 label: namespaces, object names, Secret names. */
const DnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS label (a-z, 0-9, "-")');

/** A Kubernetes resource quantity (`250m`, `1`, `256Mi`). */
const Quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/, 'expected a quantity such as 250m or 256Mi');

const Resources = z.strictObject({
  requests: z.strictObject({ cpu: Quantity, memory: Quantity }),
  limits: z.strictObject({ cpu: Quantity.optional(), memory: Quantity.optional() }).default({}),
});
export type Resources = z.infer<typeof Resources>;

function resources(cpu: string, memory: string, memoryLimit: string) {
  return Resources.default({ requests: { cpu, memory }, limits: { memory: memoryLimit } });
}

const SecretKey = z.strictObject({ name: DnsLabel, key: z.string().min(1) });

/**
 * Keys of the Spillway config that the manifests set themselves (where each process listens,
 * its Redis, its certificate files): a values file that sets them under `config:` is refused.
 */
export const CONFIG_KEYS_SET_BY_MANIFESTS = ['listen', 'redis', 'redisCaFile', 'redisPasswordEnv', 'tls'] as const;

/**
 * `spillway manifests --values FILE`: what a deployment chooses. Everything has a default, so
 * the command without a file prints a complete deployment (docs/kubernetes.md#values).
 */
export const ManifestValues = z.strictObject({
  /** The namespace every Spillway object lives in (created by the manifests). */
  namespace: DnsLabel.default('spillway'),
  image: z
    .strictObject({
      repository: z.string().min(1).default('spillway'),
      /** Default: the version of the `spillway` that renders. */
      tag: z.string().min(1).optional(),
      pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    })
    .default({ repository: 'spillway', pullPolicy: 'IfNotPresent' }),
  federation: z.strictObject({ resources: resources('100m', '256Mi', '1Gi') }).default({
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  }),
  controller: z
    .strictObject({
      /** Two by default: one leads through the lease in Redis, the other takes over. */
      replicas: z.number().int().min(1).max(10).default(2),
      resources: resources('100m', '256Mi', '1Gi'),
      /** Prometheus base URL for the policies' SLO queries (`--prometheus`). */
      prometheusUrl: z.url().optional(),
      /**
       * Deployments (in this cluster) the controller may scale besides those the config's policies
       * name: the targets of BurstPolicy objects, which are not known when the manifests render.
       */
      scaleDeployments: z.array(z.strictObject({ namespace: DnsLabel, name: z.string().min(1) })).default([]),
    })
    .default({
      replicas: 2,
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      scaleDeployments: [],
    }),
  router: z
    .strictObject({
      replicas: z.number().int().min(1).max(100).default(3),
      resources: resources('200m', '256Mi', '1Gi'),
      /** How mesh clients reach the xDS port: ClusterIP inside the cluster, LoadBalancer from outside. */
      serviceType: z.enum(['ClusterIP', 'LoadBalancer', 'NodePort']).default('ClusterIP'),
    })
    .default({
      replicas: 3,
      resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      serviceType: 'ClusterIP',
    }),
  redis: z
    .strictObject({
      /** An external Redis (redis:// or rediss://). Absent: a single-replica Redis is deployed. */
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
        .optional(),
      /** The Secret key holding the Redis password (becomes SPILLWAY_REDIS_PASSWORD, `redisPasswordEnv`). */
      passwordSecret: SecretKey.optional(),
      /** The Secret key holding the CA bundle of a rediss:// server (`redisCaFile`). */
      caSecret: SecretKey.optional(),
      /** The image of the deployed single-replica Redis. */
      image: z.string().min(1).default('redis:7.4-alpine'),
      /** Its volume (append-only file): burst state and the job queue must survive a restart. */
      storage: Quantity.default('1Gi'),
      resources: resources('50m', '128Mi', '512Mi'),
    })
    .default({
      image: 'redis:7.4-alpine',
      storage: '1Gi',
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    }),
  /**
   * Secrets of type kubernetes.io/tls with `ca.crt` (as cert-manager writes them). httpSecret:
   * every API's certificate, also the client certificate the router and controller present to
   * the federation; xdsSecret: the router's xDS certificate and the CA of its clients.
   */
  tls: z
    .strictObject({
      httpSecret: DnsLabel.default('spillway-http-tls'),
      xdsSecret: DnsLabel.default('spillway-xds-tls'),
    })
    .default({ httpSecret: 'spillway-http-tls', xdsSecret: 'spillway-xds-tls' }),
  /** Where BurstPolicy objects live; the controller watches them there only. Default: `namespace`. */
  customResources: z.strictObject({ namespace: DnsLabel.optional() }).default({}),
  networkPolicy: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Namespaces (by their kubernetes.io/metadata.name) whose Prometheus may scrape /metrics. */
      prometheusNamespaces: z.array(DnsLabel).default(['monitoring']),
    })
    .default({ enabled: true, prometheusNamespaces: ['monitoring'] }),
  monitoring: z
    .strictObject({
      serviceMonitor: z.boolean().default(true),
      prometheusRule: z.boolean().default(true),
      /** Labels the Prometheus Operator selects ServiceMonitors and PrometheusRules by. */
      labels: z.record(z.string(), z.string()).default({}),
    })
    .default({ serviceMonitor: true, prometheusRule: true, labels: {} }),
  /**
   * The rest of the Spillway config (docs/operations.md): clusters, policies, auth, security,
   * alerts… Absent `clusters`: this cluster, watched in-cluster. Checked by the real config schema.
   */
  config: z
    .record(z.string(), z.unknown())
    .default({})
    .superRefine((config, context) => {
      for (const key of CONFIG_KEYS_SET_BY_MANIFESTS) {
        if (key in config) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: `set by the manifests (see docs/kubernetes.md#values): use ${key === 'tls' ? 'tls.httpSecret / tls.xdsSecret' : key.startsWith('redis') ? 'redis.url / redis.passwordSecret / redis.caSecret' : 'the ports the manifests give'}`,
          });
        }
      }
    }),
});
export type ManifestValues = z.infer<typeof ManifestValues>;

/** The defaults (`spillway manifests` without --values). */
export function defaultValues(): ManifestValues {
  return ManifestValues.parse({});
}

/** Reads and validates a values file: errors name `file:line:col: field: reason` (ConfigError). */
export async function loadValuesFile(file: string): Promise<ManifestValues> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseValues(text, file);
}

export function parseValues(text: string, file: string): ManifestValues {
  return parseYamlWith(ManifestValues, text, file);
}
