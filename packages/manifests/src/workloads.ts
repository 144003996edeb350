import { stringify } from 'yaml';
import type { KubernetesObject } from './kubernetes-object.js';
import { labels, selectorLabels } from './labels.js';
import { probes } from './probes.js';
import {
  apiExposed,
  federationUrl,
  inClusterClusters,
  objectName,
  PATHS,
  PORTS,
  processConfig,
  REDIS_PASSWORD_ENV,
  type SpillwayProcess,
} from './process-config.js';
import type { ManifestValues, Resources } from './values.js';

/** The image's user (Dockerfile: the node image's `node`, uid 1000). */
const RUN_AS = 1000;

const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  seccompProfile: { type: 'RuntimeDefault' },
};

const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/** ServiceAccount, ConfigMap, Deployment, Service and PodDisruptionBudget of one process. */
export function processObjects(values: ManifestValues, process: SpillwayProcess, version: string): KubernetesObject[] {
  const name = objectName(process);
  const metadata = { name, namespace: values.namespace, labels: labels(process) };
  const service = processService(values, process);
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata,
      automountServiceAccountToken: callsKubernetes(values, process),
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata,
      data: { 'config.yaml': stringify(processConfig(values, process)) },
    },
    deployment(values, process, version),
    ...(service ? [service] : []),
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata,
      // One at a time: the router keeps N-1 serving, the controller a leader-in-waiting; the
      // single federation may go (routers serve their last catalog meanwhile).
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(process) } },
    },
  ];
}

/**
 * Whether the process calls this cluster's API with its ServiceAccount: the controller (its
 * BurstPolicy objects), the federation when it watches this cluster in-cluster. The router never:
 * no token is mounted where none is used.
 */
function callsKubernetes(values: ManifestValues, process: SpillwayProcess): boolean {
  if (process === 'router') return false;
  return process === 'controller' || inClusterClusters(values).length > 0;
}

function replicas(values: ManifestValues, process: SpillwayProcess): number {
  if (process === 'router') return values.router.replicas;
  if (process === 'controller') return values.controller.replicas;
  return 1;
}

function args(values: ManifestValues, process: SpillwayProcess): string[] {
  const common = [process, '--config', PATHS.config];
  if (process === 'federation') return common;
  const listen = processConfig(values, process).listen as { http: string };
  const followed = ['--federation', federationUrl(values), '--listen', listen.http];
  if (process === 'router') return [...common, ...followed];
  const prometheus = values.controller.prometheusUrl;
  return [...common, ...followed, ...(prometheus ? ['--prometheus', prometheus] : [])];
}

function deployment(values: ManifestValues, process: SpillwayProcess, version: string): KubernetesObject {
  const name = objectName(process);
  const ports = [
    { name: 'https', containerPort: PORTS[process], protocol: 'TCP' },
    ...(process === 'router' ? [{ name: 'xds', containerPort: PORTS.xds, protocol: 'TCP' }] : []),
  ];
  const container = {
    name: process,
    image: `${values.image.repository}:${values.image.tag ?? version}`,
    imagePullPolicy: values.image.pullPolicy,
    args: args(values, process),
    ports,
    env: environment(values, process),
    ...probes(PORTS[process]),
    resources: resourceRequirements(resourcesOf(values, process)),
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: 'files', mountPath: PATHS.configDir, readOnly: true },
      { name: 'state', mountPath: PATHS.state },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: values.namespace, labels: labels(process) },
    spec: {
      replicas: replicas(values, process),
      selector: { matchLabels: selectorLabels(process) },
      template: {
        metadata: { labels: labels(process) },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: callsKubernetes(values, process),
          securityContext: POD_SECURITY,
          // SIGTERM: the CLI stops within 12 s whatever hangs (docs/operations.md#faults).
          terminationGracePeriodSeconds: 20,
          ...(replicas(values, process) > 1 ? { affinity: spreadOverNodes(process) } : {}),
          containers: [container],
          volumes: [
            { name: 'files', projected: { defaultMode: 0o440, sources: fileSources(values, process) } },
            { name: 'state', emptyDir: {} },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
          ],
        },
      },
    },
  };
}

/**
 * One read-only directory, /etc/spillway: config.yaml from the ConfigMap and each certificate
 * Secret under tls/. A projected volume (not subPath mounts) so that edits to the ConfigMap and
 * rotated certificates reach the running process, which re-reads them.
 */
function fileSources(values: ManifestValues, process: SpillwayProcess): Record<string, unknown>[] {
  const tlsFiles = (secret: string, dir: string) => ({
    secret: {
      name: secret,
      items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: `${dir}/${key}` })),
    },
  });
  const sources: Record<string, unknown>[] = [
    { configMap: { name: objectName(process), items: [{ key: 'config.yaml', path: 'config.yaml' }] } },
    tlsFiles(values.tls.httpSecret, 'tls/http'),
  ];
  if (process === 'router') sources.push(tlsFiles(values.tls.xdsSecret, 'tls/xds'));
  const redisCa = values.redis.caSecret;
  if (process !== 'federation' && redisCa) {
    sources.push({ secret: { name: redisCa.name, items: [{ key: redisCa.key, path: 'tls/redis/ca.crt' }] } });
  }
  return sources;
}

function environment(values: ManifestValues, process: SpillwayProcess): Record<string, unknown>[] {
  const env: Record<string, unknown>[] = [
    // A generated admin token (no auth.tokens) goes to $HOME/.spillway: the writable volume.
    { name: 'HOME', value: PATHS.state },
    { name: 'LOG_LEVEL', value: 'info' },
  ];
  const password = values.redis.passwordSecret;
  if (process !== 'federation' && password) {
    env.push({ name: REDIS_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: password.name, key: password.key } } });
  }
  return env;
}

function resourcesOf(values: ManifestValues, process: SpillwayProcess): Resources {
  return values[process].resources;
}

export function resourceRequirements(resources: Resources): Record<string, unknown> {
  const limits = Object.fromEntries(Object.entries(resources.limits).filter(([, value]) => value !== undefined));
  return { requests: resources.requests, ...(Object.keys(limits).length > 0 ? { limits } : {}) };
}

function spreadOverNodes(process: SpillwayProcess): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selectorLabels(process) },
          },
        },
      ],
    },
  };
}

/**
 * The process's Service: the federation's API (routers and controllers follow it), the router's
 * xDS port (and API when exposed), the controller's API when exposed (Alertmanager, operators).
 */
function processService(values: ManifestValues, process: SpillwayProcess): KubernetesObject | undefined {
  const https = { name: 'https', port: PORTS[process], targetPort: 'https', protocol: 'TCP' };
  const exposed = process === 'federation' || apiExposed(values);
  const ports = [
    ...(exposed ? [https] : []),
    ...(process === 'router'
      ? [{ name: 'xds', port: PORTS.xds, targetPort: 'xds', protocol: 'TCP', appProtocol: 'grpc' }]
      : []),
  ];
  if (ports.length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: objectName(process), namespace: values.namespace, labels: labels(process) },
    spec: {
      type: process === 'router' ? values.router.serviceType : 'ClusterIP',
      selector: selectorLabels(process),
      ports,
    },
  };
}
