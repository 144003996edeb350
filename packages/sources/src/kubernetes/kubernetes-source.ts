import { CoreV1Api, DiscoveryV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { KubernetesClusterConfig } from '@spillway/config';
import type { Endpoint, Environment, ServiceKey } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { type RegistrySource, SourceError, type SourceSink } from '../source.js';
import type { BackoffOptions } from './backoff.js';
import { InformerRunner, type ObjectEvent } from './informer.js';
import {
  type EndpointContext,
  isSkip,
  type NodeTopology,
  nodeTopology,
  type ParsedSlice,
  parseSlice,
  serviceEndpoints,
  sliceId,
} from './mapping.js';
import { ObjectMeta } from './schema.js';

export interface KubernetesSourceOptions {
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  readonly kubeConfig: KubeConfig;
  /** Only these namespaces (one informer each); absent: all namespaces. */
  readonly namespaces?: readonly string[];
  readonly logger?: Logger;
  /** `eks` when an EksSource runs this source for one of its clusters. */
  readonly kind?: 'kubernetes' | 'eks';
  /** Restart backoff of a failed informer (default 500 ms doubling to 30 s, jittered). */
  readonly backoff?: BackoffOptions;
  /** `limit` of each list request; larger lists are fetched in pages (default 500). */
  readonly pageSize?: number;
  /** Server-side timeout of each watch request (default random 300–600 s, as client-go). */
  readonly watchTimeoutSeconds?: number;
}

const SLICES = '/apis/discovery.k8s.io/v1';
const NODES = '/api/v1/nodes';

/**
 * A Kubernetes cluster's Services, read from EndpointSlices (discovery.k8s.io/v1) and Nodes
 * (for topology labels) through client-node informers. Reports complete views after every
 * (re)list and per-service updates for watch events; never reports an empty view on failure.
 */
export class KubernetesSource implements RegistrySource {
  readonly kind: 'kubernetes' | 'eks';
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  private readonly logger: Logger;
  private readonly context: EndpointContext;
  private readonly slices = new Map<string, ParsedSlice>();
  private readonly sliceIdsByService = new Map<ServiceKey, Set<string>>();
  private readonly nodes = new Map<string, NodeTopology>();
  private runners: InformerRunner[] = [];
  private sink: SourceSink | undefined;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.kind = options.kind ?? 'kubernetes';
    this.name = options.name;
    this.environment = options.environment;
    this.region = options.region;
    this.logger = (options.logger ?? silentLogger()).child({ source: options.name });
    this.context = { cluster: options.name, environment: options.environment, region: options.region };
  }

  /** Loads the kubeconfig the cluster entry names, else $KUBECONFIG, ~/.kube/config or in-cluster. */
  static fromConfig(config: KubernetesClusterConfig, logger?: Logger): KubernetesSource {
    const kubeConfig = new KubeConfig();
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (config.context) kubeConfig.setCurrentContext(config.context);
    return new KubernetesSource({
      name: config.name,
      environment: config.environment,
      region: config.region,
      kubeConfig,
      ...(config.namespaces ? { namespaces: config.namespaces } : {}),
      ...(logger ? { logger } : {}),
    });
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.runners.length > 0) return;
    this.sink = sink;
    // A restarted source lists afresh into new informers: forget what the old ones cached.
    this.slices.clear();
    this.sliceIdsByService.clear();
    this.nodes.clear();
    this.runners = [...this.sliceInformers(), this.nodeInformer()];
    for (const runner of this.runners) runner.start();
  }

  async stop(): Promise<void> {
    const runners = this.runners;
    this.runners = [];
    await Promise.all(runners.map((runner) => runner.stop()));
  }

  private sliceInformers(): InformerRunner[] {
    const discovery = this.options.kubeConfig.makeApiClient(DiscoveryV1Api);
    const namespaces = this.options.namespaces;
    if (!namespaces) {
      return [
        this.informer('endpointslices', `${SLICES}/endpointslices`, (limit, cont) =>
          discovery.listEndpointSliceForAllNamespaces({ limit, ...(cont ? { _continue: cont } : {}) }),
        ),
      ];
    }
    return namespaces.map((namespace) =>
      this.informer(
        `endpointslices in namespace "${namespace}"`,
        `${SLICES}/namespaces/${namespace}/endpointslices`,
        (limit, cont) =>
          discovery.listNamespacedEndpointSlice({ namespace, limit, ...(cont ? { _continue: cont } : {}) }),
      ),
    );
  }

  private nodeInformer(): InformerRunner {
    const core = this.options.kubeConfig.makeApiClient(CoreV1Api);
    return this.informer(
      'nodes',
      NODES,
      (limit, cont) => core.listNode({ limit, ...(cont ? { _continue: cont } : {}) }),
      true,
    );
  }

  private informer(
    label: string,
    path: string,
    listPage: (limit: number, cont: string | undefined) => Promise<unknown>,
    nodes = false,
  ): InformerRunner {
    const fixedTimeout = this.options.watchTimeoutSeconds;
    const runner: InformerRunner = new InformerRunner({
      label,
      kubeConfig: this.options.kubeConfig,
      path,
      listPage,
      pageSize: this.options.pageSize ?? 500,
      backoff: this.options.backoff ?? {},
      watchTimeoutSeconds: () => fixedTimeout ?? Math.round(300 * (1 + Math.random())),
      logger: this.logger,
      hooks: {
        onObject: (event, object) => (nodes ? this.onNode(runner, event, object) : this.onSlice(runner, event, object)),
        onSynced: () => this.onSynced(),
        onAlive: () => this.sink?.alive(),
        onFailure: (message, cause) => this.sink?.failed(new SourceError(this.name, message, { cause })),
      },
    });
    return runner;
  }

  /** Every informer has listed at least once: report the whole view (initial sync and relists). */
  private onSynced(): void {
    if (this.runners.length === 0 || !this.runners.every((runner) => runner.synced)) return;
    const view = new Map<ServiceKey, Endpoint[]>();
    for (const key of this.sliceIdsByService.keys()) {
      const endpoints = this.endpointsOf(key);
      if (endpoints.length > 0) view.set(key, endpoints);
    }
    this.sink?.replaceAll(view);
  }

  private onSlice(runner: InformerRunner, event: ObjectEvent, object: KubernetesObject): void {
    const meta = ObjectMeta.parse(object.metadata);
    const id = sliceId(meta.namespace, meta.name);
    const before = this.slices.get(id)?.serviceKey;
    this.removeSlice(id);
    if (event !== 'delete') this.addSlice(id, object);
    const after = this.slices.get(id)?.serviceKey;
    this.report(runner, [before, after]);
  }

  private addSlice(id: string, object: KubernetesObject): void {
    const parsed = parseSlice(object);
    if (isSkip(parsed)) {
      this.logger[parsed.level]({ slice: id, reason: parsed.reason }, 'EndpointSlice skipped');
      return;
    }
    this.slices.set(id, parsed);
    const ids = this.sliceIdsByService.get(parsed.serviceKey) ?? new Set();
    ids.add(id);
    this.sliceIdsByService.set(parsed.serviceKey, ids);
  }

  private removeSlice(id: string): void {
    const old = this.slices.get(id);
    if (!old) return;
    this.slices.delete(id);
    const ids = this.sliceIdsByService.get(old.serviceKey);
    ids?.delete(id);
    if (ids?.size === 0) this.sliceIdsByService.delete(old.serviceKey);
  }

  /** A Node's topology labels changed: re-derive the endpoints that run on it. */
  private onNode(runner: InformerRunner, event: ObjectEvent, object: KubernetesObject): void {
    const meta = ObjectMeta.parse(object.metadata);
    const before = this.nodes.get(meta.name);
    const after = event === 'delete' ? undefined : nodeTopology(meta.labels);
    if (after) this.nodes.set(meta.name, after);
    else this.nodes.delete(meta.name);
    if (before?.zone === after?.zone && before?.region === after?.region) return;
    const touched = [...this.slices.values()]
      .filter((slice) => slice.endpoints.some((endpoint) => endpoint.nodeName === meta.name))
      .map((slice) => slice.serviceKey);
    this.report(runner, touched);
  }

  /**
   * Reports the given services' current endpoints. Changes applied while this informer lists,
   * or before every informer has listed once, are covered by the replaceAll that follows.
   */
  private report(runner: InformerRunner, keys: readonly (ServiceKey | undefined)[]): void {
    if (this.runners.length === 0 || runner.listing || !this.runners.every((each) => each.synced)) return;
    const changed = new Map<ServiceKey, Endpoint[]>();
    for (const key of keys) if (key !== undefined) changed.set(key, this.endpointsOf(key));
    if (changed.size > 0) this.sink?.replaceServices(changed);
  }

  private endpointsOf(key: ServiceKey): Endpoint[] {
    const ids = this.sliceIdsByService.get(key) ?? new Set<string>();
    const slices = [...ids].map((id) => this.slices.get(id)).filter((slice): slice is ParsedSlice => !!slice);
    return serviceEndpoints(slices, this.nodes, this.context);
  }
}
