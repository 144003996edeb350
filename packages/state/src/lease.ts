import type { FencingToken } from './fencing.js';

/**
 * One decider at a time. A holder that cannot renew stops being leader by itself once its lease
 * may have expired, before anyone else can take it over: never two leaders.
 */
export interface Lease {
  /** Who this process is, in the lease and in the audit. */
  readonly owner: string;
  /** Starts trying to acquire (and then renewing); resolves after the first attempt. */
  start(): Promise<void>;
  /** Checked before every decision: a leader that has not renewed in time is not leader. */
  isLeader(): boolean;
  /** Called with the new value each time leadership is gained or lost. */
  onChange(listener: (leader: boolean) => void): () => void;
  /**
   * The token of the current leadership, for the writes a decision makes (fencing.ts); undefined
   * while not leading. Absent on a lease whose writes need no fence (embedded: one process).
   */
  fence?(): FencingToken | undefined;
  /** Stops renewing and releases the lease if held. */
  stop(): Promise<void>;
}
