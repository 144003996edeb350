import type { NomadClusterConfig } from '@spillway/config';
import type { Environment } from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import type { BlockingFetch, BlockingTuning } from '../blocking/blocking-query.js';
import { FanOutWatch } from '../blocking/fan-out.js';
import {
  type ApiClient,
  clientTimeoutMs,
  createApiClient,
  formatWait,
  getJson,
  readIndex,
  validate,
} from '../blocking/http.js';
import { WarnOnce } from '../blocking/warn-once.js';
import type { RegistrySource, ServiceEndpoints, SourceSink } from '../source.js';
import { mapNomadRegistrations, nomadServiceIds, parseNomadServiceId } from './nomad-mapping.js';
import { NomadServiceList, NomadServiceRead, type NomadServiceRegistration } from './nomad-schema.js';

export interface NomadSourceDeps {
  readonly logger?: Logger;
  /** Where `tokenEnv` is read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** `perPage` sets `per_page` on service reads. */
  readonly tuning?: BlockingTuning;
}

const INDEX_HEADER = 'X-Nomad-Index';
const NEXT_TOKEN_HEADER = 'X-Nomad-NextToken';
/** A server that hands out tokens forever is broken; stop rather than loop. */
const MAX_PAGES = 10_000;

type FetchRequest = Parameters<BlockingFetch<unknown>>[0];

/**
 * Nomad native service discovery: `/v1/services` lists (namespace, service) pairs, one
 * blocking watch per pair on `/v1/service/:name` gives its registrations, page by page.
 */
export class NomadSource implements RegistrySource {
  readonly kind = 'nomad' as const;
  readonly name: string;
  readonly environment: Environment;
  readonly region: string;
  private readonly logger: Logger;
  private readonly client: ApiClient;
  private readonly waitMs: number;
  private readonly warnings: WarnOnce;
  private watch: FanOutWatch | undefined;

  constructor(
    private readonly config: NomadClusterConfig,
    private readonly deps: NomadSourceDeps = {},
  ) {
    this.name = config.name;
    this.environment = config.environment;
    this.region = config.region;
    this.logger = (deps.logger ?? silentLogger()).child({ source: config.name, kind: 'nomad' });
    this.warnings = new WarnOnce(this.logger);
    const token = config.tokenEnv ? (deps.env ?? process.env)[config.tokenEnv] : undefined;
    this.client = createApiClient(config.address, token ? { 'X-Nomad-Token': token } : {});
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
      list: (request) => this.fetchServices(request),
      item: (id) => (request) => this.fetchRegistrations(id, request),
    });
    this.watch.start();
  }

  async stop(): Promise<void> {
    const watch = this.watch;
    this.watch = undefined;
    await watch?.stop();
    this.client.close();
  }

  private async fetchServices(request: FetchRequest): ReturnType<BlockingFetch<readonly string[]>> {
    const path = '/v1/services';
    const answer = await getJson(this.client.http, {
      path,
      params: { namespace: this.config.nomadNamespace, ...this.blocking(request) },
      timeoutMs: clientTimeoutMs(request.waitMs, this.deps.tuning?.timeoutGraceMs),
      signal: request.signal,
    });
    const index = readIndex(answer, INDEX_HEADER, `GET ${path}`);
    const { ids, skipped } = nomadServiceIds(this.config, validate(NomadServiceList, answer.body, `GET ${path}`));
    for (const reason of skipped) this.warnings.warn(reason);
    return { index, value: ids };
  }

  /**
   * The first page blocks; the following ones (`next_token`) must not, or each would wait for
   * another change. The answer carries the first page's index: if something changed while
   * paging, the next blocking query returns at once and reads it again.
   */
  private async fetchRegistrations(id: string, request: FetchRequest): ReturnType<BlockingFetch<ServiceEndpoints>> {
    const { namespace, service } = parseNomadServiceId(id);
    const path = `/v1/service/${encodeURIComponent(service)}`;
    const what = `GET ${path}?namespace=${namespace}`;
    const base = { namespace, per_page: this.deps.tuning?.perPage };
    const grace = this.deps.tuning?.timeoutGraceMs;
    const first = await getJson(this.client.http, {
      path,
      params: { ...base, ...this.blocking(request) },
      timeoutMs: clientTimeoutMs(request.waitMs, grace),
      signal: request.signal,
      what,
    });
    const index = readIndex(first, INDEX_HEADER, what);
    const registrations: NomadServiceRegistration[] = [...validate(NomadServiceRead, first.body, what)];
    const seen = new Set<string>();
    for (let token = first.header(NEXT_TOKEN_HEADER); token; ) {
      if (seen.has(token) || seen.size >= MAX_PAGES)
        throw new Error(`${what}: pagination does not end (token ${token})`);
      seen.add(token);
      const page = await getJson(this.client.http, {
        path,
        params: { ...base, next_token: token },
        timeoutMs: clientTimeoutMs(0, grace),
        signal: request.signal,
        what: `${what} (next_token ${token})`,
      });
      registrations.push(...validate(NomadServiceRead, page.body, `${what} (next_token ${token})`));
      token = page.header(NEXT_TOKEN_HEADER);
    }
    return { index, value: mapNomadRegistrations(this.config, registrations) };
  }

  private blocking(request: FetchRequest): { index: number; wait: string } {
    return { index: request.index, wait: formatWait(request.waitMs) };
  }
}
