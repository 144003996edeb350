import { randomUUID } from 'node:crypto';
import type {
  CatalogChange,
  CatalogReader,
  CatalogSnapshot,
  Endpoint,
  Environment,
  Service,
  ServiceEndpoints,
  ServiceKey,
  SourceKind,
  SourceSink,
  SourceState,
  SourceStatus,
} from '@spillway/model';
import { type Logger, type Registry, silentLogger } from '@spillway/observability';
import { CatalogMetrics } from './catalog-metrics.js';
import { ChangeHistory, type ChangesSince } from './change-history.js';
import { LayeredMap } from './layered-map.js';
import { type LivenessRecord, sourceState } from './liveness.js';
import { type Contribution, mergeService, sameService } from './merge.js';

export interface CatalogStoreOptions {
  /** Default grace period before a failing source's endpoints are served unhealthy. */
  readonly staleAfterMs: number;
  /** Changes kept for followers (see ChangeHistory). */
  readonly historySize?: number;
  /**
   * Hold the first version until every attached source has delivered a complete view, or this
   * long after the store was made, whichever comes first. Without it the first report publishes
   * at once. The federation sets it: a follower that gets a catalog replaces its own with it, so
   * a first catalog missing a slow source would take that source's services away from every
   * router until it reports. Sources still silent at the deadline are marked failing, and the
   * grace rules (staleAfterMs) run from then.
   */
  readonly initialSyncMs?: number;
  /**
   * Names this store's run of versions (default: a random UUID). Versions restart at 0 with every
   * store, so a follower's index means something only together with the epoch it was counted in.
   */
  readonly epoch?: string;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Injectable clock and timer, for tests of the grace period. */
  readonly now?: () => number;
  readonly setTimer?: (callback: () => void, ms: number) => () => void;
}

export interface SourceDescriptor {
  readonly name: string;
  readonly kind: SourceKind;
  readonly environment: Environment;
  readonly region: string;
  readonly staleAfterMs?: number;
}

interface SourceRecord extends LivenessRecord {
  readonly descriptor: SourceDescriptor;
  readonly graceMs: number;
  services: Map<ServiceKey, readonly Endpoint[]>;
  endpointCount: number;
  synced: boolean;
  lastSyncAt: number | null;
  failingSince: number | null;
  staleSince: number | null;
  lastError: string | null;
  state: SourceState;
  cancelStaleTimer: (() => void) | null;
}

type Listener = (change: CatalogChange, snapshot: CatalogSnapshot) => void;

/**
 * The federated catalog: keeps every source's last reported view, merges the services a report
 * touches (the merge itself is the pure `mergeService`), and publishes a new immutable version
 * with a change event when the merged result really changed. Reports arriving in the same tick
 * are coalesced into one version.
 */
export class CatalogStore implements CatalogReader {
  /** The run its versions are counted in (see CatalogStoreOptions.epoch). */
  readonly epoch: string;
  private readonly sources = new Map<string, SourceRecord>();
  private readonly listeners = new Set<Listener>();
  private readonly waiters = new Set<() => void>();
  private readonly dirty = new Set<ServiceKey>();
  private readonly history: ChangeHistory;
  private readonly logger: Logger;
  private readonly metrics: CatalogMetrics | undefined;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => () => void;
  private services = LayeredMap.empty<ServiceKey, Service>();
  private endpointCount = 0;
  private version = 0;
  private flushScheduled = false;
  private closed = false;
  /** True until the first version may be published (see CatalogStoreOptions.initialSyncMs). */
  private holdingFirstVersion: boolean;
  private cancelInitialSyncTimer: (() => void) | null = null;

  constructor(private readonly options: CatalogStoreOptions) {
    this.epoch = options.epoch ?? randomUUID();
    this.history = new ChangeHistory(options.historySize ?? 4096);
    this.logger = options.logger ?? silentLogger();
    this.metrics = options.registry ? new CatalogMetrics(options.registry) : undefined;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? defaultTimer;
    this.holdingFirstVersion = options.initialSyncMs !== undefined;
    if (options.initialSyncMs !== undefined) {
      const deadlineMs = options.initialSyncMs;
      this.cancelInitialSyncTimer = this.setTimer(() => this.endInitialSync(deadlineMs), deadlineMs);
    }
  }

