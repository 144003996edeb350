/**
 * What one stream watches of one type URL: some names, everything (wildcard), or both. The
 * stream keeps it in step with its subscription; the source tells it when any of them changes.
 */
export interface ResourceWatch {
  /** Start hearing about `name` (no-op if already watched). */
  add(name: string): void;
  /** Stop hearing about `name` (no-op if not watched). */
  remove(name: string): void;
  setWildcard(wildcard: boolean): void;
  /** The stream is gone (or re-watches with another view): forget it everywhere. */
  cancel(): void;
}

/** Told when a watch starts or stops covering something (the view cache counts views in use). */
export interface WatchHooks {
  added(name: string): void;
  removed(name: string): void;
  wildcard(on: boolean): void;
}

type OnChange = (names: ReadonlySet<string>) => void;

/**
 * Which watches cover which names, so a change reaches the watches it concerns and no other:
 * the work of a change is proportional to the streams that watch the changed names, not to
 * every open stream.
 */
export class WatchIndex {
  private readonly byName = new Map<string, Set<IndexedWatch>>();
  private readonly wildcards = new Set<IndexedWatch>();
  private open = 0;

  /** Opens a watch that hears, through `onChange`, the changed names it covers. */
  watch(onChange: OnChange, hooks?: WatchHooks): ResourceWatch {
    this.open++;
    return new IndexedWatch(this, onChange, hooks);
  }

  /** Open watches. */
  get size(): number {
    return this.open;
  }

  /** Watches covering `name` (wildcards not included). */
  watchers(name: string): number {
    return this.byName.get(name)?.size ?? 0;
  }

  /** Tells every watch that covers any of `names` which of them changed (a wildcard: all of them). */
  notify(names: ReadonlySet<string>): void {
    if (names.size === 1) {
      this.notifyAll(names);
      return;
    }
    const affected = new Map<IndexedWatch, ReadonlySet<string>>();
    for (const watch of this.wildcards) affected.set(watch, names);
    for (const name of names) {
      for (const watch of this.byName.get(name) ?? []) {
        const covered = affected.get(watch);
        if (covered === names) continue;
        if (covered) (covered as Set<string>).add(name);
        else affected.set(watch, new Set([name]));
      }
    }
    // Collected first: a watch's answer must not see (or miss) watches its own handling changes.
    for (const [watch, covered] of affected) watch.changed(covered);
  }

  /**
   * One changed name (the common case: one service's endpoints or policy): every watch that
   * covers it covers exactly `names`, so it is passed as it is, with no per-watch set.
   */
  private notifyAll(names: ReadonlySet<string>): void {
    const [name] = names as ReadonlySet<string> & Iterable<string>;
    const named = this.byName.get(name!);
    // Collected first, as in `notify`.
    const affected: IndexedWatch[] = named ? [...named] : [];
    for (const watch of this.wildcards) if (!named?.has(watch)) affected.push(watch);
    for (const watch of affected) watch.changed(names);
  }

  /** @internal bookkeeping for IndexedWatch. */
  link(name: string, watch: IndexedWatch): void {
    let watches = this.byName.get(name);
    if (!watches) {
      watches = new Set();
      this.byName.set(name, watches);
    }
    watches.add(watch);
  }

  /** @internal */
  unlink(name: string, watch: IndexedWatch): void {
    const watches = this.byName.get(name);
    if (!watches?.delete(watch)) return;
    if (watches.size === 0) this.byName.delete(name);
  }

  /** @internal */
  linkWildcard(watch: IndexedWatch, on: boolean): void {
    if (on) this.wildcards.add(watch);
    else this.wildcards.delete(watch);
  }

  /** @internal */
  closed(): void {
    this.open--;
  }
}

class IndexedWatch implements ResourceWatch {
  private readonly names = new Set<string>();
  private wildcard = false;
  private cancelled = false;

  constructor(
    private readonly index: WatchIndex,
    private readonly onChange: OnChange,
    private readonly hooks: WatchHooks | undefined,
  ) {}

  add(name: string): void {
    if (this.cancelled || this.names.has(name)) return;
    this.names.add(name);
    this.index.link(name, this);
    this.hooks?.added(name);
  }

  remove(name: string): void {
    if (!this.names.delete(name)) return;
    this.index.unlink(name, this);
    this.hooks?.removed(name);
  }

  setWildcard(wildcard: boolean): void {
    if (this.cancelled || wildcard === this.wildcard) return;
    this.wildcard = wildcard;
    this.index.linkWildcard(this, wildcard);
    this.hooks?.wildcard(wildcard);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.setWildcard(false);
    for (const name of [...this.names]) this.remove(name);
    this.cancelled = true;
    this.index.closed();
  }

  changed(names: ReadonlySet<string>): void {
    if (!this.cancelled) this.onChange(names);
  }
}
