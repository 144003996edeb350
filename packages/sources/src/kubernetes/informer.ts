import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from '@spillway/observability';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { describeError, WatchStreamClosed } from './errors.js';
import { describeIssues, KubeList, KubeObject, Status, WatchEvent } from './schema.js';

/** A watch that ends this soon without delivering an event counts as a failed attempt. */
const QUICK_END_MS = 1_000;

export type ObjectEvent = 'add' | 'update' | 'delete';

/** What an informer tells its owner. */
export interface InformerHooks {
  /** An object entered, changed in or left the cache (from a list or a watch event). */
  onObject(event: ObjectEvent, object: KubernetesObject): void;
  /** A (re)list has been applied to the cache: the cache is now complete. */
  onSynced(): void;
  /** A contact that changed nothing: a bookmark or a resumed watch. */
  onAlive(): void;
  /** A failed contact; the runner retries by itself. */
  onFailure(message: string, cause: unknown): void;
}

export interface InformerOptions {
  /** For logs and messages, e.g. `endpointslices` or `endpointslices in ns "demo"`. */
  readonly label: string;
  readonly kubeConfig: KubeConfig;
  /** Watch path, e.g. `/apis/discovery.k8s.io/v1/endpointslices`. */
  readonly path: string;
  /** Fetches one list page through the generated API client. */
  readonly listPage: (limit: number, continueToken: string | undefined) => Promise<unknown>;
  readonly pageSize: number;
  readonly backoff: BackoffOptions;
  /** Server-side watch timeout per request; the informer then resumes from its resourceVersion. */
  readonly watchTimeoutSeconds: () => number;
  readonly logger: Logger;
  readonly hooks: InformerHooks;
}

/**
 * Runs one client-node ListWatch and makes up for what it leaves to its caller (see the
 * comments on `GuardedWatch` for the details of client-node 1.4):
 * - it stops for good on any error except 410: we restart it with backoff + jitter, and
 *   `start()` resumes from the last resourceVersion (no relist) unless a 410 cleared it;
 * - it never tells when a list is complete: the list is applied right before `watch()` is
 *   called, so the guarded watch reports `onSynced` at that moment;
 * - it does not validate lists: a 200 with a Status or garbage body would empty the cache.
 *
 * We build the ListWatch ourselves instead of `makeInformer` (which is exactly
 * `new ListWatch(path, new Watch(kc), list, false)`) to hand it the guarded watch.
 */
export class InformerRunner {
  /** True from the start of a list until the list has been applied to the cache. */
  listing = false;
  synced = false;
  private readonly watch: GuardedWatch;
  private readonly informer: ListWatch<KubernetesObject>;
  private stopped = true;
  private attempt = 0;
  private quickDrops = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: InformerOptions) {
    this.watch = new GuardedWatch(options.kubeConfig, this, options);
    this.informer = new ListWatch(options.path, this.watch, () => this.listAll(), false);
    const { hooks } = options;
    this.informer.on('add', (object) => hooks.onObject('add', object));
    this.informer.on('update', (object) => hooks.onObject('update', object));
    this.informer.on('delete', (object) => hooks.onObject('delete', object));
    this.informer.on('error', (error: unknown) => this.onError(error));
  }

  /** Starts listing and watching in the background; failures go to `onFailure` and are retried. */
  start(): void {
    this.stopped = false;
    this.watch.stopped = false;
    this.restart();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch.stop();
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** Called by the guarded watch: the list (if any) is applied and a watch is about to open. */
  beforeWatch(): void {
    if (!this.listing) return;
    this.listing = false;
    this.synced = true;
    this.options.hooks.onSynced();
  }

  /** Called by the guarded watch once a stream is open (HTTP 200). */
  connected(resumed: boolean): void {
    this.attempt = 0;
    if (resumed) this.options.hooks.onAlive();
  }

  private onError(error: unknown): void {
    this.listing = false;
    if (this.stopped) return;
    if (error instanceof WatchStreamClosed && this.routineClose(error)) {
      this.options.logger.debug({ informer: this.options.label, err: error.message }, 'watch closed; resuming');
      this.scheduleRestart(0);
      return;
    }
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.options.hooks.onFailure(`${this.options.label}: ${describeError(error)}; retrying in ${delay} ms`, error);
    this.scheduleRestart(delay);
  }

  /**
   * A stream that breaks after it has been open is routine (apiserver restarts, load balancer
   * idle cuts): resume at once without reporting. Only streams that keep breaking right after
   * they open, without delivering anything, count as failures and back off.
   */
  private routineClose(error: WatchStreamClosed): boolean {
    if (error.eventCount > 0 || error.livedMs >= QUICK_END_MS) this.quickDrops = 0;
    else this.quickDrops++;
    return this.quickDrops <= 1;
  }

  private scheduleRestart(delayMs: number): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.restart(), delayMs);
  }

  private restart(): void {
    if (this.stopped) return;
    // start() settles only once a watch is open; it rejects when the request cannot even be
    // built (e.g. an EKS token that cannot be minted), which is a failure like any other.
    this.informer.start().catch((error: unknown) => this.onError(error));
  }

  /** Lists every page and validates the envelope; throws rather than hand the cache a bad list. */
  private async listAll(): Promise<KubernetesListObject<KubernetesObject>> {
    this.listing = true;
    const items: KubernetesObject[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    do {
      const page = KubeList.safeParse(await this.options.listPage(this.options.pageSize, continueToken));
      if (!page.success) throw new Error(`malformed list response (${describeIssues(page.error)})`);
      // A paginated list is one snapshot at the first page's resourceVersion.
      resourceVersion ??= page.data.metadata.resourceVersion;
      continueToken = page.data.metadata._continue || page.data.metadata.continue || undefined;
      for (const item of page.data.items) this.keepValid(item, items);
    } while (continueToken);
    return { metadata: { resourceVersion }, items };
  }

  private keepValid(item: unknown, items: KubernetesObject[]): void {
    const parsed = KubeObject.safeParse(item);
    // ListWatch dereferences metadata.name/namespace without checks: never hand it less.
    if (parsed.success) items.push(item as KubernetesObject);
    else
      this.options.logger.warn(
        { informer: this.options.label, issues: describeIssues(parsed.error) },
        'skipping invalid object',
      );
  }
}

