import type { DueIndex } from './due-index.js';

/**
 * DueIndex for embedded mode: the due moment of each service, and a binary min-heap of
 * (moment, service) to take the earliest without looking at the others. A heap entry whose
 * moment is no longer the service's (it was made earlier since) is skipped when it surfaces.
 */
export class InMemoryDueIndex implements DueIndex {
  private readonly dueAt = new Map<string, number>();
  private readonly heap: { at: number; service: string }[] = [];

  async schedule(service: string, at: number): Promise<void> {
    const current = this.dueAt.get(service);
    if (current !== undefined && current <= at) return;
    this.dueAt.set(service, at);
    this.push({ at, service });
  }

  async takeDue(now: number, limit: number): Promise<string[]> {
    const due: string[] = [];
    while (due.length < limit && this.heap.length > 0 && this.heap[0]!.at <= now) {
      const top = this.pop();
      if (this.dueAt.get(top.service) !== top.at) continue;
      this.dueAt.delete(top.service);
      due.push(top.service);
    }
    return due;
  }

  async size(): Promise<number> {
    return this.dueAt.size;
  }

  private push(entry: { at: number; service: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { at: number; service: string } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
