import { randomUUID } from 'node:crypto';
import { fixtureJson } from '../fixtures/index.js';
import { BlockingApiServer, type RouteResult } from './consul-blocking-server.js';

export type { RequestLogEntry } from './consul-blocking-server.js';

export type ConsulCheckStatus = 'passing' | 'warning' | 'critical';

/** Shapes of `consul-health-service.docs.json`, the template every answer is built from. */
interface HealthEntry {
  Node: Record<string, unknown> & { Node: string; Address: string; Datacenter: string };
  Service: Record<string, unknown> & { ID: string; Service: string; Port: number };
  Checks: Array<Record<string, unknown> & { CheckID: string; Status: ConsulCheckStatus }>;
}

const TEMPLATE = fixtureJson<HealthEntry[]>('consul-health-service.docs.json')[0]!;
const SERVICE_CHECK_TEMPLATE = TEMPLATE.Checks[0]!;
const NODE_CHECK_TEMPLATE = TEMPLATE.Checks[1]!;

/** An instance to register; every field left out comes from the docs sample (node `foobar`, `redis`). */
export interface ConsulInstanceSpec {
  readonly service?: string;
  /** Service ID; default: the service name, then `name-2`, `name-3`… if taken. */
  readonly id?: string;
  readonly node?: string;
  readonly nodeAddress?: string;
  readonly datacenter?: string;
  readonly nodeMeta?: Record<string, string>;
  /** '' means "use the node's address", as in Consul. */
  readonly address?: string;
  readonly port?: number;
  readonly tags?: string[];
  readonly meta?: Record<string, string>;
  /** null: registered without weights (Consul then reports none). */
  readonly weights?: { Passing: number; Warning: number } | null;
  /** Status of the instance's own check `service:<id>`. */
  readonly status?: ConsulCheckStatus;
}

interface Check {
  readonly CheckID: string;
  readonly Name: string;
  Status: ConsulCheckStatus;
  readonly Notes: string;
}

interface FakeNode {
  readonly fields: HealthEntry['Node'];
  readonly checks: Map<string, Check>;
}

interface FakeInstance {
  readonly service: HealthEntry['Service'];
  readonly node: string;
  readonly checks: Map<string, Check>;
}

/**
 * An in-memory Consul catalog over HTTP: `/v1/catalog/services` and `/v1/health/service/:name`
 * with blocking queries. Each service keeps its own modify index (as Consul's per-service
 * max index); the catalog list moves only on registrations and deregistrations.
 */
export class FakeConsulApi extends BlockingApiServer {
  private readonly nodes = new Map<string, FakeNode>();
  private readonly instances = new Map<string, FakeInstance>();
  private readonly serviceIndex = new Map<string, number>();
  private catalogIndex = 1;

  private constructor(
    token: string | undefined,
    private readonly datacenter: string,
  ) {
    super({
      indexHeader: 'X-Consul-Index',
      tokenHeader: 'x-consul-token',
      token,
      forbiddenText: 'ACL not found',
      staticHeaders: {
        'X-Consul-KnownLeader': 'true',
        'X-Consul-LastContact': '0',
        'X-Consul-Effective-Consistency': 'leader',
      },
    });
  }

  /** Starts on 127.0.0.1:0. With `token`, every request must carry it in `X-Consul-Token`. */
  static async start(options: { token?: string; datacenter?: string } = {}): Promise<FakeConsulApi> {
    const fake = new FakeConsulApi(options.token, options.datacenter ?? TEMPLATE.Node.Datacenter);
    await fake.listen();
    return fake;
  }

  /** Registers (or re-registers) an instance with a `service:<id>` check and the node's `serfHealth`. */
  register(spec: ConsulInstanceSpec = {}): string {
    const name = spec.service ?? TEMPLATE.Service.Service;
    const id = spec.id ?? this.freeId(name);
    const nodeName = spec.node ?? TEMPLATE.Node.Node;
    this.ensureNode(nodeName, spec);
    const service = {
      ...structuredClone(TEMPLATE.Service),
      ID: id,
      Service: name,
      Tags: spec.tags ?? TEMPLATE.Service.Tags,
      Address: spec.address ?? TEMPLATE.Service.Address,
      Meta: spec.meta ?? TEMPLATE.Service.Meta,
      Port: spec.port ?? TEMPLATE.Service.Port,
      Weights: spec.weights === undefined ? TEMPLATE.Service.Weights : spec.weights,
    };
    if (service.Weights === null) delete service.Weights;
    const checks = new Map<string, Check>();
    checks.set(`service:${id}`, {
      CheckID: `service:${id}`,
      Name: `Service '${name}' check`,
      Status: spec.status ?? 'passing',
      Notes: '',
    });
    this.instances.set(id, { service, node: nodeName, checks });
    this.catalogIndex = this.touchService(name);
    return id;
  }

  deregister(id: string): void {
    const instance = this.mustGet(id);
    this.instances.delete(id);
    this.catalogIndex = this.touchService(instance.service.Service);
  }

  /** Sets a service check (default `service:<id>`), adding it if new. */
  setCheck(id: string, status: ConsulCheckStatus, checkId = `service:${id}`): void {
    const instance = this.mustGet(id);
    const existing = instance.checks.get(checkId);
    if (existing) existing.Status = status;
    else instance.checks.set(checkId, { CheckID: checkId, Name: checkId, Status: status, Notes: '' });
    this.touchService(instance.service.Service);
  }

