import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';

/**
 * An in-memory Kubernetes API server for EndpointSlices (discovery.k8s.io/v1) and Nodes,
 * speaking what @kubernetes/client-node sends: lists with `metadata.resourceVersion` and
 * `limit`/`continue` pagination, and `?watch=true&resourceVersion=N&allowWatchBookmarks=true`
 * as a chunked stream of `{type, object}` lines. One global, monotonically increasing
 * resourceVersion; a bounded event history; a watch from before the history gets 410 Expired
 * (shape of test/fixtures/k8s-watch-event.error-410-expired.json). Tests program faults.
 *
 * Simplifications: a continued list page is cut from the current state at the first page's
 * resourceVersion (etcd would serve the old snapshot; the watch replay from that version makes
 * the client consistent either way); no field/label selectors; only GET.
 *
 * Deployments (apps/v1), for scaling: `GET .../namespaces/{ns}/deployments/{name}` and the scale
 * subresource `GET|PUT|PATCH .../deployments/{name}/scale` (autoscaling/v1 Scale). A PUT whose
 * `metadata.resourceVersion` is stale is a 409 Conflict, as the apiserver's optimistic
 * concurrency; PATCH takes merge-patch and strategic-merge-patch bodies (`{spec:{replicas}}`) and
 * JSON patch (`replace /spec/replicas`). A change of replicas bumps `metadata.generation`;
 * `status.readyReplicas` follows `spec.replicas` only as the test lets it: `readyStep` replicas
 * per deployment read (default: none, the test calls `advanceDeployment`). `deploymentRequests`
 * is the call log.
 *
 * Custom resources of `spillway.dev/v1alpha1` (`burstpolicies`, `drills`; namespaced, with the
 * status subresource enabled, as the CRDs declare): list and watch like the built-in kinds (all
 * namespaces or one), `POST` to create (status dropped, generation 1, 409 AlreadyExists), `GET`,
 * `PUT` (409 on a stale resourceVersion), `PATCH` (merge-patch) and `DELETE` of one object, and
 * `GET|PUT|PATCH .../{name}/status`. As the apiserver does with a status subresource: a write to
 * the object ignores `status`, a write to `/status` ignores everything but `status`, and
 * `metadata.generation` moves only when `spec` changes; every write that changes something gets a
 * new resourceVersion and a MODIFIED event. Events: `POST /api/v1/namespaces/{ns}/events` (core
 * v1) and `/apis/events.k8s.io/v1/namespaces/{ns}/events` are kept in `events` (422 without a
 * name or generateName).
 */

export type KubeObject = {
  kind?: string;
  apiVersion?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
} & Record<string, unknown>;

type Resource = 'endpointslices' | 'nodes' | 'deployments' | CustomResource;
export type CustomResource = 'burstpolicies' | 'drills';
const CUSTOM_GROUP_VERSION = 'spillway.dev/v1alpha1';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type Target = 'list' | 'watch' | 'deployments' | 'any';

/** A Deployment as the fake keeps it: the fields scaling reads and writes. */
export interface FakeDeployment {
  readonly namespace: string;
  readonly name: string;
  replicas: number;
  readyReplicas: number;
  /**
   * On every GET of the deployment or its scale, readyReplicas moves this many replicas toward
   * spec.replicas (0, the default: only `advanceDeployment` moves it).
   */
  readyStep: number;
}

interface StoredEvent {
  readonly rv: number;
  readonly resource: Resource;
  readonly type: EventType;
  readonly object: KubeObject;
}

interface OpenWatch {
  readonly resource: Resource;
  readonly namespace: string | undefined;
  readonly startRv: number;
  readonly bookmarks: boolean;
  readonly response: ServerResponse;
  readonly timer: NodeJS.Timeout | undefined;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly watch: boolean;
  status: number;
  /** A Deployment scale write (PUT or PATCH): `spec.replicas` as the fake read it from the body. */
  replicas?: number;
}

export interface FakeKubernetesApiOptions {
  /** Serve HTTPS with this key and certificate (EKS tests); plain HTTP otherwise. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Pluggable check of the bearer token: return a reason to reject it, undefined to accept. */
  readonly validateToken?: (token: string) => string | undefined;
  /** How many events the history keeps (default 1000); older watches get 410. */
  readonly historyLimit?: number;
}

