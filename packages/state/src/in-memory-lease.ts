import type { Lease } from './lease.js';

/** Embedded mode has one process, so it always leads once started. */
export class InMemoryLease implements Lease {
  private leader = false;
  private readonly listeners = new Set<(leader: boolean) => void>();

  constructor(readonly owner = 'embedded') {}

  async start(): Promise<void> {
    this.set(true);
  }

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.set(false);
  }

  /** Sets leadership and tells the listeners when it changed. */
  protected set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    for (const listener of this.listeners) listener(leader);
  }
}
