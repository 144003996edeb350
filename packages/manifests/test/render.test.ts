import { readdirSync, readFileSync } from 'node:fs';
import { ConfigError } from '@spillway/config';
import { validateKubernetesObject } from '@spillway/test/support/kubernetes-schemas';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubernetesObject } from '../src/kubernetes-object.js';
import { renderManifests } from '../src/render.js';
import { defaultValues, parseValues } from '../src/values.js';

const VERSION = '9.9.9';
const INFRA_PROMETHEUS = new URL('../../../infra/prometheus/', import.meta.url);

/** Values a production deployment would write: tokens, a policy scaling a Deployment here, external Redis. */
const PRODUCTION_VALUES = `
namespace: mesh-control
image: { repository: registry.example/spillway, tag: "1.2.3" }
router: { replicas: 4, serviceType: LoadBalancer }
controller: { prometheusUrl: http://prometheus.monitoring.svc:9090, scaleDeployments: [{ namespace: web, name: frontend }] }
redis: { url: rediss://redis.example:6380, passwordSecret: { name: redis-auth, key: password }, caSecret: { name: redis-ca, key: ca.crt } }
customResources: { namespace: policies }
monitoring: { labels: { release: prometheus } }
config:
  auth:
    tokens:
      - { name: ops, role: operator, sha256: "${'a'.repeat(64)}" }
  clusters:
    - { name: here, kind: kubernetes, environment: onprem, region: dc1, namespaces: [shop, web] }
    - { name: cloud, kind: kubernetes, environment: cloud, region: eu-west-1, kubeconfig: /etc/kube/cloud.yaml }
  policies:
    - service: checkout.shop
      cloud: { deployment: { cluster: here, namespace: shop, name: checkout } }
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }
    - service: search.shop
      cloud: { deployment: { cluster: cloud, namespace: shop, name: search } }
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }
`;

function render(text?: string): KubernetesObject[] {
  const values = text === undefined ? defaultValues() : parseValues(text, 'values.yaml');
  return renderManifests(values, { version: VERSION, valuesFile: 'values.yaml' });
}

function find(objects: KubernetesObject[], kind: string, name: string, namespace?: string): KubernetesObject {
  const found = objects.find(
    (object) =>
      object.kind === kind &&
      object.metadata.name === name &&
      (namespace === undefined || object.metadata.namespace === namespace),
  );
  if (!found) throw new Error(`no ${kind} ${namespace ?? '*'}/${name}`);
  return found;
}

type PodSpec = {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext: Record<string, unknown>;
  containers: {
    args?: string[];
    env?: { name: string; valueFrom?: unknown }[];
    securityContext: Record<string, unknown>;
    resources: { requests?: Record<string, string> };
    readinessProbe?: { exec: { command: string[] } };
    livenessProbe?: { exec: { command: string[] } };
  }[];
};
const podSpec = (workload: KubernetesObject) => (workload.spec as { template: { spec: PodSpec } }).template.spec;
const rulesOf = (object: KubernetesObject) =>
  (object.rules ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];

