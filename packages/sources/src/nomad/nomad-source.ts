import type { NomadClusterConfig } from '@spillway/config';
import type { BlockingFetch } from '../blocking/blocking-query.js';
import {
  BlockingRegistrySource,
  type BlockingSourceDeps,
  type FetchRequest,
} from '../blocking/blocking-registry-source.js';
import { clientTimeoutMs, formatWait, getJson, readIndex, validate } from '../blocking/http.js';
import type { ServiceEndpoints } from '../source.js';
import { mapNomadRegistrations, nomadServiceIds, parseNomadServiceId } from './nomad-mapping.js';
import { NomadServiceList, NomadServiceRead, type NomadServiceRegistration } from './nomad-schema.js';

export type NomadSourceDeps = BlockingSourceDeps;

const INDEX_HEADER = 'X-Nomad-Index';
const NEXT_TOKEN_HEADER = 'X-Nomad-NextToken';
/** A server that hands out tokens forever is broken; stop rather than loop. */
const MAX_PAGES = 10_000;

/**
 * Nomad native service discovery: `/v1/services` lists (namespace, service) pairs, one
 * blocking watch per pair on `/v1/service/:name` gives its registrations, page by page.
 */
export class NomadSource extends BlockingRegistrySource {
  constructor(
    private readonly config: NomadClusterConfig,
    deps: NomadSourceDeps = {},
  ) {
    super('nomad', config, 'X-Nomad-Token', deps);
  }

  protected override async fetchList(request: FetchRequest): ReturnType<BlockingFetch<readonly string[]>> {
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
  protected override async fetchItem(id: string, request: FetchRequest): ReturnType<BlockingFetch<ServiceEndpoints>> {
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
