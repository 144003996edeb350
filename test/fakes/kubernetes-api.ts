import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

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
 */

export type KubeObject = {
  kind?: string;
  apiVersion?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
} & Record<string, unknown>;

type Resource = 'endpointslices' | 'nodes';
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type Target = 'list' | 'watch' | 'any';

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
  private readonly objects: Record<Resource, Map<string, KubeObject>> = { endpointslices: new Map(), nodes: new Map() };
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

function parsePath(path: string): Route | undefined {
  if (path === '/apis/discovery.k8s.io/v1/endpointslices') return { resource: 'endpointslices', namespace: undefined };
  if (path === '/api/v1/nodes') return { resource: 'nodes', namespace: undefined };
  const namespaced = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/endpointslices$/.exec(path);
  return namespaced?.[1] ? { resource: 'endpointslices', namespace: namespaced[1] } : undefined;
}

function matches(watch: OpenWatch, event: StoredEvent): boolean {
  return event.resource === watch.resource && (!watch.namespace || event.object.metadata.namespace === watch.namespace);
}

function takeFirst<T extends { on: Target }>(queue: T[], target: 'list' | 'watch'): T | undefined {
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