const KINDS: Record<Resource, { kind: string; listKind: string; apiVersion: string }> = {
  endpointslices: { kind: 'EndpointSlice', listKind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1' },
  nodes: { kind: 'Node', listKind: 'NodeList', apiVersion: 'v1' },
  deployments: { kind: 'Deployment', listKind: 'DeploymentList', apiVersion: 'apps/v1' },
  burstpolicies: { kind: 'BurstPolicy', listKind: 'BurstPolicyList', apiVersion: CUSTOM_GROUP_VERSION },
  drills: { kind: 'Drill', listKind: 'DrillList', apiVersion: CUSTOM_GROUP_VERSION },
};

/** A minimal core/v1 Node around a labels map (the recorded GKE labels are not a full Node). */
export function nodeObject(name: string, labels: Record<string, string>): KubeObject {
  return { kind: 'Node', apiVersion: 'v1', metadata: { name, labels }, spec: {}, status: {} };
}

/** A v1 Status as the apiserver sends it (body of an error response or of a watch ERROR event). */
export function statusObject(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export class FakeKubernetesApi {
  readonly requests: RequestRecord[] = [];
  /** Bearer tokens received, in order (EKS tests check refresh). */
  readonly tokensSeen: string[] = [];
  /** Delay before answering any request (slow API server). */
  delayMs = 0;
  /** How a watch from a resourceVersion older than the history is refused at connect. */
  expiredWatchMode: 'http' | 'in-band' = 'http';
  private rv = 100;
  /** Watches from a resourceVersion below this are expired. */
  private oldestRv = 100;
  private readonly objects: Record<Resource, Map<string, KubeObject>> = {
    endpointslices: new Map(),
    nodes: new Map(),
    deployments: new Map(),
    burstpolicies: new Map(),
    drills: new Map(),
  };
  /** Events posted (core v1 or events.k8s.io/v1), in order. */
  readonly events: KubeObject[] = [];
  private readonly deploymentState = new Map<string, FakeDeployment>();
  private scaleWriteRaces = 0;
  private history: StoredEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly faults: { status: number; on: Target }[] = [];
  private readonly garbage: { shape: 'non-json' | 'wrong-shape'; on: Target }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeKubernetesApiOptions,
    private readonly sockets: Set<Socket>,
  ) {}

  static async start(options: FakeKubernetesApiOptions = {}): Promise<FakeKubernetesApi> {
    let api: FakeKubernetesApi | undefined;
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      api?.handle(request, response).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    };
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    // closeAllConnections() misses TLS sockets still in their handshake: track raw sockets too.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    api = new FakeKubernetesApi(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, options, sockets);
    return api;
  }

  async close(): Promise<void> {
    for (const watch of this.watches) clearTimeout(watch.timer);
    this.watches.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  // ---- state --------------------------------------------------------------------------

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Creates or replaces an EndpointSlice (namespace `default` when the object has none). */
  upsertSlice(slice: object, namespace = 'default'): KubeObject {
    const object = structuredClone(slice) as KubeObject;
    object.metadata.namespace ??= namespace;
    return this.upsert('endpointslices', object);
  }

  deleteSlice(namespace: string, name: string): void {
    this.remove('endpointslices', `${namespace}/${name}`);
  }

  upsertNode(node: object): KubeObject {
    return this.upsert('nodes', structuredClone(node) as KubeObject);
  }

  deleteNode(name: string): void {
    this.remove('nodes', `/${name}`);
  }

  /**
   * Forgets the event history: any watch from an older resourceVersion gets 410. With
   * `expireOpenWatches`, open watches also receive an in-band ERROR 410 and are closed, as the
   * apiserver does to watchers that fell out of its window.
   */
  compact(options: { expireOpenWatches?: boolean } = {}): void {
    this.history = [];
    this.oldestRv = this.rv;
    if (!options.expireOpenWatches) return;
    for (const watch of [...this.watches]) {
      this.write(watch, { type: 'ERROR', object: this.expired(watch.startRv) });
      this.endWatch(watch);
    }
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for them. */
  sendBookmarks(): void {
    for (const watch of this.watches) {
      if (!watch.bookmarks) continue;
      const { kind, apiVersion } = KINDS[watch.resource];
      this.write(watch, {
        type: 'BOOKMARK',
        object: { kind, apiVersion, metadata: { resourceVersion: this.resourceVersion } },
      });
    }
  }

  /** Destroys the sockets of every open watch mid-stream (no terminating chunk). */
  dropWatches(): void {
    for (const watch of [...this.watches]) {
      clearTimeout(watch.timer);
      this.watches.delete(watch);
      watch.response.socket?.destroy();
    }
  }

  /** Writes a raw line to every open watch (invalid events, garbage). */
  injectWatchLine(line: string): void {
    for (const watch of this.watches) if (!watch.response.destroyed) watch.response.write(`${line}\n`);
  }

  /** The next `count` matching requests fail with a Status body of this HTTP status. */
  failNext(count: number, status = 500, on: Target = 'any'): void {
    for (let i = 0; i < count; i++) this.faults.push({ status, on });
  }

  /** The next `count` matching requests get a 200 whose body is not JSON or not a list. */
  garbageNext(count = 1, shape: 'non-json' | 'wrong-shape' = 'non-json', on: Target = 'any'): void {
    for (let i = 0; i < count; i++) this.garbage.push({ shape, on });
  }

  /** Creates or replaces a Deployment with `replicas` wanted and `readyReplicas` ready (default: all). */
  upsertDeployment(
    deployment: Pick<FakeDeployment, 'namespace' | 'name' | 'replicas'> &
      Partial<Pick<FakeDeployment, 'readyReplicas' | 'readyStep'>>,
  ): KubeObject {
    const state: FakeDeployment = { readyReplicas: deployment.replicas, readyStep: 0, ...deployment };
    this.deploymentState.set(`${state.namespace}/${state.name}`, state);
    return this.storeDeployment(state, true);
  }

  /** The live scaling state of a Deployment (tests read it and may change readyStep). */
  deployment(namespace: string, name: string): FakeDeployment {
    const state = this.deploymentState.get(`${namespace}/${name}`);
    if (!state) throw new Error(`fake kubernetes: no deployment ${namespace}/${name}`);
    return state;
  }

  /** Moves readyReplicas up to `count` replicas toward spec.replicas (default: all the way). */
  advanceDeployment(namespace: string, name: string, count = Number.POSITIVE_INFINITY): void {
    const state = this.deployment(namespace, name);
    if (this.step(state, count)) this.storeDeployment(state, false);
  }

  /**
   * Another writer touches the Deployment just before each of the next `count` scale writes
   * arrive (its resourceVersion moves on), so a PUT carrying the version it read gets 409 Conflict.
   */
  raceNextScaleWrites(count = 1): void {
    this.scaleWriteRaces += count;
  }

  /** Requests for one Deployment or its scale subresource, optionally only one method. */
  deploymentRequests(namespace: string, name: string, method?: string): RequestRecord[] {
    const base = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
    return this.requests.filter(
      (request) =>
        (request.path === base || request.path === `${base}/scale`) && (!method || request.method === method),
    );
  }

  /** Creates a custom object as `kubectl create` would (status dropped, generation 1). */
  createCustomObject(plural: CustomResource, object: object): KubeObject {
    const answer = this.customCreate(plural, structuredClone(object) as KubeObject);
    if (answer.status !== 201) throw new Error(`fake kubernetes: create failed: ${JSON.stringify(answer.body)}`);
    return answer.body as KubeObject;
  }

  /** Edits a custom object as `kubectl edit` would: `status` changes are ignored; a spec change bumps generation. */
  updateCustomObject(plural: CustomResource, namespace: string, name: string, edit: (object: KubeObject) => void) {
    const stored = this.customObject(plural, namespace, name);
    if (!stored) throw new Error(`fake kubernetes: no ${plural} ${namespace}/${name}`);
    edit(stored);
    return this.customWrite(plural, stored, this.objects[plural].get(`${namespace}/${name}`)!, 'object');
  }

  deleteCustomObject(plural: CustomResource, namespace: string, name: string): void {
    this.remove(plural, `${namespace}/${name}`);
  }

  /** A copy of a custom object as stored, or undefined. */
  customObject(plural: CustomResource, namespace: string, name: string): KubeObject | undefined {
    const stored = this.objects[plural].get(`${namespace}/${name}`);
    return stored ? structuredClone(stored) : undefined;
  }

  /** Writes to one custom object's status subresource (the call log), optionally one method. */
  statusRequests(plural: CustomResource, namespace: string, name: string, method?: string): RequestRecord[] {
    const path = `/apis/${CUSTOM_GROUP_VERSION}/namespaces/${namespace}/${plural}/${name}/status`;
    return this.requests.filter((request) => request.path === path && (!method || request.method === method));
  }

  openWatchCount(resource?: Resource): number {
    return [...this.watches].filter((watch) => !resource || watch.resource === resource).length;
  }

  /** Requests for one resource (`endpointslices` or `nodes`), optionally only lists or watches. */
  requestsFor(resource: Resource, kind?: 'list' | 'watch'): RequestRecord[] {
    return this.requests.filter(
      (request) => request.path.endsWith(`/${resource}`) && (!kind || request.watch === (kind === 'watch')),
    );
  }

  private upsert(resource: Resource, object: KubeObject): KubeObject {
    const { kind, apiVersion } = KINDS[resource];
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const existing = this.objects[resource].get(key);
    object.kind = kind;
    object.apiVersion = apiVersion;
    object.metadata.uid = existing?.metadata.uid ?? object.metadata.uid ?? randomUUID();
    object.metadata.creationTimestamp =
      existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    object.metadata.resourceVersion = String(++this.rv);
    this.objects[resource].set(key, object);
    this.record({ rv: this.rv, resource, type: existing ? 'MODIFIED' : 'ADDED', object });
    return structuredClone(object);
  }

  private remove(resource: Resource, key: string): void {
    const existing = this.objects[resource].get(key);
    if (!existing) throw new Error(`fake kubernetes: no ${resource} ${key}`);
    this.objects[resource].delete(key);
    // DELETED carries the object's last state at the deletion's resourceVersion.
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(++this.rv) } };
    this.record({ rv: this.rv, resource, type: 'DELETED', object });
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    const limit = this.options.historyLimit ?? 1000;
    while (this.history.length > limit) {
      const dropped = this.history.shift();
      if (dropped) this.oldestRv = dropped.rv;
    }
    for (const watch of this.watches)
      if (matches(watch, event)) this.write(watch, { type: event.type, object: event.object });
  }

  private expired(requested: number): Record<string, unknown> {
    return statusObject(410, 'Expired', `too old resource version: ${requested} (${this.oldestRv + 1})`);
  }

  // ---- HTTP ---------------------------------------------------------------------------

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const isWatch = query.watch === 'true' || query.watch === '1';
    const record: RequestRecord = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      watch: isWatch,
      status: 0,
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const denied = this.authenticate(request);
    if (denied) return reply(401, statusObject(401, 'Unauthorized', denied));
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const deployment = /^\/apis\/apps\/v1\/namespaces\/([a-z0-9-]+)\/deployments\/([a-z0-9.-]+)(\/scale)?$/.exec(
      url.pathname,
    );
    if (deployment?.[1] && deployment[2]) {
      const fault = takeFirst(this.faults, 'deployments');
      if (fault) return this.replyFault(fault.status, reply);
      const body = record.method === 'PUT' || record.method === 'PATCH' ? await readBody(request) : '';
      const answer = this.deploymentRequest(
        record.method,
        deployment[1],
        deployment[2],
        deployment[3] !== undefined,
        request.headers['content-type'] ?? '',
        body,
        (replicas) => {
          record.replicas = replicas;
        },
      );
      return reply(answer.status, answer.body);
    }
    const custom = CUSTOM_OBJECT_PATH.exec(url.pathname);
    if (custom?.[1] && custom[2] && (custom[3] || record.method === 'POST')) {
      const body = ['PUT', 'PATCH', 'POST'].includes(record.method) ? await readBody(request) : '';
      const answer = this.customRequest(record.method, custom[2] as CustomResource, custom[1], {
        name: custom[3],
        status: custom[4] !== undefined,
        contentType: request.headers['content-type'] ?? '',
        body,
      });
      return reply(answer.status, answer.body);
    }
    const eventsPath = EVENTS_PATH.exec(url.pathname);
    if (eventsPath?.[1] && record.method === 'POST') {
      const answer = this.postEvent(
        eventsPath[1],
        url.pathname.startsWith('/api/v1/') ? 'v1' : 'events.k8s.io/v1',
        await readBody(request),
      );
      return reply(answer.status, answer.body);
    }
    const route = parsePath(url.pathname);
    if (!route || record.method !== 'GET') {
      return reply(404, statusObject(404, 'NotFound', 'the server could not find the requested resource'));
    }
    const target = isWatch ? 'watch' : 'list';
    const fault = takeFirst(this.faults, target);
    if (fault) return this.replyFault(fault.status, reply);
    const junk = takeFirst(this.garbage, target);
    if (junk) return this.replyGarbage(junk.shape, isWatch, reply, record, response);
    if (isWatch) return this.startWatch(route, query, record, response, reply);
    return this.list(route, query, reply);
  }

  private deploymentRequest(
    method: string,
    namespace: string,
    name: string,
    scale: boolean,
    contentType: string,
    body: string,
    written?: (replicas: number) => void,
  ): { status: number; body: unknown } {
    const state = this.deploymentState.get(`${namespace}/${name}`);
    const stored = this.objects.deployments.get(`${namespace}/${name}`);
    if (!state || !stored) {
      return { status: 404, body: statusObject(404, 'NotFound', `deployments.apps "${name}" not found`) };
    }
    if (method === 'GET') {
      if (state.readyStep > 0 && this.step(state, state.readyStep)) this.storeDeployment(state, false);
      const current = this.objects.deployments.get(`${namespace}/${name}`) ?? stored;
      return { status: 200, body: scale ? scaleObject(current) : structuredClone(current) };
    }
    if (!scale || (method !== 'PUT' && method !== 'PATCH')) {
      return { status: 405, body: statusObject(405, 'MethodNotAllowed', `the server does not allow this method`) };
    }
    if (this.scaleWriteRaces > 0) {
      this.scaleWriteRaces--;
      this.storeDeployment(state, false);
    }
    const latest = this.objects.deployments.get(`${namespace}/${name}`) ?? stored;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { status: 400, body: statusObject(400, 'BadRequest', 'the request body is not valid JSON') };
    }
    const replicas = method === 'PUT' ? putReplicas(parsed, latest) : patchReplicas(parsed, contentType);
    if (typeof replicas === 'object') return replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      return {
        status: 422,
        body: statusObject(
          422,
          'Invalid',
          `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}`,
        ),
      };
    }
    written?.(replicas);
    if (replicas !== state.replicas) {
      state.replicas = replicas;
      this.storeDeployment(state, true);
    }
    return { status: 200, body: scaleObject(this.objects.deployments.get(`${namespace}/${name}`) ?? stored) };
  }

  /** Moves readyReplicas toward replicas by up to `count`; true when it moved. */
  private step(state: FakeDeployment, count: number): boolean {
    if (state.readyReplicas === state.replicas) return false;
    const delta = Math.min(count, Math.abs(state.replicas - state.readyReplicas));
    state.readyReplicas += state.replicas > state.readyReplicas ? delta : -delta;
    return true;
  }

  private storeDeployment(state: FakeDeployment, specChanged: boolean): KubeObject {
    const key = `${state.namespace}/${state.name}`;
    const existing = this.objects.deployments.get(key);
    const generation = ((existing?.metadata.generation as number | undefined) ?? 0) + (specChanged ? 1 : 0);
    const labels = { app: state.name };
    return this.upsert('deployments', {
      metadata: { name: state.name, namespace: state.namespace, generation, labels },
      spec: {
        replicas: state.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: state.name, image: `registry.example/${state.name}:1` }] },
        },
      },
      status: {
        observedGeneration: generation,
        replicas: Math.max(state.replicas, state.readyReplicas),
        updatedReplicas: state.replicas,
        readyReplicas: state.readyReplicas,
        availableReplicas: state.readyReplicas,
        ...(state.replicas > state.readyReplicas ? { unavailableReplicas: state.replicas - state.readyReplicas } : {}),
      },
    });
  }

  private customRequest(
    method: string,
    plural: CustomResource,
    namespace: string,
    request: { name: string | undefined; status: boolean; contentType: string; body: string },
  ): Answer {
    let parsed: unknown;
    if (request.body) {
      try {
        parsed = JSON.parse(request.body);
      } catch {
        return { status: 400, body: statusObject(400, 'BadRequest', 'the request body is not valid JSON') };
      }
    }
    if (method === 'POST') {
      const object = (parsed ?? {}) as KubeObject;
      if (object.metadata?.namespace && object.metadata.namespace !== namespace) {
        return {
          status: 400,
          body: statusObject(
            400,
            'BadRequest',
            'the namespace of the object does not match the namespace on the request',
          ),
        };
      }
      return this.customCreate(plural, { ...object, metadata: { ...object.metadata, namespace } });
    }
    const key = `${namespace}/${request.name}`;
    const stored = this.objects[plural].get(key);
    const { kind } = KINDS[plural];
    if (!stored) {
      return { status: 404, body: statusObject(404, 'NotFound', `${plural}.spillway.dev "${request.name}" not found`) };
    }
    if (method === 'GET') return { status: 200, body: structuredClone(stored) };
    if (method === 'DELETE' && !request.status) {
      this.remove(plural, key);
      return { status: 200, body: structuredClone(stored) };
    }
    const part = request.status ? 'status' : 'object';
    if (method === 'PUT') {
      const sent = (parsed as KubeObject | undefined)?.metadata?.resourceVersion;
      if (sent && sent !== stored.metadata.resourceVersion) {
        return {
          status: 409,
          body: statusObject(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${plural}.spillway.dev "${request.name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        };
      }
      return this.customWrite(plural, (parsed ?? {}) as KubeObject, stored, part);
    }
    if (method === 'PATCH') {
      if (!request.contentType.startsWith('application/merge-patch+json')) {
        return {
          status: 415,
          body: statusObject(
            415,
            'UnsupportedMediaType',
            `the fake serves ${kind} PATCH as application/merge-patch+json only (got ${request.contentType})`,
          ),
        };
      }
      return this.customWrite(plural, mergePatch(structuredClone(stored), parsed) as KubeObject, stored, part);
    }
    return { status: 405, body: statusObject(405, 'MethodNotAllowed', 'the server does not allow this method') };
  }

  private customCreate(plural: CustomResource, object: KubeObject): Answer {
    const { kind } = KINDS[plural];
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    if (!name || !namespace) {
      return { status: 422, body: statusObject(422, 'Invalid', `${kind} is invalid: metadata.name: Required value`) };
    }
    if (object.apiVersion !== CUSTOM_GROUP_VERSION || object.kind !== kind) {
      return {
        status: 400,
        body: statusObject(400, 'BadRequest', `expected apiVersion ${CUSTOM_GROUP_VERSION} kind ${kind}`),
      };
    }
    if (this.objects[plural].has(`${namespace}/${name}`)) {
      return {
        status: 409,
        body: statusObject(409, 'AlreadyExists', `${plural}.spillway.dev "${name}" already exists`),
      };
    }
    const { status: _dropped, ...rest } = object;
    rest.metadata = { ...rest.metadata, generation: 1 };
    return { status: 201, body: this.upsert(plural, rest as KubeObject) };
  }

  /**
   * One write to a custom object: `object` writes keep the stored status, `status` writes keep
   * everything but status. The generation moves with the spec only; no change, no new version.
   */
  private customWrite(plural: CustomResource, sent: KubeObject, stored: KubeObject, part: 'object' | 'status'): Answer {
    const next: KubeObject =
      part === 'status'
        ? { ...structuredClone(stored), status: structuredClone(sent.status) }
        : {
            ...structuredClone(sent),
            metadata: { ...structuredClone(sent.metadata), ...identity(stored) },
            status: structuredClone(stored.status),
          };
    if (next.status === undefined) delete next.status;
    const specChanged = !isDeepStrictEqual(next.spec, stored.spec);
    next.metadata.generation = ((stored.metadata.generation as number | undefined) ?? 1) + (specChanged ? 1 : 0);
    next.metadata.resourceVersion = stored.metadata.resourceVersion;
    if (isDeepStrictEqual(next, stored)) return { status: 200, body: structuredClone(stored) };
    return { status: 200, body: this.upsert(plural, next) };
  }

  private postEvent(namespace: string, apiVersion: 'v1' | 'events.k8s.io/v1', text: string): Answer {
    let event: KubeObject;
    try {
      event = JSON.parse(text) as KubeObject;
    } catch {
      return { status: 400, body: statusObject(400, 'BadRequest', 'the request body is not valid JSON') };
    }
    const metadata = (event.metadata ?? {}) as KubeObject['metadata'] & { generateName?: string };
    const name = metadata.name || (metadata.generateName ? `${metadata.generateName}${randomUUID().slice(0, 5)}` : '');
    if (!name) {
      return {
        status: 422,
        body: statusObject(
          422,
          'Invalid',
          'Event is invalid: metadata.name: Required value: name or generateName is required',
        ),
      };
    }
    const stored = {
      ...event,
      kind: 'Event',
      apiVersion,
      metadata: {
        ...metadata,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(++this.rv),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    };
    this.events.push(stored);
    return { status: 201, body: stored };
  }

  private authenticate(request: IncomingMessage): string | undefined {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (token) this.tokensSeen.push(token);
    if (this.options.token !== undefined && token !== this.options.token) return 'Unauthorized';
    if (this.options.validateToken) return token ? this.options.validateToken(token) : 'no bearer token';
    return undefined;
  }

  private replyFault(status: number, reply: (status: number, body: unknown, headers?: Record<string, string>) => void) {
    const reason = REASONS[status] ?? 'Unknown';
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '1' } : {};
    reply(status, statusObject(status, reason, `fake failure injected by the test (${reason})`), headers);
  }

  private replyGarbage(
    shape: 'non-json' | 'wrong-shape',
    isWatch: boolean,
    reply: (status: number, body: unknown) => void,
    record: RequestRecord,
    response: ServerResponse,
  ): void {
    const body =
      shape === 'non-json' ? '<html><body>502 Bad Gateway</body></html>' : '{"kind":"Status","items":"nope"}';
    if (!isWatch) {
      reply(200, body);
      return;
    }
    record.status = 200;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`${body}\n`);
  }

  // Returns whatever reply() returns so that early exits read `return reply(…)`.
  private list(route: Route, query: Record<string, string>, reply: (status: number, body: unknown) => void) {
    const { listKind, apiVersion } = KINDS[route.resource];
    let listRv = this.rv;
    let after = '';
    if (query.continue) {
      const token = decodeContinue(query.continue);
      if (!token) return reply(400, statusObject(400, 'BadRequest', 'continue key is not valid'));
      if (token.rv < this.oldestRv) {
        return reply(
          410,
          statusObject(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          ),
        );
      }
      listRv = token.rv;
      after = token.after;
    }
    const all = [...this.objects[route.resource].entries()]
      .filter(([, object]) => !route.namespace || object.metadata.namespace === route.namespace)
      .sort(([a], [b]) => a.localeCompare(b))
      .filter(([key]) => key > after);
    const limit = Number(query.limit) > 0 ? Number(query.limit) : all.length;
    const page = all.slice(0, limit);
    const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
    if (all.length > limit) {
      metadata.continue = encodeContinue({ rv: listRv, after: page[page.length - 1]?.[0] ?? '' });
      metadata.remainingItemCount = all.length - limit;
    }
    // Items of a list carry no kind/apiVersion: the list's own kind says what they are.
    const items = page.map(([, { kind: _kind, apiVersion: _apiVersion, ...rest }]) => rest);
    reply(200, { kind: listKind, apiVersion, metadata, items });
  }

  private startWatch(
    route: Route,
    query: Record<string, string>,
    record: RequestRecord,
    response: ServerResponse,
    reply: (status: number, body: unknown) => void,
  ) {
    const requested = query.resourceVersion ?? '';
    const fromRv = requested === '' || requested === '0' ? undefined : Number(requested);
    if (fromRv !== undefined && !Number.isInteger(fromRv)) {
      return reply(400, statusObject(400, 'BadRequest', `invalid resource version: ${requested}`));
    }
    const tooOld = fromRv !== undefined && fromRv < this.oldestRv;
    if (tooOld && this.expiredWatchMode === 'http') return reply(410, this.expired(fromRv));
    record.status = 200;
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    const seconds = Number(query.timeoutSeconds);
    const watch: OpenWatch = {
      ...route,
      startRv: fromRv ?? this.rv,
      bookmarks: query.allowWatchBookmarks === 'true',
      response,
      timer: seconds > 0 ? setTimeout(() => this.endWatch(watch), seconds * 1000) : undefined,
    };
    if (tooOld) {
      this.write(watch, { type: 'ERROR', object: this.expired(fromRv) });
      response.end();
      return;
    }
    this.watches.add(watch);
    response.on('close', () => {
      clearTimeout(watch.timer);
      this.watches.delete(watch);
    });
    this.replay(watch, fromRv);
  }

  /** Events after the watch's resourceVersion; without one, the current state as ADDED. */
  private replay(watch: OpenWatch, fromRv: number | undefined): void {
    if (fromRv === undefined) {
      for (const object of this.objects[watch.resource].values()) {
        if (!watch.namespace || object.metadata.namespace === watch.namespace)
          this.write(watch, { type: 'ADDED', object });
      }
      return;
    }
    for (const event of this.history) {
      if (event.rv > fromRv && matches(watch, event)) this.write(watch, { type: event.type, object: event.object });
    }
  }

  private write(watch: OpenWatch, event: { type: string; object: unknown }): void {
    if (watch.response.writableEnded || watch.response.destroyed) return;
    watch.response.write(`${JSON.stringify(event)}\n`);
  }

  private endWatch(watch: OpenWatch): void {
    clearTimeout(watch.timer);
    this.watches.delete(watch);
    watch.response.end();
  }
}

