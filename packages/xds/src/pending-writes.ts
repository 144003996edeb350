/** The part of a gRPC server call the tracker needs: a write that calls back once HTTP/2 has taken the message. */
export interface WritableCall<M> {
  write(message: M, callback: () => void): unknown;
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
  private readonly perCall = new Map<object, number>();
  private readonly waiters = new Set<() => void>();
  private waitingFor = 0;

  get count(): number {
    return this.total;
  }

  write<M>(call: WritableCall<M>, message: M): void {
    this.total++;
    this.perCall.set(call, (this.perCall.get(call) ?? 0) + 1);
    call.write(message, () => this.taken(call, 1));
  }

  /** The call ended: what it still had pending will never be taken. */
  forget(call: object): void {
    const pending = this.perCall.get(call);
    if (pending !== undefined) this.taken(call, pending);
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

  private taken(call: object, count: number): void {
    const pending = this.perCall.get(call);
    if (pending === undefined) return; // forgotten already
    const taken = Math.min(count, pending);
    if (pending > taken) this.perCall.set(call, pending - taken);
    else this.perCall.delete(call);
    this.total -= taken;
    if (this.waiters.size === 0 || this.total > this.waitingFor) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resume of waiters) resume();
  }
}
