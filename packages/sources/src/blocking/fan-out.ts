import type { Endpoint, ServiceKey } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { type ServiceEndpoints, SourceError, type SourceSink } from '../source.js';
import { type BlockingFetch, BlockingQuery, type BlockingTuning } from './blocking-query.js';

export interface FanOutOptions {
  /** Source name, carried by every SourceError. */
  readonly source: string;
  readonly sink: SourceSink;
  readonly logger: Logger;
  readonly waitMs: number;
  readonly tuning?: BlockingTuning;
  /** The directory: ids of the things to watch (a Consul service, a Nomad namespace+service), sorted. */
  readonly list: BlockingFetch<readonly string[]>;
  /** One thing's endpoints, grouped by Spillway service (one id may feed several keys). */
  readonly item: (id: string) => BlockingFetch<ServiceEndpoints>;
}

interface ItemState {
  readonly query: BlockingQuery<ServiceEndpoints>;
  /** Absent until the first answer: the initial sync waits for every item's first answer. */
  value?: ServiceEndpoints;
}

/**
 * A directory watch that fans out to one blocking watch per listed item, and reports to the
 * sink as the catalog expects: one `replaceAll` once the directory and every item's first
 * answer are in, then `replaceServices` with only the keys an answer changed.
 * Errors are reported and retried by the watches; nothing is ever removed because of one.
 */
export class FanOutWatch {
  private readonly items = new Map<string, ItemState>();
  /** Which items feed a key: two ids may map to one key (`Web` and `web`, Nomad `default`). */
  private readonly owners = new Map<ServiceKey, Set<string>>();
  private readonly stopping = new Set<Promise<void>>();
  private list: BlockingQuery<readonly string[]> | undefined;
  private listed = false;
  private synced = false;

  constructor(private readonly options: FanOutOptions) {}

  start(): void {
    this.list ??= new BlockingQuery<readonly string[]>({
      fetch: this.options.list,
      waitMs: this.options.waitMs,
      tuning: this.options.tuning,
      onChange: (ids) => this.onList(ids),
      onUnchanged: () => this.onAlive(),
      onError: (error, failures, retryInMs) => this.onError(error, failures, retryInMs),
    });
    this.list.start();
  }

  async stop(): Promise<void> {
    const queries = [this.list, ...[...this.items.values()].map((item) => item.query)];
    this.items.clear();
    await Promise.all([...queries.map((query) => query?.stop()), ...this.stopping]);
  }

  private onList(ids: readonly string[]): void {
    const wanted = new Set(ids);
    const changed = new Set<ServiceKey>();
    for (const [id, item] of this.items) {
      if (!wanted.has(id)) for (const key of this.removeItem(id, item)) changed.add(key);
    }
    for (const id of ids) if (!this.items.has(id)) this.addItem(id);
    this.listed = true;
    if (this.synced) this.report(changed);
    else this.maybeSync();
  }

  private addItem(id: string): void {
    const state: ItemState = {
      query: new BlockingQuery<ServiceEndpoints>({
        fetch: this.options.item(id),
        waitMs: this.options.waitMs,
        tuning: this.options.tuning,
        fingerprint: endpointsFingerprint,
        onChange: (value) => this.onItem(id, state, value),
        onUnchanged: () => this.onAlive(),
        onError: (error, failures, retryInMs) => this.onError(error, failures, retryInMs),
      }),
    };
    this.items.set(id, state);
    state.query.start();
  }

  /** Stops an item's watch and returns the keys it fed. */
  private removeItem(id: string, item: ItemState): ServiceKey[] {
    this.items.delete(id);
    const stopped = item.query.stop();
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
    return item.value ? this.detach(id, item.value) : [];
  }

  private onItem(id: string, state: ItemState, value: ServiceEndpoints): void {
    // An answer that raced with the item's removal must not resurrect it.
    if (this.items.get(id) !== state) return;
    const changed = new Set<ServiceKey>(state.value ? this.detach(id, state.value) : []);
    state.value = value;
    for (const key of value.keys()) {
      changed.add(key);
      const owners = this.owners.get(key) ?? new Set<string>();
      owners.add(id);
      this.owners.set(key, owners);
    }
    if (this.synced) this.report(changed);
    else this.maybeSync();
  }

  private detach(id: string, value: ServiceEndpoints): ServiceKey[] {
    const keys = [...value.keys()];
    for (const key of keys) {
      const owners = this.owners.get(key);
      owners?.delete(id);
      if (owners?.size === 0) this.owners.delete(key);
    }
    return keys;
  }

  private endpointsOf(key: ServiceKey): Endpoint[] {
    const endpoints: Endpoint[] = [];
    for (const id of this.owners.get(key) ?? []) endpoints.push(...(this.items.get(id)?.value?.get(key) ?? []));
    return endpoints;
  }

  private report(keys: ReadonlySet<ServiceKey>): void {
    if (keys.size === 0) {
      this.options.sink.alive();
      return;
    }
    const services = new Map<ServiceKey, Endpoint[]>();
    for (const key of keys) services.set(key, this.endpointsOf(key));
    this.options.sink.replaceServices(services);
  }

  private maybeSync(): void {
    if (!this.listed || this.synced) return;
    for (const item of this.items.values()) if (!item.value) return;
    this.synced = true;
    const services = new Map<ServiceKey, Endpoint[]>();
    for (const key of this.owners.keys()) services.set(key, this.endpointsOf(key));
    this.options.sink.replaceAll(services);
  }

  /** Before the first complete view, "alive" would tell the catalog a source is live too early. */
  private onAlive(): void {
    if (this.synced) this.options.sink.alive();
  }

  private onError(error: Error, failures: number, retryInMs: number): void {
    this.options.logger.warn({ source: this.options.source, failures, retryInMs }, error.message);
    this.options.sink.failed(new SourceError(this.options.source, error.message, { cause: error }));
  }
}

/** Content identity of an item's answer; mappers sort endpoints so equal views print equal. */
export function endpointsFingerprint(value: ServiceEndpoints): string {
  return JSON.stringify([...value.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
