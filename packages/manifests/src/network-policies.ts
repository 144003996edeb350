import type { KubernetesObject } from './kubernetes-object.js';
import { labels, selectorLabels } from './labels.js';
import { apiExposed, objectName, PORTS } from './process-config.js';
import type { ManifestValues } from './values.js';

type Peer = Record<string, unknown>;

const podsOf = (component: string): Peer => ({ podSelector: { matchLabels: selectorLabels(component) } });

/**
 * Ingress only where a caller exists: nothing reaches a Spillway pod unless a policy below lets
 * it. The federation: routers, controllers and Prometheus; Redis: routers and controllers; the
 * router's xDS port and the exposed APIs: anyone (mutual TLS and tokens guard them). Egress is
 * left open: the federation and controller call APIs outside the cluster (Consul, Nomad, AWS).
 */
export function networkPolicies(values: ManifestValues): KubernetesObject[] {
  if (!values.networkPolicy.enabled) return [];
  const prometheus: Peer[] = values.networkPolicy.prometheusNamespaces.map((namespace) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
  }));
  const policy = (component: string, ingress: Record<string, unknown>[]): KubernetesObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: objectName(component as 'redis'), namespace: values.namespace, labels: labels(component) },
    spec: { podSelector: { matchLabels: selectorLabels(component) }, policyTypes: ['Ingress'], ingress },
  });
  const tcp = (port: number) => [{ protocol: 'TCP', port }];
  const exposedApi = (port: number) => (apiExposed(values) ? [{ ports: tcp(port) }] : []);
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'spillway-default-deny', namespace: values.namespace, labels: labels('network') },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    },
    policy('federation', [
      { from: [podsOf('router'), podsOf('controller'), ...prometheus], ports: tcp(PORTS.federation) },
    ]),
    policy('router', [{ ports: tcp(PORTS.xds) }, ...exposedApi(PORTS.router)]),
    ...(apiExposed(values) ? [policy('controller', exposedApi(PORTS.controller))] : []),
    ...(values.redis.url
      ? []
      : [policy('redis', [{ from: [podsOf('router'), podsOf('controller')], ports: tcp(PORTS.redis) }])]),
  ];
}
