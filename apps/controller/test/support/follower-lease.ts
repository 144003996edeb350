import { InMemoryLease } from '@spillway/state';

/**
 * A lease another process holds: a controller with it takes requests but decides nothing, until
 * the test hands the lease over with `lead()`.
 */
export class FollowerLease extends InMemoryLease {
  override async start(): Promise<void> {}

  lead(): void {
    this.set(true);
  }
}