  /** `consul maint -service=<id>`: a critical `_service_maintenance:<id>` check. */
  setMaintenance(id: string, enabled: boolean, reason = 'spillway test'): void {
    const instance = this.mustGet(id);
    const checkId = `_service_maintenance:${id}`;
    if (enabled) {
      instance.checks.set(checkId, {
        CheckID: checkId,
        Name: 'Service Maintenance Mode',
        Status: 'critical',
        Notes: reason,
      });
    } else instance.checks.delete(checkId);
    this.touchService(instance.service.Service);
  }

  /** Node checks (`serfHealth`, or `_node_maintenance` for node maintenance) affect every service on it. */
  setNodeCheck(node: string, status: ConsulCheckStatus | undefined, checkId = 'serfHealth'): void {
    const fake = this.nodes.get(node);
    if (!fake) throw new Error(`fake consul: no node ${node}`);
    if (status === undefined) fake.checks.delete(checkId);
    else fake.checks.set(checkId, { CheckID: checkId, Name: checkId, Status: status, Notes: '' });
    this.write();
    for (const instance of this.instances.values()) {
      if (instance.node === node) this.serviceIndex.set(instance.service.Service, this.index);
    }
  }

  /** An idempotent write: the index moves, nothing else (a blocking query returns without a change). */
  touch(service?: string): void {
    if (service) this.touchService(service);
    else this.catalogIndex = this.write();
  }

  protected lowerIndexes(n: number): void {
    this.catalogIndex = Math.min(this.catalogIndex, n);
    for (const [name, index] of this.serviceIndex) this.serviceIndex.set(name, Math.min(index, n));
  }

  protected route(path: string, query: URLSearchParams): RouteResult {
    const dc = query.get('dc');
    if (dc !== null && dc !== this.datacenter) return { status: 500, text: `No path to datacenter` };
    if (path === '/v1/catalog/services') {
      return { index: () => this.catalogIndex, answer: () => ({ body: this.catalogServices() }) };
    }
    const match = /^\/v1\/health\/service\/([^/]+)$/.exec(path);
    if (match) {
      const name = decodeURIComponent(match[1]!);
      const passingOnly = query.has('passing');
      return {
        index: () => this.serviceIndex.get(name) ?? this.catalogIndex,
        answer: () => ({ body: this.healthService(name, passingOnly) }),
      };
    }
    return { status: 404, text: `Invalid URL path: not a recognized HTTP API endpoint` };
  }

  private catalogServices(): Record<string, string[]> {
    const services: Record<string, Set<string>> = {};
    for (const { service } of this.instances.values()) {
      const tags = services[service.Service] ?? new Set<string>();
      services[service.Service] = tags;
      for (const tag of (service.Tags as string[] | undefined) ?? []) tags.add(tag);
    }
    return Object.fromEntries(Object.entries(services).map(([name, tags]) => [name, [...tags].sort()]));
  }

  private healthService(name: string, passingOnly: boolean): HealthEntry[] {
    const entries: HealthEntry[] = [];
    for (const instance of this.instances.values()) {
      if (instance.service.Service !== name) continue;
      const node = this.nodes.get(instance.node)!;
      const checks = [
        ...[...instance.checks.values()].map((check) => this.checkJson(check, node, instance)),
        ...[...node.checks.values()].map((check) => this.checkJson(check, node, undefined)),
      ];
      if (passingOnly && checks.some((check) => check.Status !== 'passing')) continue;
      entries.push({ Node: structuredClone(node.fields), Service: structuredClone(instance.service), Checks: checks });
    }
    return entries.sort((a, b) => (a.Node.Node + a.Service.ID < b.Node.Node + b.Service.ID ? -1 : 1));
  }

  private checkJson(check: Check, node: FakeNode, instance: FakeInstance | undefined): HealthEntry['Checks'][number] {
    const template = instance ? SERVICE_CHECK_TEMPLATE : NODE_CHECK_TEMPLATE;
    return {
      ...structuredClone(template),
      Node: node.fields.Node,
      CheckID: check.CheckID,
      Name: check.Name,
      Status: check.Status,
      Notes: check.Notes,
      ServiceID: instance?.service.ID ?? '',
      ServiceName: instance?.service.Service ?? '',
      ServiceTags: (instance?.service.Tags as string[] | undefined) ?? [],
    };
  }

  private ensureNode(name: string, spec: ConsulInstanceSpec): void {
    if (this.nodes.has(name)) return;
    const address = spec.nodeAddress ?? TEMPLATE.Node.Address;
    const fields = {
      ...structuredClone(TEMPLATE.Node),
      ID: name === TEMPLATE.Node.Node ? TEMPLATE.Node.ID : randomUUID(),
      Node: name,
      Address: address,
      Datacenter: spec.datacenter ?? this.datacenter,
      TaggedAddresses: { lan: address, wan: address },
      Meta: spec.nodeMeta ?? TEMPLATE.Node.Meta,
    };
    const checks = new Map<string, Check>([
      ['serfHealth', { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Notes: '' }],
    ]);
    this.nodes.set(name, { fields, checks });
  }

  private touchService(name: string): number {
    const index = this.write();
    this.serviceIndex.set(name, index);
    return index;
  }

  private freeId(name: string): string {
    if (!this.instances.has(name)) return name;
    for (let n = 2; ; n++) if (!this.instances.has(`${name}-${n}`)) return `${name}-${n}`;
  }

  private mustGet(id: string): FakeInstance {
    const instance = this.instances.get(id);
    if (!instance) throw new Error(`fake consul: no service instance ${id}`);
    return instance;
  }
}
