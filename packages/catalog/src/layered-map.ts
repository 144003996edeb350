const REMOVED = Symbol('removed');

/**
 * An immutable map that is cheap to derive a new version from: a shared, never-mutated base
 * plus a small overlay of the keys changed since the base was built. Deriving copies only the
 * overlay; when the overlay outgrows `maxOverlay` it is folded into a new base. Each catalog
 * version is one of these, so old snapshots stay valid without copying 10,000 services per
 * change.
 */
export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly overlay: ReadonlyMap<K, V | typeof REMOVED>,
    readonly size: number,
    private readonly maxOverlay: number,
  ) {}

  /** Without `maxOverlay`, the overlay may grow to about √size: O(√n) work per change. */
  static empty<K, V>(maxOverlay?: number): LayeredMap<K, V> {
    return new LayeredMap<K, V>(new Map(), new Map(), 0, maxOverlay ?? 0);
  }

  /** A new map with `set` entries written and `remove` keys deleted; this one is unchanged. */
  derive(set: ReadonlyMap<K, V>, remove: Iterable<K>): LayeredMap<K, V> {
    const overlay = new Map(this.overlay);
    const present = (key: K) => {
      const value = overlay.get(key);
      return value === undefined ? this.base.has(key) : value !== REMOVED;
    };
    let size = this.size;
    for (const key of remove) {
      if (!present(key)) continue;
      size--;
      overlay.set(key, REMOVED);
    }
    for (const [key, value] of set) {
      if (!present(key)) size++;
      overlay.set(key, value);
    }
    const limit = this.maxOverlay || Math.max(32, Math.sqrt(size));
    if (overlay.size <= limit) return new LayeredMap(this.base, overlay, size, this.maxOverlay);
    const base = new Map(this.base);
    for (const [key, value] of overlay) {
      if (value === REMOVED) base.delete(key);
      else base.set(key, value);
    }
    return new LayeredMap(base, new Map(), base.size, this.maxOverlay);
  }

  get(key: K): V | undefined {
    const value = this.overlay.get(key);
    if (value === REMOVED) return undefined;
    return value !== undefined ? value : this.base.get(key);
  }

  has(key: K): boolean {
    const value = this.overlay.get(key);
    if (value === REMOVED) return false;
    return value !== undefined || this.base.has(key);
  }

  *entries(): MapIterator<[K, V]> {
    for (const entry of this.base) if (!this.overlay.has(entry[0])) yield entry;
    for (const [key, value] of this.overlay) if (value !== REMOVED) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}
