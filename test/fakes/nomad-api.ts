import { randomUUID } from 'node:crypto';
import { fixtureJson } from '../fixtures/index.js';
import { BlockingApiServer, type RouteResult } from './consul-blocking-server.js';

export type { RequestLogEntry } from './consul-blocking-server.js';

/** Shape of `nomad-service-read.docs.json`: the template of every registration. */
interface ServiceRegistration {
  Address: string;
  AllocID: string;
  CreateIndex: number;
  Datacenter: string;
  ID: string;
  JobID: string;
  ModifyIndex: number;
  Namespace: string;
  NodeID: string;
  Port: number;
  ServiceName: string;
  Tags: string[];
}

interface ServiceListEntry {
  Namespace: string;
  Services: Array<{ ServiceName: string; Tags: string[] }>;
}

const TEMPLATE = fixtureJson<ServiceRegistration[]>('nomad-service-read.docs.json')[0]!;
/** Checked at load: the list fixture is the shape `/v1/services` answers with. */
const LIST_TEMPLATE = fixtureJson<ServiceListEntry[]>('nomad-services-list.docs.json')[0]!;

/** A registration to add; fields left out come from the docs sample (`example-cache-redis`). */
export interface NomadRegistrationSpec {
  readonly service?: string;
  readonly namespace?: string;
  readonly address?: string;
  readonly port?: number;
  readonly datacenter?: string;
  readonly nodeId?: string;
  readonly jobId?: string;
  readonly allocId?: string;
  readonly tags?: string[];
}

/**
 * In-memory Nomad native service discovery over HTTP: `/v1/services` and `/v1/service/:name`
 * with blocking queries on the service-registrations table index (Nomad uses the table index
 * for both, so every write wakes every watcher), and `per_page` / `next_token` pagination.
 */
export class FakeNomadApi extends BlockingApiServer {
  private readonly registrations = new Map<string, ServiceRegistration>();
  private tableIndex = 0;

  private constructor(token: string | undefined) {
    super({
      indexHeader: 'X-Nomad-Index',
      tokenHeader: 'x-nomad-token',
      token,
      forbiddenText: 'Permission denied',
      staticHeaders: { 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' },
    });
  }

  /** Starts on 127.0.0.1:0. With `token`, every request must carry it in `X-Nomad-Token`. */
  static async start(options: { token?: string } = {}): Promise<FakeNomadApi> {
    const fake = new FakeNomadApi(options.token);
    await fake.listen();
    return fake;
  }

  /** Registers a service of a running allocation; returns the registration ID. */
  register(spec: NomadRegistrationSpec = {}): string {
    const allocId = spec.allocId ?? randomUUID();
    const service = spec.service ?? TEMPLATE.ServiceName;
    const index = this.write();
    const registration: ServiceRegistration = {
      ...structuredClone(TEMPLATE),
      Address: spec.address ?? TEMPLATE.Address,
      AllocID: allocId,
      CreateIndex: index,
      Datacenter: spec.datacenter ?? TEMPLATE.Datacenter,
      ID: `_nomad-task-${allocId}-redis-${service}-db`,
      JobID: spec.jobId ?? TEMPLATE.JobID,
      ModifyIndex: index,
      Namespace: spec.namespace ?? TEMPLATE.Namespace,
      NodeID: spec.nodeId ?? TEMPLATE.NodeID,
      Port: spec.port ?? TEMPLATE.Port,
      ServiceName: service,
      Tags: spec.tags ?? TEMPLATE.Tags,
    };
    this.registrations.set(registration.ID, registration);
    this.tableIndex = index;
    return registration.ID;
  }

  /** The allocation stopped: Nomad removes its registrations. */
  deregister(id: string): void {
    if (!this.registrations.delete(id)) throw new Error(`fake nomad: no registration ${id}`);
    this.tableIndex = this.write();
  }

  /** An idempotent write to the table: the index moves, the content does not. */
  touch(): void {
    this.tableIndex = this.write();
  }

  protected lowerIndexes(n: number): void {
    this.tableIndex = Math.min(this.tableIndex, n);
  }

  protected route(path: string, query: URLSearchParams): RouteResult {
    const namespace = query.get('namespace') ?? 'default';
    if (path === '/v1/services') {
      return { index: () => this.tableIndex, answer: () => ({ body: this.serviceList(namespace) }) };
    }
    const match = /^\/v1\/service\/([^/]+)$/.exec(path);
    if (!match) return { status: 404, text: 'Invalid URL path' };
    const perPage = query.has('per_page') ? Number(query.get('per_page')) : 0;
    if (!Number.isInteger(perPage) || perPage < 0) return { status: 400, text: 'Invalid per_page' };
    const name = decodeURIComponent(match[1]!);
    const nextToken = query.get('next_token') ?? '';
    return { index: () => this.tableIndex, answer: () => this.servicePage(name, namespace, perPage, nextToken) };
  }

  private serviceList(namespace: string): ServiceListEntry[] {
    const byNamespace = new Map<string, Map<string, Set<string>>>();
    for (const registration of this.registrations.values()) {
      if (!matches(namespace, registration.Namespace)) continue;
      const services = byNamespace.get(registration.Namespace) ?? new Map<string, Set<string>>();
      byNamespace.set(registration.Namespace, services);
      const tags = services.get(registration.ServiceName) ?? new Set<string>();
      services.set(registration.ServiceName, tags);
      for (const tag of registration.Tags) tags.add(tag);
    }
    return [...byNamespace.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([ns, services]) => ({
        ...structuredClone(LIST_TEMPLATE),
        Namespace: ns,
        Services: [...services.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([ServiceName, tags]) => ({ ServiceName, Tags: [...tags].sort() })),
      }));
  }

  /** Nomad's paginator: items ordered by ID; the token is the ID the next page starts at. */
  private servicePage(name: string, namespace: string, perPage: number, nextToken: string) {
    const all = [...this.registrations.values()]
      .filter((r) => r.ServiceName === name && matches(namespace, r.Namespace))
      .sort((a, b) => (a.ID < b.ID ? -1 : 1));
    const from = all.filter((r) => r.ID >= nextToken);
    const page = perPage > 0 ? from.slice(0, perPage) : from;
    const next = perPage > 0 ? from[perPage] : undefined;
    return { body: structuredClone(page), headers: next ? { 'X-Nomad-NextToken': next.ID } : undefined };
  }
}

function matches(query: string, namespace: string): boolean {
  return query === '*' || query === namespace;
}
