import type { Environment, SourceKind } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import type { RegistrySource, ServiceEndpoints, SourceSink } from '../source.js';
import type { BlockingFetch, BlockingTuning } from './blocking-query.js';
import { FanOutWatch } from './fan-out.js';
import { type ApiClient, createApiClient } from './http.js';
import { WarnOnce } from './warn-once.js';

export interface BlockingSourceDeps {
  readonly logger?: Logger;
  /** Where `tokenEnv` is read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly tuning?: BlockingTuning;
}

/** What a Consul- or Nomad-style cluster config has in common. */
export interface BlockingClusterConfig {
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  readonly address: string;
  readonly tokenEnv?: string | undefined;
  readonly waitSeconds: number;
}

export type FetchRequest = Parameters<BlockingFetch<unknown>>[0];

/**
 * A registry read with blocking queries: one watch on the list of services fanning out to one
 * watch per service. Subclasses say how to read the list and one service; the lifecycle, the
 * token and the HTTP client are here.
 */
export abstract class BlockingRegistrySource implements RegistrySource {
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  protected readonly logger: Logger;
  protected readonly client: ApiClient;
  protected readonly waitMs: number;
  protected readonly warnings: WarnOnce;
  private watch: FanOutWatch | undefined;

  protected constructor(
    readonly kind: SourceKind,
    config: BlockingClusterConfig,
    tokenHeader: string,
    protected readonly deps: BlockingSourceDeps,
  ) {
    this.name = config.name;
    this.environment = config.environment;
    this.region = config.region;
    this.logger = (deps.logger ?? silentLogger()).child({ source: config.name, kind });
    this.warnings = new WarnOnce(this.logger);
    const token = config.tokenEnv ? (deps.env ?? process.env)[config.tokenEnv] : undefined;
    this.client = createApiClient(config.address, token ? { [tokenHeader]: token } : {});
    this.waitMs = deps.tuning?.waitMs ?? config.waitSeconds * 1_000;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.watch) return;
    this.watch = new FanOutWatch({
      source: this.name,
      sink,
      logger: this.logger,
      waitMs: this.waitMs,
      tuning: this.deps.tuning,
      list: (request) => this.fetchList(request),
      item: (id) => (request) => this.fetchItem(id, request),
    });
    this.watch.start();
  }

  async stop(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.stop();
    this.client.close();
  }

  /** The ids of the services to watch, with the list's blocking index. */
  protected abstract fetchList(request: FetchRequest): ReturnType<BlockingFetch<readonly string[]>>;

  /** One service's endpoints, with its blocking index. */
  protected abstract fetchItem(id: string, request: FetchRequest): ReturnType<BlockingFetch<ServiceEndpoints>>;
}
