import { BURST_POLICY_RESOURCE, CUSTOM_RESOURCE_GROUP, DRILL_RESOURCE } from '@spillway/model';
import type { KubernetesObject } from './kubernetes-object.js';
import { labels } from './labels.js';
import { customResourceNamespace, inClusterClusters, objectName, type SpillwayProcess } from './process-config.js';
import type { ManifestValues } from './values.js';

export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

/**
 * What each process calls, and nothing more (docs/kubernetes.md#rbac):
 * - federation: list + watch EndpointSlices (its informers; everywhere, or in the namespaces
 *   the cluster entry names) and Nodes (zone and region labels);
 * - controller: get/list/watch BurstPolicy objects and patch their status, create Events
 *   about them, and get + update the Scale of exactly the Deployments its policies burst;
 * - router: nothing (its ServiceAccount token is not even mounted).
 */
export function rbacObjects(values: ManifestValues): KubernetesObject[] {
  return [...federationRbac(values), ...controllerRbac(values)];
}

function federationRbac(values: ManifestValues): KubernetesObject[] {
  const clusters = inClusterClusters(values);
  if (clusters.length === 0) return [];
  const allNamespaces = clusters.some((cluster) => !cluster.namespaces);
  const slices: PolicyRule = {
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: ['list', 'watch'],
  };
  const nodes: PolicyRule = { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] };
  const objects = clusterRole(values, 'federation', allNamespaces ? [slices, nodes] : [nodes]);
  if (!allNamespaces) {
    const namespaces = [...new Set(clusters.flatMap((cluster) => cluster.namespaces ?? []))];
    for (const namespace of namespaces) objects.push(...role(values, 'federation', namespace, [slices]));
  }
  return objects;
}

function controllerRbac(values: ManifestValues): KubernetesObject[] {
  const namespace = customResourceNamespace(values);
  const resources: PolicyRule[] = [
    { apiGroups: [CUSTOM_RESOURCE_GROUP], resources: [BURST_POLICY_RESOURCE.plural], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [CUSTOM_RESOURCE_GROUP], resources: [`${BURST_POLICY_RESOURCE.plural}/status`], verbs: ['patch'] },
    // Drill objects are run by `spillway up` only; the controller answers them (status Error and
    // a Warning event saying so) rather than leave them looking as if they waited.
    { apiGroups: [CUSTOM_RESOURCE_GROUP], resources: [DRILL_RESOURCE.plural], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [CUSTOM_RESOURCE_GROUP], resources: [`${DRILL_RESOURCE.plural}/status`], verbs: ['patch'] },
    // Warning events (core v1) about objects it cannot use.
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  ];
  const objects = role(values, 'controller', namespace, resources);
  for (const [target, names] of scaledDeployments(values)) {
    const scale: PolicyRule[] = [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: names },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update'], resourceNames: names },
    ];
    objects.push(...role(values, 'controller', target, scale, `${objectName('controller')}-scale`));
  }
  return objects;
}

/**
 * Deployments the controller scales in this cluster, by namespace: the config policies'
 * `cloud.deployment` on an in-cluster cluster, and `controller.scaleDeployments`. The scaler
 * reads the Scale and replaces it (PUT: verb update) carrying the resourceVersion it read.
 */
function scaledDeployments(values: ManifestValues): Map<string, string[]> {
  const inCluster = new Set(inClusterClusters(values).map((cluster) => cluster.name));
  const policies = (values.config.policies ?? []) as {
    cloud?: { deployment?: { cluster: string; namespace: string; name: string } };
  }[];
  const targets = [
    ...policies
      .map((policy) => policy.cloud?.deployment)
      .filter((deployment) => deployment !== undefined && inCluster.has(deployment.cluster)),
    ...values.controller.scaleDeployments,
  ] as { namespace: string; name: string }[];
  const byNamespace = new Map<string, string[]>();
  for (const { namespace, name } of targets) {
    const names = byNamespace.get(namespace) ?? [];
    if (!names.includes(name)) names.push(name);
    byNamespace.set(namespace, names);
  }
  return byNamespace;
}

function clusterRole(values: ManifestValues, process: SpillwayProcess, rules: PolicyRule[]): KubernetesObject[] {
  const name = objectName(process);
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels: labels(process) },
      rules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels: labels(process) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: values.namespace }],
    },
  ];
}

function role(
  values: ManifestValues,
  process: SpillwayProcess,
  namespace: string,
  rules: PolicyRule[],
  name = objectName(process),
): KubernetesObject[] {
  const metadata = { name, namespace, labels: labels(process) };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: objectName(process), namespace: values.namespace }],
    },
  ];
}