interface Route {
  readonly resource: Resource;
  readonly namespace: string | undefined;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** One custom object (`…/{plural}/{name}`, optionally `/status`) or its namespaced collection. */
const CUSTOM_OBJECT_PATH =
  /^\/apis\/spillway\.dev\/v1alpha1\/namespaces\/([a-z0-9-]+)\/(burstpolicies|drills)(?:\/([a-z0-9.-]+))?(\/status)?$/;
const CUSTOM_COLLECTION_PATH =
  /^\/apis\/spillway\.dev\/v1alpha1\/(?:namespaces\/([a-z0-9-]+)\/)?(burstpolicies|drills)$/;
const EVENTS_PATH = /^\/(?:api\/v1|apis\/events\.k8s\.io\/v1)\/namespaces\/([a-z0-9-]+)\/events$/;

/** What the server sets and a client cannot change through a write. */
function identity(stored: KubeObject): Record<string, unknown> {
  const { name, namespace, uid, creationTimestamp } = stored.metadata;
  return { name, namespace, uid, creationTimestamp };
}

/** RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function parsePath(path: string): Route | undefined {
  if (path === '/apis/discovery.k8s.io/v1/endpointslices') return { resource: 'endpointslices', namespace: undefined };
  if (path === '/api/v1/nodes') return { resource: 'nodes', namespace: undefined };
  const custom = CUSTOM_COLLECTION_PATH.exec(path);
  if (custom?.[2]) return { resource: custom[2] as CustomResource, namespace: custom[1] };
  const namespaced = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/endpointslices$/.exec(path);
  return namespaced?.[1] ? { resource: 'endpointslices', namespace: namespaced[1] } : undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The autoscaling/v1 Scale of a Deployment, as `GET .../scale` returns it. */
function scaleObject(deployment: KubeObject): Record<string, unknown> {
  const spec = deployment.spec as { replicas: number; selector: { matchLabels: Record<string, string> } };
  const status = deployment.status as { replicas: number };
  const { name, namespace, uid, resourceVersion, creationTimestamp } = deployment.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas },
    status: {
      replicas: status.replicas,
      selector: Object.entries(spec.selector.matchLabels)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
    },
  };
}

