import type { Cluster } from '@aws-sdk/client-eks';
import { DescribeClusterCommand, EKSClient, paginateListClusters } from '@aws-sdk/client-eks';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { KubeConfig } from '@kubernetes/client-node';
import type { EksClusterConfig } from '@spillway/config';
import type { Environment } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import { type BackoffOptions, backoffDelay } from '../kubernetes/backoff.js';
import { describeError } from '../kubernetes/errors.js';
import { KubernetesSource, type KubernetesSourceOptions } from '../kubernetes/kubernetes-source.js';
import { type RegistrySource, SourceError, type SourceSink } from '../source.js';
import { MergedView } from './merged-view.js';
import { type AwsCredentialIdentityProvider, EksTokenCache } from './token.js';

export interface EksSourceDeps {
  /** EKS API client; default: one for config.region (and config.eksEndpoint), destroyed on stop. */
  readonly eks?: EKSClient;
  /** Default: the standard AWS chain (env, SSO, profiles, web identity, IMDS). */
  readonly credentials?: AwsCredentialIdentityProvider;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** Retry backoff for discovery and for clusters not yet ACTIVE; also used by each cluster's informers. */
  readonly backoff?: BackoffOptions;
  /** How often to look for new or removed clusters once all are running (default 5 min). */
  readonly discoveryIntervalMs?: number;
  /** Mint a new bearer token once the current one is this old (default 10 min; EKS accepts 15). */
  readonly tokenRefreshMs?: number;
  /** Extra options for each cluster's KubernetesSource (tests: watch timeout, page size). */
  readonly kubernetes?: Pick<KubernetesSourceOptions, 'pageSize' | 'watchTimeoutSeconds'>;
}

interface RunningCluster {
  readonly source: KubernetesSource;
}

/**
 * Every EKS cluster of a region (or the named ones), each watched as a Kubernetes cluster
 * with IAM bearer tokens; the sink receives the union of the clusters' views. Clusters that
 * are not ACTIVE yet are reported and retried; clusters that disappear are dropped.
 */
export class EksSource implements RegistrySource {
  readonly kind = 'eks' as const;
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  private readonly logger: Logger;
  private readonly eks: EKSClient;
  private readonly ownsClient: boolean;
  private readonly credentials: AwsCredentialIdentityProvider;
  private readonly now: () => Date;
  private readonly clusters = new Map<string, RunningCluster>();
  private readonly view: MergedView;
  private sink: SourceSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private running = false;
  private discovering: Promise<void> | undefined;

