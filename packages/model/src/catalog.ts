import type { Service, ServiceKey } from './service.js';
import type { SourceStatus } from './source.js';

/** One immutable version of the merged catalog. */
export interface CatalogSnapshot {
  readonly version: number;
  readonly services: ReadonlyMap<ServiceKey, Service>;
  readonly sources: readonly SourceStatus[];
}

/** What changed between two catalog versions; `removed` services no longer exist anywhere. */
export interface CatalogChange {
  readonly version: number;
  readonly previousVersion: number;
  readonly changed: readonly ServiceKey[];
  readonly removed: readonly ServiceKey[];
}

/** Read side of the catalog: what the router and the burst controller consume. */
export interface CatalogReader {
  current(): CatalogSnapshot;
  /** Calls `listener` after every new version, in order; returns an unsubscribe function. */
  subscribe(listener: (change: CatalogChange, snapshot: CatalogSnapshot) => void): () => void;
}
