import type { CorruptStateError } from './errors.js';
import type { FencingToken } from './fencing.js';

/** Every service's state, and the entries that could not be read. */
export interface StateSnapshot<S> {
  readonly states: ReadonlyMap<string, S>;
  /** One per corrupt entry: the loop reports them and goes on with the others. */
  readonly corrupt: readonly CorruptStateError[];
}

/**
 * Per-service controller state, stored as JSON and validated on read with the caller's schema,
 * so a state written by an older version (or by hand) is caught at the door.
 */
export interface StateStore<S> {
  /** Throws CorruptStateError for an entry that does not parse or validate. */
  get(service: string): Promise<S | undefined>;
  /** With `fence`, refused (FencedWriteError) once the lease has moved on from it. */
  put(service: string, state: S, fence?: FencingToken): Promise<void>;
  delete(service: string): Promise<void>;
  all(): Promise<StateSnapshot<S>>;
  /**
   * Whether the store lost its data since this instance last looked (Redis flushed, or restarted
   * without persistence): a marker this instance saw before is gone. Checked at the start of a
   * pass, it cannot be fooled by a pass that rewrote a state after the loss. In-memory stores
   * never lose theirs and leave it out.
   */
  dataLost?(): Promise<boolean>;
}
