import type { ConsulClusterConfig } from '@spillway/config';
import type { BlockingFetch } from '../blocking/blocking-query.js';
import {
  BlockingRegistrySource,
  type BlockingSourceDeps,
  type FetchRequest,
} from '../blocking/blocking-registry-source.js';
import { clientTimeoutMs, formatWait, type GetJsonRequest, getJson, readIndex, validate } from '../blocking/http.js';
import type { ServiceEndpoints } from '../source.js';
import { mapConsulEntries, spillwayServiceName } from './consul-mapping.js';
import { ConsulCatalogServices, ConsulHealthService } from './consul-schema.js';

export type ConsulSourceDeps = BlockingSourceDeps;

const INDEX_HEADER = 'X-Consul-Index';

/**
 * A Consul datacenter: `/v1/catalog/services` names the services, one blocking watch per
 * service on `/v1/health/service/:name` gives their instances and checks.
 */
export class ConsulSource extends BlockingRegistrySource {
  constructor(
    private readonly config: ConsulClusterConfig,
    deps: ConsulSourceDeps = {},
  ) {
    super('consul', config, 'X-Consul-Token', deps);
  }

  protected override async fetchList(request: FetchRequest): ReturnType<BlockingFetch<readonly string[]>> {
    const path = '/v1/catalog/services';
    const answer = await getJson(this.client.http, this.request(path, request));
    const index = readIndex(answer, INDEX_HEADER, `GET ${path}`);
    const services = validate(ConsulCatalogServices, answer.body, `GET ${path}`);
    return { index, value: this.watchedNames(Object.keys(services)) };
  }

  protected override async fetchItem(
    consulName: string,
    request: FetchRequest,
  ): ReturnType<BlockingFetch<ServiceEndpoints>> {
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
