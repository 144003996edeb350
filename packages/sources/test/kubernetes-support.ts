import { KubeConfig } from '@kubernetes/client-node';
import { type FakeKubernetesApi, type KubeObject, nodeObject } from '@spillway/test/fakes/kubernetes-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { RecordingSink } from '@spillway/test/support/recording-sink';
import { waitFor } from '@spillway/test/support/wait';
import { KubernetesSource, type KubernetesSourceOptions } from '../src/kubernetes/index.js';

/** A kubeconfig for the fake: plain HTTP needs skipTLSVerify, or client-node refuses it. */
export function fakeKubeConfig(api: FakeKubernetesApi, token = 'test-token'): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: api.url.startsWith('http:') }],
    users: [{ name: 'tester', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
    currentContext: 'fake',
  });
  return kubeConfig;
}

/** Starts a source against the fake with test-sized backoffs and waits for its first full view. */
export async function startSource(
  api: FakeKubernetesApi,
  options: Partial<KubernetesSourceOptions> = {},
  waitSynced = true,
): Promise<{ source: KubernetesSource; sink: RecordingSink }> {
  const source = new KubernetesSource({
    name: 'onprem-a',
    environment: 'onprem',
    region: 'lab',
    kubeConfig: fakeKubeConfig(api),
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  const sink = new RecordingSink();
  await source.start(sink);
  if (waitSynced) await waitFor(() => sink.replaceAllCount > 0, { message: 'initial replaceAll' });
  return { source, sink };
}

export const terminationSlice = () => fixtureJson<KubeObject>('k8s-endpointslice-v1.termination-tutorial.json');

export const superedgeSlice = () =>
  fixtureJson<{ object: KubeObject }>('k8s-watch-event.added-endpointslice.superedge.json').object;

export const gkeNodeLabels = () => fixtureJson<Record<string, string>>('k8s-node-labels.gke.cass-operator-docs.json');

/** The GKE node of the termination tutorial, with the recorded GKE labels. */
export const tutorialNode = () => nodeObject('gke-main-default-pool-dca1511c-d17b', gkeNodeLabels());

/** A small slice built in the shape of the recorded ones. */
export function slice(
  service: string,
  name: string,
  endpoints: {
    ip: string;
    ready?: boolean | null;
    terminating?: boolean;
    serving?: boolean;
    node?: string;
    zone?: string;
  }[],
  options: { namespace?: string; ports?: { name?: string; port: number }[]; addressType?: string } = {},
): KubeObject {
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name,
      namespace: options.namespace ?? 'demo',
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
    },
    addressType: options.addressType ?? 'IPv4',
    endpoints: endpoints.map((endpoint, index) => ({
      addresses: [endpoint.ip],
      conditions: {
        ...(endpoint.ready !== undefined ? { ready: endpoint.ready } : {}),
        serving: endpoint.serving ?? endpoint.ready ?? true,
        terminating: endpoint.terminating ?? false,
      },
      ...(endpoint.node ? { nodeName: endpoint.node } : {}),
      ...(endpoint.zone ? { zone: endpoint.zone } : {}),
      targetRef: { kind: 'Pod', namespace: options.namespace ?? 'demo', name: `${service}-pod-${index}` },
    })),
    ports: (options.ports ?? [{ name: 'grpc', port: 50051 }]).map((port) => ({ protocol: 'TCP', ...port })),
  };
}
