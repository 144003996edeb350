import type { Lease } from '@spillway/state';

/**
 * A lease another process holds: a controller with it takes requests but decides nothing, until
 * the test hands the lease over with `lead()`.
 */
export class FollowerLease implements Lease {
  private leader = false;
  private readonly listeners = new Set<(leader: boolean) => void>();

  constructor(readonly owner: string) {}

  async start(): Promise<void> {}

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.leader = false;
  }

  lead(): void {
    this.leader = true;
    for (const listener of this.listeners) listener(true);
  }
}
