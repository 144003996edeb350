import type { Counter } from 'prom-client';

/** One label set of a BatchedCounter: `inc` is a plain addition. */
export interface CounterCell {
  inc(): void;
}

class Cell<L extends string> implements CounterCell {
  pending = 0;
  constructor(readonly labels: Readonly<Record<L, string>>) {}
  inc(): void {
    this.pending++;
  }
}

/** What runs when a counter is collected: each BatchedCounter that feeds it. */
const flushersByCounter = new WeakMap<Counter<string>, Set<() => void>>();

/**
 * A prom-client Counter for a hot path (every xDS response and ACK). prom-client's `inc` hashes
 * and validates the label set on every call, which at fleet scale cost as much as writing a
 * one-resource response; here each label set is looked up once (`cell`), its increments are
 * plain additions, and the sums reach the Counter when the registry is read. The series and
 * what /metrics shows are the same as with `inc`.
 */
export class BatchedCounter<L extends string> {
  private readonly cells = new Map<string, Cell<L>>();
  private readonly flush = () => this.flushPending();

  constructor(private readonly counter: Counter<L>) {
    let flushers = flushersByCounter.get(counter);
    if (!flushers) {
      const set = new Set<() => void>();
      flushers = set;
      flushersByCounter.set(counter, set);
      // The Counter may be shared by several batched counters (a router restarted on the same
      // registry): each collect flushes them all.
      const collected = counter as unknown as { collect?: () => void };
      const previous = collected.collect;
      collected.collect = function (this: unknown) {
        for (const flush of set) flush();
        previous?.call(this);
      };
    }
    flushers.add(this.flush);
  }

  /** The cell of one label set; callers keep it and `inc` it. Label values must come from a bounded set. */
  cell(labels: Readonly<Record<L, string>>): CounterCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new Cell(labels);
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** Flushes what is pending and stops feeding the Counter (the component that owned it stopped). */
  close(): void {
    this.flushPending();
    flushersByCounter.get(this.counter)?.delete(this.flush);
  }

  private flushPending(): void {
    for (const cell of this.cells.values()) {
      if (cell.pending === 0) continue;
      this.counter.inc(cell.labels as Partial<Record<L, string | number>>, cell.pending);
      cell.pending = 0;
    }
  }
}
