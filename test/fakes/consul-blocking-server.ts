import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback } from '../support/http.js';

/**
 * The blocking-query machinery of Consul's HTTP API, which Nomad copied: a raft-like index,
 * `?index=&wait=` long polls, jitter, the index floor of 1, and the failure controls tests
 * need. `FakeConsulApi` and `FakeNomadApi` put their resources on top of it.
 */

/** One request as the server saw it, for assertions on what a client sent. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** `?index=` as a number; undefined when absent. */
  readonly index: number | undefined;
  readonly token: string | undefined;
  readonly at: number;
}

/** What a route reads: its index and, at answer time, its body. */
export interface BlockingRoute {
  /** Index of the state this request reads (the max modify index of its tables or rows). */
  index(): number;
  answer(): { body: unknown; headers?: Record<string, string> };
}

export type RouteResult = BlockingRoute | { readonly status: number; readonly text: string };

export interface BlockingServerOptions {
  /** `X-Consul-Index` or `X-Nomad-Index`. */
  readonly indexHeader: string;
  /** `x-consul-token` or `x-nomad-token` (lowercase). */
  readonly tokenHeader: string;
  /** When set, requests without this token are refused with 403. */
  readonly token?: string;
  readonly forbiddenText: string;
  /** Headers every answer carries (KnownLeader, LastContact, …). */
  readonly staticHeaders: Record<string, string>;
}

const MAX_WAIT_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 5 * 60_000;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration (`5s`, `100ms`, `1m30s`); undefined when Go would reject it. */
export function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return text === '0' ? 0 : undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 0);
  }
  return total;
}

interface Failure {
  remaining: number;
  readonly status: number;
  readonly pathPrefix: string | undefined;
}

/** A well-formed HTTP answer with the wrong content: a body of another shape, a bad index header. */
export interface Malformed {
  /** Replaces the JSON body. */
  readonly body?: unknown;
  /** Replaces the index header's value; null leaves the header out. */
  readonly index?: string | null;
}

export abstract class BlockingApiServer {
  /** The raft index: every write bumps it. */
  index = 1;
  /** Delay added to every answer, after blocking (slow server, timeouts). */
  delayMs = 0;
  /** Answer every query at once, ignoring `index`: the server a client must not hammer. */
  answerImmediately = false;
  /** Add Consul's random wait/16 jitter to blocking waits. */
  jitter = true;
  /**
   * Answer `X-Consul-Index: 0` (a server or proxy bug Consul's docs warn about) instead of
   * flooring the index at 1; with `answerImmediately` the client's index rule is all that is left.
   */
  answerIndexZero = false;
  readonly requests: RequestLogEntry[] = [];
  private readonly waiters = new Set<() => void>();
  private resetEpoch = 0;
  private readonly failures: Failure[] = [];
  private readonly garbage: Failure[] = [];
  private readonly malformed: Array<Failure & { readonly answer: Malformed }> = [];
  private server: Server | undefined;
  private baseUrl = '';

  protected constructor(private readonly options: BlockingServerOptions) {}

  get url(): string {
    return this.baseUrl;
  }