  /** Registers a source and returns the sink it reports into. */
  attach(descriptor: SourceDescriptor): SourceSink {
    if (this.sources.has(descriptor.name)) throw new Error(`source "${descriptor.name}" is already attached`);
    const record: SourceRecord = {
      descriptor,
      graceMs: descriptor.staleAfterMs ?? this.options.staleAfterMs,
      services: new Map(),
      endpointCount: 0,
      synced: false,
      lastSyncAt: null,
      failingSince: null,
      staleSince: null,
      lastError: null,
      state: 'syncing',
      cancelStaleTimer: null,
    };
    this.sources.set(descriptor.name, record);
    this.metrics?.state(descriptor.name, 'syncing');
    return {
      replaceAll: (services) => this.replaceAll(record, services),
      replaceServices: (services) => this.replaceServices(record, services),
      alive: () => this.succeeded(record),
      failed: (error) => this.failed(record, error),
    };
  }

  current(): CatalogSnapshot {
    return { version: this.version, services: this.services, sources: this.sourceStatuses() };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Net changes after `version`, or undefined when the follower must resync fully. */
  changesSince(version: number): ChangesSince | undefined {
    return this.history.since(version, this.version);
  }

  /** Resolves with the current version once it is past `version`, or when the wait ends. */
  async waitForVersionAfter(version: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    if (this.version !== version || this.closed) return this.version;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
    return this.version;
  }

  /** How many waitForVersionAfter calls wait now (long polls held). */
  waiting(): number {
    return this.waiters.size;
  }

  sourceStatuses(): SourceStatus[] {
    return [...this.sources.values()].map((record) => this.statusOf(record));
  }

  /** True once every attached source has delivered a complete view at least once. */
  allSourcesSynced(): boolean {
    return [...this.sources.values()].every((record) => record.synced);
  }

  /** True while the first version is held for sources that have not reported yet. */
  get awaitingInitialSync(): boolean {
    return this.holdingFirstVersion;
  }

  close(): void {
    this.closed = true;
    this.cancelInitialSyncTimer?.();
    for (const record of this.sources.values()) record.cancelStaleTimer?.();
    for (const wake of [...this.waiters]) wake();
  }

  private replaceAll(record: SourceRecord, services: ServiceEndpoints): void {
    for (const key of record.services.keys()) this.dirty.add(key);
    record.services = new Map();
    record.endpointCount = 0;
    for (const [key, endpoints] of services) {
      if (endpoints.length === 0) continue;
      record.services.set(key, endpoints);
      record.endpointCount += endpoints.length;
      this.dirty.add(key);
    }
    record.synced = true;
    this.metrics?.update(record.descriptor.name);
    this.succeeded(record);
    this.scheduleFlush();
  }

  private replaceServices(record: SourceRecord, services: ServiceEndpoints): void {
    for (const [key, endpoints] of services) {
      record.endpointCount += endpoints.length - (record.services.get(key)?.length ?? 0);
      if (endpoints.length === 0) record.services.delete(key);
      else record.services.set(key, endpoints);
      this.dirty.add(key);
    }
    this.metrics?.update(record.descriptor.name);
    this.succeeded(record);
    this.scheduleFlush();
  }

  private succeeded(record: SourceRecord): void {
    const wasStale = record.state === 'stale';
    record.lastSyncAt = this.now();
    record.failingSince = null;
    record.staleSince = null;
    record.cancelStaleTimer?.();
    record.cancelStaleTimer = null;
    this.metrics?.synced(record.descriptor.name, record.lastSyncAt);
    this.refreshState(record);
    if (wasStale) {
      this.logger.info({ source: record.descriptor.name }, 'source recovered; its endpoints are served again');
      this.markAllDirty(record);
    }
  }

  private failed(record: SourceRecord, error: Error): void {
    record.lastError = error.message;
    this.metrics?.error(record.descriptor.name);
    if (record.failingSince !== null) return;
    record.failingSince = this.now();
    this.logger.warn({ source: record.descriptor.name, err: error.message }, 'source failing; keeping its endpoints');
    this.refreshState(record);
    record.cancelStaleTimer = this.setTimer(() => this.expireGrace(record), record.graceMs);
  }

  private expireGrace(record: SourceRecord): void {
    record.cancelStaleTimer = null;
    if (record.failingSince === null || this.closed) return;
    record.staleSince = this.now();
    this.refreshState(record);
    this.logger.warn(
      { source: record.descriptor.name, failingSince: new Date(record.failingSince).toISOString() },
      'source stale past its grace period; serving its endpoints as unhealthy',
    );
    this.markAllDirty(record);
  }

  private refreshState(record: SourceRecord): void {
    const state = record.staleSince !== null ? 'stale' : sourceState(record, this.now(), Number.POSITIVE_INFINITY);
    if (state === record.state) return;
    record.state = state;
    this.metrics?.state(record.descriptor.name, state);
  }

  private markAllDirty(record: SourceRecord): void {
    for (const key of record.services.keys()) this.dirty.add(key);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.dirty.size === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * The initial-sync deadline passed with sources still silent: they count as failing from now
   * (their grace period starts), and what the others reported is published.
   */
  private endInitialSync(deadlineMs: number): void {
    this.cancelInitialSyncTimer = null;
    if (!this.holdingFirstVersion || this.closed) return;
    const silent = [...this.sources.values()].filter((record) => !record.synced);
    this.logger.warn(
      { sources: silent.map((record) => record.descriptor.name), deadlineMs },
      'initial sync deadline passed; publishing the catalog without the sources that have not reported',
    );
    this.holdingFirstVersion = false;
    for (const record of silent) {
      this.failed(record, new Error(`no complete report within the initial-sync deadline (${deadlineMs / 1000} s)`));
    }
    this.scheduleFlush();
  }

  /** Re-merges the dirty services and publishes a version if any of them changed. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.holdingFirstVersion) {
      // Reports wait in `dirty` until every source has reported (or the deadline passes).
      if (!this.allSourcesSynced()) return;
      this.holdingFirstVersion = false;
      this.cancelInitialSyncTimer?.();
      this.cancelInitialSyncTimer = null;
    }
    const updated = new Map<ServiceKey, Service>();
    const removed: ServiceKey[] = [];
    for (const key of this.dirty) {
      const merged = mergeService(key, this.contributionsFor(key));
      const previous = this.services.get(key);
      if (sameService(previous, merged)) continue;
      this.endpointCount += (merged?.endpoints.length ?? 0) - (previous?.endpoints.length ?? 0);
      if (merged) updated.set(key, merged);
      else removed.push(key);
    }
    this.dirty.clear();
    if (updated.size === 0 && removed.length === 0) return;
    this.publish(this.services.derive(updated, removed), [...updated.keys()], removed);
  }

  private publish(services: LayeredMap<ServiceKey, Service>, changed: ServiceKey[], removed: ServiceKey[]): void {
    const change: CatalogChange = { version: this.version + 1, previousVersion: this.version, changed, removed };
    this.services = services;
    this.version = change.version;
    this.history.record(change);
    this.metrics?.catalog(this.version, services.size, this.endpointCount);
    const snapshot = this.current();
    for (const listener of this.listeners) {
      try {
        listener(change, snapshot);
      } catch (error) {
        this.logger.error({ err: error }, 'catalog listener failed');
      }
    }
    for (const wake of [...this.waiters]) wake();
  }

  private contributionsFor(key: ServiceKey): Contribution[] {
    const contributions: Contribution[] = [];
    for (const record of this.sources.values()) {
      const endpoints = record.services.get(key);
      if (endpoints) contributions.push({ source: record.descriptor.name, state: record.state, endpoints });
    }
    return contributions;
  }

  private statusOf(record: SourceRecord): SourceStatus {
    return {
      name: record.descriptor.name,
      kind: record.descriptor.kind,
      environment: record.descriptor.environment,
      region: record.descriptor.region,
      state: record.state,
      lastSyncAt: isoOrNull(record.lastSyncAt),
      failingSince: isoOrNull(record.failingSince),
      staleSince: isoOrNull(record.staleSince),
      lastError: record.lastError,
      serviceCount: record.services.size,
      endpointCount: record.endpointCount,
    };
  }
}

function isoOrNull(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

function defaultTimer(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
