import type { ConsulClusterConfig } from '@spillway/config';
import type { Environment } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import type { BlockingFetch, BlockingTuning } from '../blocking/blocking-query.js';
import { FanOutWatch } from '../blocking/fan-out.js';
import {
  type ApiClient,
  clientTimeoutMs,
  createApiClient,
  formatWait,
  type GetJsonRequest,
  getJson,
  readIndex,
  validate,
} from '../blocking/http.js';
import { WarnOnce } from '../blocking/warn-once.js';
import type { RegistrySource, ServiceEndpoints, SourceSink } from '../source.js';
import { mapConsulEntries, spillwayServiceName } from './consul-mapping.js';
import { ConsulCatalogServices, ConsulHealthService } from './consul-schema.js';

export interface ConsulSourceDeps {
  readonly logger?: Logger;
  /** Where `tokenEnv` is read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly tuning?: BlockingTuning;
}

const INDEX_HEADER = 'X-Consul-Index';

type FetchRequest = Parameters<BlockingFetch<unknown>>[0];

/**
 * A Consul datacenter: `/v1/catalog/services` names the services, one blocking watch per
 * service on `/v1/health/service/:name` gives their instances and checks.
 */
export class ConsulSource implements RegistrySource {
  readonly kind = 'consul' as const;
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  private readonly logger: Logger;
  private readonly client: ApiClient;
  private readonly waitMs: number;
  private readonly warnings: WarnOnce;
  private watch: FanOutWatch | undefined;

  constructor(
    private readonly config: ConsulClusterConfig,
    private readonly deps: ConsulSourceDeps = {},
  ) {
    this.name = config.name;
    this.environment = config.environment;
    this.region = config.region;
    this.logger = (deps.logger ?? silentLogger()).child({ source: config.name, kind: 'consul' });
    this.warnings = new WarnOnce(this.logger);
    const token = config.tokenEnv ? (deps.env ?? process.env)[config.tokenEnv] : undefined;
    this.client = createApiClient(config.address, token ? { 'X-Consul-Token': token } : {});
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
      list: (request) => this.fetchCatalog(request),
      item: (consulName) => (request) => this.fetchHealth(consulName, request),
    });
    this.watch.start();
  }

  async stop(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.stop();
    this.client.close();
  }

  private async fetchCatalog(request: FetchRequest): ReturnType<BlockingFetch<readonly string[]>> {
    const path = '/v1/catalog/services';
    const answer = await getJson(this.client.http, this.request(path, request));
    const index = readIndex(answer, INDEX_HEADER, `GET ${path}`);
    const services = validate(ConsulCatalogServices, answer.body, `GET ${path}`);
    return { index, value: this.watchedNames(Object.keys(services)) };
  }

  private async fetchHealth(consulName: string, request: FetchRequest): ReturnType<BlockingFetch<ServiceEndpoints>> {
    const path = `/v1/health/service/${encodeURIComponent(consulName)}`;
    const answer = await getJson(this.client.http, this.request(path, request));
    const index = readIndex(answer, INDEX_HEADER, `GET ${path}`);
    const entries = validate(ConsulHealthService, answer.body, `GET ${path}`);
    const mapping = mapConsulEntries(this.config, entries);
    for (const reason of mapping.skipped) this.warnings.warn(reason);
    return { index, value: mapping.endpoints };
  }

  private request(path: string, request: FetchRequest): GetJsonRequest {
    return {
      path,
      params: { dc: this.config.datacenter, index: request.index, wait: formatWait(request.waitMs) },
      timeoutMs: clientTimeoutMs(request.waitMs, this.deps.tuning?.timeoutGraceMs),
      signal: request.signal,
    };
  }

  /** Consul names that map to a valid Spillway name, sorted; the others are skipped with a warning. */
  private watchedNames(names: readonly string[]): string[] {
    const watched: string[] = [];
    for (const consulName of names) {
      if (spillwayServiceName(consulName)) watched.push(consulName);
      else this.warnings.warn(`service "${consulName}" skipped: its lowercased name is not a DNS label`);
    }
    return watched.sort();
  }
}
