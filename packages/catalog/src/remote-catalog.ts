import type { Agent as HttpsAgent } from 'node:https';
import { CatalogDelta } from '@spillway/api';
import {
  type CatalogChange,
  type CatalogFreshness,
  type CatalogReader,
  type CatalogSnapshot,
  type Service,
  type ServiceKey,
  serviceKey,
} from '@spillway/model';
import { type Logger, silentLogger } from '@spillway/observability';
import axios, { type AxiosInstance } from 'axios';
import pRetry from 'p-retry';
import type { z } from 'zod';
import { LayeredMap } from './layered-map.js';

// The federation's answer, as its route declares it (packages/api), except that a federation
// from before epochs sends none: it is followed as before (and never sent an epoch, which its
// strict query would refuse).
const ChangesResponse = CatalogDelta.extend({ epoch: CatalogDelta.shape.epoch.optional() });
type ChangesResponse = z.infer<typeof ChangesResponse>;

export interface RemoteCatalogOptions {
  /** Base URL of the federation service, e.g. http://127.0.0.1:7070. */
  readonly url: string;
  readonly logger?: Logger;
  /** Long-poll wait the server may hold a request for. */
  readonly waitSeconds?: number;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /**
   * For an https:// federation: the agent (trusted CA, client certificate) each poll uses; asked
   * on every poll, so a rotated client certificate is presented on the next connection.
   */
  readonly httpsAgent?: { current(): HttpsAgent };
}

type Listener = (change: CatalogChange, snapshot: CatalogSnapshot) => void;

/**
 * The catalog of a federation service in another process, followed through its long-poll
 * change feed. It keeps serving its last good catalog while the federation is unreachable or
 * answers garbage, and resyncs fully when the federation restarts or it fell too far behind.
 * Its own version counts the changes it applied; `remoteIndex` is the federation's, counted in
 * `remoteEpoch` (the federation's run): it polls with both, and an index of another run (the
 * federation restarted, or another replica answered) gets the whole catalog, never a delta.
 * Version 0 means no catalog yet: an answer at index 0 (a federation whose sources have not
 * reported, e.g. just restarted) is not a catalog and never replaces one. A catalog saved
 * earlier can be `seed`ed before the first sync; the first answer with a catalog replaces it.
 */
export class RemoteCatalog implements CatalogReader {
  private readonly http: AxiosInstance;
  private readonly logger: Logger;
  private readonly listeners = new Set<Listener>();
  private readonly abort = new AbortController();
  private services = LayeredMap.empty<ServiceKey, Service>();
  private version = 0;
  private loop: Promise<void> | undefined;
  remoteIndex = 0;
  /** The federation run `remoteIndex` was counted in; undefined before the first answer. */
  remoteEpoch: string | undefined;
  /** True while the last poll succeeded. */
  connected = false;
  lastError: string | null = null;
  private origin: CatalogFreshness['origin'] = 'none';
  private syncedAt: Date | null = null;

  constructor(private readonly options: RemoteCatalogOptions) {
    const waitSeconds = options.waitSeconds ?? 30;
    this.http = axios.create({ baseURL: options.url, timeout: (waitSeconds + 10) * 1000 });
    this.logger = options.logger ?? silentLogger();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  current(): CatalogSnapshot {
    return { version: this.version, services: this.services, sources: [] };
  }

  freshness(): CatalogFreshness {
    return { origin: this.origin, syncedAt: this.syncedAt, live: this.connected && this.origin === 'federation' };
  }

  /**
   * Serves `services` (a catalog saved earlier, confirmed at `syncedAt`) until the federation
   * answers with its own. Only before the first sync; false (and nothing changes) after it.
   */
  seed(services: readonly Service[], syncedAt: Date): boolean {
    if (this.version !== 0) return false;
    this.origin = 'snapshot';
    this.syncedAt = syncedAt;
    this.publish(new Map(services.map((service) => [serviceKey(service.name, service.namespace), service])), []);
    return true;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async run(): Promise<void> {
    const backoff = this.options.backoff ?? { minMs: 200, maxMs: 10_000 };
    while (!this.abort.signal.aborted) {
      const response = await pRetry(() => this.poll(), {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: backoff.minMs,
        maxTimeout: backoff.maxMs,
        randomize: true,
        signal: this.abort.signal,
        onFailedAttempt: ({ error }) => this.failed(error),
      }).catch((error: unknown) => {
        if (!this.abort.signal.aborted) throw error;
        return undefined;
      });
      if (response) this.apply(response);
    }
  }

  private async poll(): Promise<ChangesResponse> {
    const wait = `${this.options.waitSeconds ?? 30}s`;
    const { data } = await this.http.get('/v1/catalog/changes', {
      params: { index: this.remoteIndex, wait, ...(this.remoteEpoch ? { epoch: this.remoteEpoch } : {}) },
      signal: this.abort.signal,
      ...(this.options.httpsAgent ? { httpsAgent: this.options.httpsAgent.current() } : {}),
    });
    const parsed = ChangesResponse.safeParse(data);
    if (!parsed.success) throw new Error(`federation answered an invalid change feed: ${parsed.error.message}`);
    if (!this.connected) this.logger.info({ url: this.options.url }, 'following the federation catalog');
    this.connected = true;
    this.lastError = null;
    return parsed.data;
  }

  private failed(error: Error): void {
    if (this.abort.signal.aborted) return;
    if (this.connected || this.lastError === null) {
      this.logger.warn(
        { url: this.options.url, err: error.message },
        this.version === 0
          ? 'federation unreachable; no catalog yet (xDS waits)'
          : 'federation unreachable; serving the last catalog',
      );
    }
    this.connected = false;
    this.lastError = error.message;
  }

  private apply(response: ChangesResponse): void {
    if (this.remoteEpoch !== undefined && response.epoch !== this.remoteEpoch) {
      this.logger.info({ url: this.options.url, index: response.index }, 'another federation run answered; resyncing');
    }
    this.remoteEpoch = response.epoch;
    if (response.index === 0) {
      // No catalog there (yet): its empty reset says nothing. The next poll at 0 waits for one.
      if (this.remoteIndex !== 0) {
        this.logger.warn({ url: this.options.url }, 'the federation has no catalog yet (restarted?); keeping ours');
      }
      this.remoteIndex = 0;
      return;
    }
    this.remoteIndex = response.index;
    this.syncedAt = new Date();
    if (this.origin !== 'federation') {
      if (this.origin === 'snapshot') this.logger.info('the federation answered: its catalog replaces the snapshot');
      this.origin = 'federation';
    }
    const updated = new Map(response.services.map((service) => [serviceKey(service.name, service.namespace), service]));
    const removed = new Set(response.removed);
    if (response.reset) for (const key of this.services.keys()) if (!updated.has(key)) removed.add(key);
    const present = [...removed].filter((key) => this.services.has(key));
    if (updated.size === 0 && present.length === 0) return;
    this.publish(updated, present);
  }

  private publish(updated: ReadonlyMap<ServiceKey, Service>, present: readonly ServiceKey[]): void {
    this.services = this.services.derive(updated, present);
    const change: CatalogChange = {
      version: this.version + 1,
      previousVersion: this.version,
      changed: [...updated.keys()],
      removed: present,
    };
    this.version = change.version;
    const snapshot = this.current();
    for (const listener of this.listeners) listener(change, snapshot);
  }
}