describe('spillway manifests: the rendered objects', () => {
  it.each([
    ['the defaults', undefined],
    ['production values', PRODUCTION_VALUES],
  ])('with %s every object is valid against its Kubernetes schema', (_name, text) => {
    const objects = render(text);
    for (const object of objects) expect(() => validateKubernetesObject(object)).not.toThrow();
    const kinds = new Set(objects.map((object) => object.kind));
    for (const kind of ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'Deployment', 'Service']) {
      expect(kinds).toContain(kind);
    }
  });

  it('the schemas do look: a wrongly typed field in a Deployment or a ServiceMonitor is refused', () => {
    const objects = render();
    const deployment = structuredClone(find(objects, 'Deployment', 'spillway-router')) as unknown as {
      spec: { replicas: unknown };
    };
    deployment.spec.replicas = 'three';
    expect(() => validateKubernetesObject(deployment)).toThrow(/Deployment spillway\/spillway-router/);
    const monitor = structuredClone(find(objects, 'ServiceMonitor', 'spillway-federation')) as unknown as {
      spec: { endpoints: { scheme: unknown }[] };
    };
    monitor.spec.endpoints[0]!.scheme = 42;
    expect(() => validateKubernetesObject(monitor)).toThrow(/ServiceMonitor/);
  });

  it('runs three Deployments with the CLI commands, 2 controllers and N routers, non-root and read-only', () => {
    const objects = render(PRODUCTION_VALUES);
    const replicas = (name: string) => (find(objects, 'Deployment', name).spec as { replicas: number }).replicas;
    expect([replicas('spillway-federation'), replicas('spillway-controller'), replicas('spillway-router')]).toEqual([
      1, 2, 4,
    ]);
    for (const process of ['federation', 'router', 'controller']) {
      const pod = podSpec(find(objects, 'Deployment', `spillway-${process}`));
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      const [container] = pod.containers;
      expect(container!.args!.slice(0, 3)).toEqual([process, '--config', '/etc/spillway/config.yaml']);
      expect(container!.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container!.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container!.livenessProbe!.exec.command.join(' ')).toContain('/healthz');
      expect(container!.readinessProbe!.exec.command.join(' ')).toContain('/readyz');
    }
    const router = podSpec(find(objects, 'Deployment', 'spillway-router')).containers[0]!;
    expect(router.args).toEqual(
      expect.arrayContaining(['--federation', 'https://spillway-federation.mesh-control.svc:7070']),
    );
    const controller = podSpec(find(objects, 'Deployment', 'spillway-controller')).containers[0]!;
    expect(controller.args).toEqual(expect.arrayContaining(['--prometheus', 'http://prometheus.monitoring.svc:9090']));
    expect(controller.env).toContainEqual({
      name: 'SPILLWAY_REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } },
    });
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget']) {
      expect(
        objects.filter((object) => object.kind === kind && object.metadata.name.startsWith('spillway-')).length,
      ).toBe(3);
    }
  });

  it('the controller watches BurstPolicy objects in the namespace its Role covers; the others do not watch', () => {
    const objects = render(PRODUCTION_VALUES);
    const config = (process: string) =>
      parse((find(objects, 'ConfigMap', `spillway-${process}`).data as Record<string, string>)['config.yaml']!);
    expect(config('controller').customResources).toEqual({ namespace: 'policies' });
    expect(config('router').customResources).toBeUndefined();
    expect(config('federation').customResources).toBeUndefined();
    expect(find(objects, 'Role', 'spillway-controller', 'policies')).toBeDefined();
  });

  it('the controller measures the load of every router replica through their shared Redis, with no --router', () => {
    const objects = render(PRODUCTION_VALUES);
    const config = (process: string) =>
      parse((find(objects, 'ConfigMap', `spillway-${process}`).data as Record<string, string>)['config.yaml']!);
    const controller = podSpec(find(objects, 'Deployment', 'spillway-controller')).containers[0]!;
    expect(controller.args).not.toContain('--router');
    // Routers publish their clients' load where the controller reads it: the same Redis, load reporting on.
    expect(config('router').redis).toBeDefined();
    expect(config('router').redis).toBe(config('controller').redis);
    expect(config('router').loadReporting?.enabled).not.toBe(false);
    expect(config('controller').loadReporting?.enabled).not.toBe(false);
  });

  it('an external Redis replaces the deployed one; the default deploys one with a volume and the append-only file', () => {
    expect(render(PRODUCTION_VALUES).some((object) => object.metadata.name === 'spillway-redis')).toBe(false);
    const redis = find(render(), 'StatefulSet', 'spillway-redis');
    expect(podSpec(redis).containers[0]!.args).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    const config = parse(
      (find(render(), 'ConfigMap', 'spillway-controller').data as Record<string, string>)['config.yaml']!,
    );
    expect(config.redis).toBe('redis://spillway-redis.spillway.svc:6379');
  });

  it('the PrometheusRule carries every group of infra/prometheus/*.yml as it is (not the unit tests, *-test.yml)', () => {
    const files = readdirSync(INFRA_PROMETHEUS)
      .filter((file) => file.endsWith('.yml') && !file.endsWith('-test.yml'))
      .sort();
    expect(files.length).toBeGreaterThan(0);
    const groups = files.flatMap((file) => parse(readFileSync(new URL(file, INFRA_PROMETHEUS), 'utf8')).groups);
    expect((find(render(), 'PrometheusRule', 'spillway').spec as { groups: unknown[] }).groups).toEqual(groups);
  });
});