/**
 * The library's Watch with what client-node 1.4 does not do by itself:
 * - requests bookmarks (`allowWatchBookmarks=true`; ListWatch only sends resourceVersion) and a
 *   server-side `timeoutSeconds`, as client-go does, so a silently dead stream is replaced;
 * - validates each event before ListWatch sees it: ListWatch's handler is async and
 *   dereferences `obj.metadata`/`obj.code`, so a wrong-shape line would be an unhandled rejection;
 * - surfaces bookmarks and in-band ERROR events, which ListWatch swallows (on an in-band 410 it
 *   clears its resourceVersion and relists when the server closes the stream);
 * - tags errors of an established stream (ListWatch treats them like connect errors and stops);
 * - slows down reconnects when streams end at once without events (garbage bodies: the
 *   library ignores lines that are not JSON and reconnects immediately on a clean end);
 * - refuses to open a watch after stop() (ListWatch opens one after a list that was in flight)
 *   and aborts one that was still connecting when stop() came.
 */
class GuardedWatch extends Watch {
  stopped = false;
  private quickEnds = 0;
  private throttle: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  constructor(
    config: KubeConfig,
    private readonly runner: InformerRunner,
    private readonly options: InformerOptions,
  ) {
    super(config);
  }

  stop(): void {
    this.stopped = true;
    if (this.throttle) {
      clearTimeout(this.throttle.timer);
      this.throttle.resolve();
    }
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    // biome-ignore lint/suspicious/noExplicitAny: the library's own callback signature
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    // biome-ignore lint/suspicious/noExplicitAny: the library's own callback signature
    done: (err: any) => void,
  ): Promise<AbortController> {
    const resumed = !this.runner.listing;
    this.runner.beforeWatch();
    if (this.quickEnds > 0) await this.pause(backoffDelay(this.quickEnds - 1, this.options.backoff));
    if (this.stopped) return abortedController();
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.options.watchTimeoutSeconds() };
    const stream = { openedAt: Date.now(), events: 0, open: false, ended: false };
    const controller = await super.watch(
      path,
      params,
      (phase, object, raw) => this.onLine(stream, phase, object, raw, callback),
      (error: unknown) => {
        stream.ended = true;
        done(this.onDone(stream, error));
      },
    );
    stream.open = true;
    // ListWatch.stop() aborts only the request it already holds, not one still connecting.
    if (this.stopped) controller.abort();
    else if (!stream.ended) this.runner.connected(resumed);
    return controller;
  }

  private onLine(
    stream: { events: number },
    phase: string,
    object: unknown,
    raw: unknown,
    forward: (phase: string, object: unknown, raw: unknown) => void,
  ): void {
    const event = WatchEvent.safeParse(raw);
    if (!event.success) {
      this.options.logger.warn(
        { informer: this.options.label, issues: describeIssues(event.error) },
        'skipping invalid watch event',
      );
      return;
    }
    stream.events++;
    this.quickEnds = 0;
    if (event.data.type === 'BOOKMARK') this.options.hooks.onAlive();
    if (event.data.type === 'ERROR') this.onErrorEvent(event.data.object);
    forward(phase, object, raw);
  }

  private onErrorEvent(object: unknown): void {
    const status = Status.safeParse(object);
    const code = status.success ? status.data.code : undefined;
    const message = status.success ? `${status.data.reason ?? ''}: ${status.data.message ?? ''}` : 'no Status';
    if (code === 410) {
      this.options.logger.info({ informer: this.options.label, message }, 'watch history expired; relisting');
      return;
    }
    this.options.hooks.onFailure(`${this.options.label}: watch ERROR event ${code ?? ''} ${message}`.trim(), object);
  }

  private onDone(stream: { openedAt: number; events: number; open: boolean }, error: unknown): unknown {
    const livedMs = Date.now() - stream.openedAt;
    if (!error && stream.events === 0 && livedMs < QUICK_END_MS) {
      this.quickEnds++;
      if (this.quickEnds >= 2) {
        this.options.hooks.onFailure(
          `${this.options.label}: watch ended ${this.quickEnds} times in a row without a valid event`,
          undefined,
        );
      }
    }
    if (error && stream.open && !this.stopped) return new WatchStreamClosed(livedMs, stream.events, { cause: error });
    return error;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.throttle = undefined;
        resolve();
      }, ms);
      this.throttle = { timer, resolve };
    });
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}