/** spec.replicas of a PUT Scale, or a Status answer (409 on a stale resourceVersion). */
function putReplicas(body: unknown, stored: KubeObject): number | { status: number; body: unknown } {
  const scale = body as { kind?: unknown; metadata?: { resourceVersion?: unknown }; spec?: { replicas?: unknown } };
  if (scale?.kind !== undefined && scale.kind !== 'Scale') {
    return { status: 400, body: statusObject(400, 'BadRequest', `expected kind Scale, got ${String(scale.kind)}`) };
  }
  const sent = scale?.metadata?.resourceVersion;
  if (sent !== undefined && sent !== '' && sent !== stored.metadata.resourceVersion) {
    return {
      status: 409,
      body: statusObject(
        409,
        'Conflict',
        `Operation cannot be fulfilled on deployments.apps "${stored.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      ),
    };
  }
  return typeof scale?.spec?.replicas === 'number' ? scale.spec.replicas : Number.NaN;
}

/** spec.replicas of a PATCH body (merge/strategic: `{spec:{replicas}}`; JSON patch: `replace /spec/replicas`). */
function patchReplicas(body: unknown, contentType: string): number | { status: number; body: unknown } {
  if (contentType.startsWith('application/json-patch+json')) {
    const operations = Array.isArray(body) ? (body as { op?: unknown; path?: unknown; value?: unknown }[]) : [];
    const replace = operations.find((op) => (op.op === 'replace' || op.op === 'add') && op.path === '/spec/replicas');
    return typeof replace?.value === 'number' ? replace.value : Number.NaN;
  }
  if (
    contentType.startsWith('application/merge-patch+json') ||
    contentType.startsWith('application/strategic-merge-patch+json')
  ) {
    const replicas = (body as { spec?: { replicas?: unknown } })?.spec?.replicas;
    return typeof replicas === 'number' ? replicas : Number.NaN;
  }
  return {
    status: 415,
    body: statusObject(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
    ),
  };
}

function matches(watch: OpenWatch, event: StoredEvent): boolean {
  return event.resource === watch.resource && (!watch.namespace || event.object.metadata.namespace === watch.namespace);
}

function takeFirst<T extends { on: Target }>(queue: T[], target: 'list' | 'watch' | 'deployments'): T | undefined {
  const index = queue.findIndex((item) => item.on === 'any' || item.on === target);
  return index >= 0 ? queue.splice(index, 1)[0] : undefined;
}

function encodeContinue(token: { rv: number; after: string }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(text: string): { rv: number; after: string } | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { rv?: unknown; after?: unknown };
    return typeof token.rv === 'number' && typeof token.after === 'string'
      ? { rv: token.rv, after: token.after }
      : undefined;
  } catch {
    return undefined;
  }
}