  protected async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.baseUrl = await listenOnLoopback(this.server);
  }

  async close(): Promise<void> {
    this.wakeAll();
    if (this.server) await closeServer(this.server);
  }

  /** The next `count` answers (optionally only for paths under `pathPrefix`) fail with `status`. */
  failNext(count: number, status = 500, pathPrefix?: string): void {
    this.failures.push({ remaining: count, status, pathPrefix });
  }

  /** The next `count` answers are 200s with a truncated JSON body. */
  garbageNext(count = 1, pathPrefix?: string): void {
    this.garbage.push({ remaining: count, status: 200, pathPrefix });
  }

  /** The next answer (optionally only under `pathPrefix`) is a 200 with the given wrong content. */
  malformedNext(answer: Malformed, pathPrefix?: string): void {
    this.malformed.push({ remaining: 1, status: 200, pathPrefix, answer });
  }

  /** Requests whose path starts with `prefix`. */
  requestsTo(prefix: string): RequestLogEntry[] {
    return this.requests.filter((entry) => entry.path.startsWith(prefix));
  }

  /** Raft index goes back (snapshot restore): lower every index to `n` and release every query. */
  resetIndex(n: number): void {
    this.index = n;
    this.resetEpoch++;
    this.lowerIndexes(n);
    this.wakeAll();
  }

  /** Subclasses lower their per-resource indexes on a reset. */
  protected abstract lowerIndexes(n: number): void;
  protected abstract route(path: string, query: URLSearchParams): RouteResult;

  /** A write: bumps the raft index, wakes blocked queries, returns the new index. */
  protected write(): number {
    this.index++;
    this.wakeAll();
    return this.index;
  }

  private wakeAll(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = url.searchParams;
    const token = headerText(req.headers[this.options.tokenHeader]);
    const indexText = query.get('index');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(query),
      index: indexText === null ? undefined : Number(indexText),
      token,
      at: Date.now(),
    });
    if (this.options.token !== undefined && token !== this.options.token) {
      return this.text(res, 403, this.options.forbiddenText);
    }
    const waitMs = query.has('wait') ? parseGoDuration(query.get('wait') ?? '') : DEFAULT_WAIT_MS;
    if (waitMs === undefined) return this.text(res, 400, 'Invalid wait time');
    const minIndex = indexText === null ? 0 : Number(indexText);
    if (!Number.isInteger(minIndex) || minIndex < 0) return this.text(res, 400, 'Invalid index');
    const result = this.route(url.pathname, query);
    if ('status' in result) return this.text(res, result.status, result.text);
    const client = { gone: false };
    res.once('close', () => {
      client.gone = true;
    });
    const open = await this.block(res, client, result, minIndex, Math.min(waitMs, MAX_WAIT_MS));
    if (!open) return;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (client.gone) return;
    this.respond(res, url.pathname, result);
  }

  /** Holds the request while the route's index is ≤ the client's; false if the client left. */
  private async block(
    res: ServerResponse,
    client: { gone: boolean },
    route: BlockingRoute,
    minIndex: number,
    waitMs: number,
  ): Promise<boolean> {
    if (minIndex === 0 || this.answerImmediately) return true;
    const jitterMs = this.jitter ? Math.random() * (waitMs / 16) : 0;
    const deadline = Date.now() + waitMs + jitterMs;
    const epoch = this.resetEpoch;
    // A reset releases every query, as Consul does when a snapshot restore abandons its state store.
    while (!client.gone && route.index() <= minIndex && Date.now() < deadline && this.resetEpoch === epoch) {
      await this.nextWake(deadline - Date.now(), res);
    }
    return !client.gone;
  }

  private nextWake(timeoutMs: number, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      res.once('close', done);
    });
  }

  private respond(res: ServerResponse, path: string, route: BlockingRoute): void {
    const index = this.answerIndexZero ? 0 : Math.max(1, route.index());
    const headers = { ...this.options.staticHeaders, [this.options.indexHeader]: String(index) };
    const failure = take(this.failures, path);
    if (failure) {
      this.text(res, failure.status, `rpc error: fake failure (HTTP ${failure.status})`, headers);
      return;
    }
    if (take(this.garbage, path)) {
      this.text(res, 200, '[{"Node": {"Node": "trunc', headers);
      return;
    }
    const answer = route.answer();
    const malformed = take(this.malformed, path)?.answer;
    if (malformed?.index === null) delete headers[this.options.indexHeader];
    else if (malformed?.index !== undefined) headers[this.options.indexHeader] = malformed.index;
    const body = malformed && 'body' in malformed ? malformed.body : answer.body;
    res.writeHead(200, { 'Content-Type': 'application/json', ...headers, ...answer.headers });
    res.end(JSON.stringify(body));
  }

  private text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(body);
  }
}

/** Takes one from the first matching control, dropping used-up ones. */
function take<T extends Failure>(controls: T[], path: string): T | undefined {
  const control = controls.find((c) => c.remaining > 0 && (!c.pathPrefix || path.startsWith(c.pathPrefix)));
  if (!control) return undefined;
  control.remaining--;
  if (control.remaining === 0) controls.splice(controls.indexOf(control), 1);
  return control;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
