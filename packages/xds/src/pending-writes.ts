/** The part of a gRPC server call the tracker needs: a write that calls back once HTTP/2 has taken the message. */
export interface WritableCall<M> {
  write(message: M, callback: () => void): unknown;
}

/** One call's writes, counted: what a stream writes through. */
export interface TrackedCall<M> {
  write(message: M): void;
  /** The call ended: what it still had pending will never be taken. */
  forget(): void;
}

/**
 * Responses handed to gRPC that HTTP/2 has not taken yet (their write callback has not run:
 * the client's flow-control window is full, or the socket is). Bulk senders such as the
 * periodic re-send wait while many are pending, so their bytes leave as fast as clients take
 * them instead of piling up in the process, where they cost memory and the garbage
 * collections that stall the event loop. gRPC never calls back for a call that was cancelled
 * or failed, so a closed call's count is dropped with `forget`.
 */
export class PendingWrites {
  private total = 0;
  private readonly tracked = new Map<object, CallWrites<unknown>>();
  private readonly waiters = new Set<() => void>();
  private waitingFor = 0;

  get count(): number {
    return this.total;
  }

  /**
   * The writes of `call`, counted here. A stream keeps what this returns: each write is then
   * a counter and one callback made once per call, not a lookup and a closure per response.
   */
  track<M>(call: WritableCall<M>): TrackedCall<M> {
    let writes = this.tracked.get(call) as CallWrites<M> | undefined;
    if (!writes) {
      writes = new CallWrites(this, call);
      this.tracked.set(call, writes as CallWrites<unknown>);
    }
    return writes;
  }

  write<M>(call: WritableCall<M>, message: M): void {
    this.track(call).write(message);
  }

  forget(call: object): void {
    this.tracked.get(call)?.forget();
  }

  /** Calls `resume` once at most `limit` writes are pending (at once if already so). */
  whenAtMost(limit: number, resume: () => void): void {
    if (this.total <= limit) {
      resume();
      return;
    }
    this.waitingFor = this.waiters.size === 0 ? limit : Math.max(this.waitingFor, limit);
    this.waiters.add(resume);
  }

  /** Stops waiting (`resume` is not called): the waiter gave up. */
  cancelWait(resume: () => void): void {
    this.waiters.delete(resume);
  }

  /** @internal CallWrites' bookkeeping. */
  added(): void {
    this.total++;
  }

  /** @internal */
  taken(count: number): void {
    this.total -= count;
    if (this.waiters.size === 0 || this.total > this.waitingFor) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resume of waiters) resume();
  }

  /** @internal */
  untrack(call: object): void {
    this.tracked.delete(call);
  }
}

class CallWrites<M> implements TrackedCall<M> {
  private pending = 0;
  private forgotten = false;
  private readonly onTaken = () => {
    if (this.forgotten) return;
    this.pending--;
    this.owner.taken(1);
  };

  constructor(
    private readonly owner: PendingWrites,
    private readonly call: WritableCall<M>,
  ) {}

  write(message: M): void {
    if (!this.forgotten) {
      this.pending++;
      this.owner.added();
    }
    this.call.write(message, this.onTaken);
  }

  forget(): void {
    if (this.forgotten) return;
    this.forgotten = true;
    this.owner.untrack(this.call);
    if (this.pending > 0) this.owner.taken(this.pending);
    this.pending = 0;
  }
}