  constructor(
    private readonly config: EksClusterConfig,
    private readonly deps: EksSourceDeps = {},
  ) {
    this.name = config.name;
    this.environment = config.environment;
    this.region = config.region;
    this.logger = (deps.logger ?? silentLogger()).child({ source: config.name });
    this.credentials = deps.credentials ?? fromNodeProviderChain();
    this.now = deps.now ?? (() => new Date());
    this.ownsClient = !deps.eks;
    this.eks =
      deps.eks ??
      new EKSClient({
        region: config.region,
        credentials: this.credentials,
        ...(config.eksEndpoint ? { endpoint: config.eksEndpoint } : {}),
      });
    this.view = new MergedView(config.name, () => (this.running ? this.sink : undefined));
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.running) return;
    this.sink = sink;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.discovering;
    const clusters = [...this.clusters.values()];
    this.clusters.clear();
    await Promise.all(clusters.map((cluster) => cluster.source.stop()));
    if (this.ownsClient) this.eks.destroy();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.discovering = this.discover().finally(() => {
        this.discovering = undefined;
      });
    }, delayMs);
  }

  /** One discovery round: list, start what is ready, drop what is gone, then plan the next round. */
  private async discover(): Promise<void> {
    let complete = false;
    try {
      const names = this.config.clusterNames ?? (await this.listClusters());
      if (!this.config.clusterNames) await this.dropGone(names);
      const results = await Promise.all(
        names.filter((name) => !this.clusters.has(name)).map((name) => this.tryStart(name)),
      );
      complete = results.every(Boolean);
    } catch (error) {
      this.report(`EKS discovery failed: ${describeError(error)}`, error);
    }
    if (!this.running) return;
    const delay = complete
      ? (this.deps.discoveryIntervalMs ?? 300_000)
      : backoffDelay(this.attempt++, this.deps.backoff ?? { initialMs: 5_000 });
    if (complete) this.attempt = 0;
    this.schedule(delay);
  }

  private async listClusters(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of paginateListClusters({ client: this.eks }, {})) names.push(...(page.clusters ?? []));
    return names;
  }

  private async dropGone(names: readonly string[]): Promise<void> {
    for (const [name, cluster] of this.clusters) {
      if (names.includes(name)) continue;
      this.logger.info({ cluster: name }, 'EKS cluster is gone; dropping its endpoints');
      this.clusters.delete(name);
      await cluster.source.stop();
      this.view.remove(name);
    }
  }

  /** Describes a cluster and starts watching it if it is usable; false when it must be retried. */
  private async tryStart(name: string): Promise<boolean> {
    let cluster: Cluster | undefined;
    try {
      cluster = (await this.eks.send(new DescribeClusterCommand({ name }))).cluster;
    } catch (error) {
      const notFound = error instanceof Error && error.name === 'ResourceNotFoundException';
      this.report(
        notFound ? `EKS cluster "${name}" not found` : `DescribeCluster ${name}: ${describeError(error)}`,
        error,
      );
      return false;
    }
    const endpoint = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (cluster?.status !== 'ACTIVE' || !endpoint || !caData) {
      const why = cluster?.status !== 'ACTIVE' ? `is ${cluster?.status ?? 'unknown'}` : 'has no endpoint or CA yet';
      this.report(`EKS cluster "${name}" ${why}; will retry`, undefined);
      return false;
    }
    if (!this.running || this.clusters.has(name)) return true;
    const source = this.clusterSource(name, endpoint, caData);
    this.clusters.set(name, { source });
    this.logger.info({ cluster: name, endpoint }, 'watching EKS cluster');
    await source.start(this.view.sinkFor(name));
    return true;
  }

  private clusterSource(name: string, endpoint: string, caData: string): KubernetesSource {
    const kubeConfig = eksKubeConfig(
      name,
      endpoint,
      caData,
      new EksTokenCache({
        clusterName: name,
        region: this.region,
        credentials: this.credentials,
        now: this.now,
        ...(this.deps.tokenRefreshMs ? { refreshAfterMs: this.deps.tokenRefreshMs } : {}),
      }),
    );
    return new KubernetesSource({
      ...this.deps.kubernetes,
      // Endpoints name the registered source; the EKS cluster is in their `eks.cluster` label.
      name: this.name,
      kind: 'eks',
      environment: this.environment,
      region: this.region,
      kubeConfig,
      logger: this.logger.child({ cluster: name }),
      ...(this.config.namespaces ? { namespaces: this.config.namespaces } : {}),
      ...(this.deps.backoff ? { backoff: this.deps.backoff } : {}),
    });
  }

  private report(message: string, cause: unknown): void {
    this.logger.warn({ err: cause instanceof Error ? cause.message : undefined }, message);
    if (this.running) this.sink?.failed(new SourceError(this.name, message, { cause }));
  }
}

type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/**
 * A kubeconfig for one EKS cluster. The bearer token comes from a custom authenticator that
 * client-node consults on every request (list and watch), so each reconnect picks up a fresh
 * token once the cached one is old; a static `user.token` would expire after 15 minutes.
 */
export function eksKubeConfig(name: string, endpoint: string, caData: string, tokens: EksTokenCache): KubeConfig {
  const user = `spillway-eks-${name}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name, server: endpoint, caData, skipTLSVerify: false }],
    users: [{ name: user }],
    contexts: [{ name, cluster: name, user }],
    currentContext: name,
  });
  const authenticator: Authenticator = {
    isAuthProvider: (candidate) => candidate.name === user,
    applyAuthentication: async (_user, options) => {
      const headers = (options.headers ?? {}) as Record<string, string | string[] | number | undefined>;
      headers.Authorization = `Bearer ${await tokens.token()}`;
      options.headers = headers;
    },
  };
  kubeConfig.addAuthenticator(authenticator);
  return kubeConfig;
}
