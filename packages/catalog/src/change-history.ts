import type { CatalogChange, ServiceKey } from '@spillway/model';

/** What a follower at some version must fetch to catch up. */
export interface ChangesSince {
  readonly changed: ReadonlySet<ServiceKey>;
  readonly removed: ReadonlySet<ServiceKey>;
}

/**
 * The last `capacity` catalog changes, so a follower (the router as its own process) can catch
 * up with only what changed. A follower older than the oldest kept change must resync fully.
 */
export class ChangeHistory {
  private readonly changes: CatalogChange[] = [];

  constructor(private readonly capacity: number) {}

  record(change: CatalogChange): void {
    this.changes.push(change);
    if (this.changes.length > this.capacity) this.changes.splice(0, this.changes.length - this.capacity);
  }

  /** Net changes after `version`; undefined when they are no longer all kept. */
  since(version: number, currentVersion: number): ChangesSince | undefined {
    if (version === currentVersion) return { changed: new Set(), removed: new Set() };
    if (version > currentVersion) return undefined;
    const first = this.changes[0];
    if (!first || first.previousVersion > version) return undefined;
    const changed = new Set<ServiceKey>();
    const removed = new Set<ServiceKey>();
    for (const change of this.changes) {
      if (change.version <= version) continue;
      for (const key of change.changed) {
        changed.add(key);
        removed.delete(key);
      }
      for (const key of change.removed) {
        removed.add(key);
        changed.delete(key);
      }
    }
    return { changed, removed };
  }
}