describe('RBAC: each process may do what it does, nothing more', () => {
  const objects = render(PRODUCTION_VALUES);
  const rbac = objects.filter((object) => object.apiVersion.startsWith('rbac.authorization.k8s.io'));

  it('has no wildcard anywhere', () => {
    for (const object of rbac) {
      for (const rule of rulesOf(object)) {
        expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      }
    }
  });

  it('federation: list and watch EndpointSlices in the namespaces it watches, and Nodes', () => {
    expect(rulesOf(find(objects, 'ClusterRole', 'spillway-federation'))).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] },
    ]);
    for (const namespace of ['shop', 'web']) {
      expect(rulesOf(find(objects, 'Role', 'spillway-federation', namespace))).toEqual([
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ]);
    }
    // Watching every namespace (the default cluster entry): EndpointSlices cluster-wide.
    expect(rulesOf(find(render(), 'ClusterRole', 'spillway-federation'))).toContainEqual({
      apiGroups: ['discovery.k8s.io'],
      resources: ['endpointslices'],
      verbs: ['list', 'watch'],
    });
  });

  it('controller: BurstPolicy objects where they live, their status, Drills to answer (the distributed mode runs none), events, and the Scale of the Deployments it bursts', () => {
    expect(rulesOf(find(objects, 'Role', 'spillway-controller', 'policies'))).toEqual([
      { apiGroups: ['spillway.dev'], resources: ['burstpolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['spillway.dev'], resources: ['burstpolicies/status'], verbs: ['patch'] },
      { apiGroups: ['spillway.dev'], resources: ['drills'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['spillway.dev'], resources: ['drills/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ]);
    // checkout.shop scales through this cluster; search.shop through another kubeconfig (not ours to grant).
    expect(rulesOf(find(objects, 'Role', 'spillway-controller-scale', 'shop'))).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: ['checkout'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'update'], resourceNames: ['checkout'] },
    ]);
    expect(rulesOf(find(objects, 'Role', 'spillway-controller-scale', 'web'))[1]!.resourceNames).toEqual(['frontend']);
  });

  it('nobody may read Secrets; the router has no role and no token', () => {
    for (const object of rbac) {
      for (const rule of rulesOf(object)) expect(rule.resources).not.toContain('secrets');
    }
    const subjects = rbac.flatMap((object) => (object.subjects ?? []) as { name: string }[]);
    expect(subjects.map((subject) => subject.name)).not.toContain('spillway-router');
    expect(podSpec(find(objects, 'Deployment', 'spillway-router')).automountServiceAccountToken).toBe(false);
    expect(find(objects, 'ServiceAccount', 'spillway-router').automountServiceAccountToken).toBe(false);
  });

  it('a federation that watches no cluster in-cluster gets no role and no token', () => {
    const remoteOnly = render(
      'config:\n  clusters:\n    - { name: far, kind: kubernetes, environment: cloud, region: r, kubeconfig: /k }\n',
    );
    expect(
      remoteOnly.filter((object) => object.metadata.name === 'spillway-federation').map((o) => o.kind),
    ).not.toContain('ClusterRole');
    expect(find(remoteOnly, 'ServiceAccount', 'spillway-federation').automountServiceAccountToken).toBe(false);
    expect(find(render(), 'ServiceAccount', 'spillway-federation').automountServiceAccountToken).toBe(true);
  });

  it('every binding names its own process ServiceAccount in the Spillway namespace', () => {
    for (const binding of rbac.filter((object) => object.kind.endsWith('Binding'))) {
      const subjects = binding.subjects as { kind: string; name: string; namespace: string }[];
      expect(subjects).toEqual([
        { kind: 'ServiceAccount', name: binding.metadata.name.replace(/-scale$/, ''), namespace: 'mesh-control' },
      ]);
    }
  });
});

describe('values errors name the file, the line and the field', () => {
  const problem = (text: string) => {
    try {
      render(text);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('rendered without an error');
  };

  it.each([
    ['router:\n  replicas: 0\n', /^values\.yaml:2:\d+: router\.replicas: .*>=1/],
    ['namespce: spillway\n', /^values\.yaml:1:1: unknown field "namespce"/],
    [
      'redis: { url: http://redis:6379 }\n',
      /^values\.yaml:1:\d+: redis\.url: expected a redis:\/\/ or rediss:\/\/ URL/,
    ],
    ['config:\n  tls: {}\n', /^values\.yaml:2:\d+: config\.tls: set by the manifests/],
    [
      'config:\n  policies:\n    - { service: a.b, maxShare: 3, capacity: { replicasAtFullShare: 1, maxReplicas: 1, maxNodes: 1 } }\n',
      /^values\.yaml: config\.policies\[0\]\.maxShare: /m,
    ],
  ])('%j', (text, message) => {
    expect(problem(text)).toMatch(message);
  });
});
