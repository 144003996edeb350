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

/** How current a catalog followed from elsewhere is: where its content came from and when it matched. */
export interface CatalogFreshness {
  /** `none`: nothing yet; `snapshot`: loaded from a file, not yet confirmed; `federation`: from the feed. */
  readonly origin: 'none' | 'snapshot' | 'federation';
  /** When the content was last known to match the federation's (for a snapshot: as saved). */
  readonly syncedAt: Date | null;
  /** True while the change feed is followed (the last poll succeeded): the content is current. */
  readonly live: boolean;
}
