/** Requests one stream may send before the router has a catalog; a client that sends more is cut off. */
export const MAX_HELD_REQUESTS_PER_STREAM = 100;

/**
 * Holds every xDS request until the router has its first complete catalog. Answered earlier,
 * a SotW Cluster or Listener response would carry no resources, which tells every Envoy and
 * gRPC client to delete everything it has. Held, a client keeps what it has and, once the
 * catalog is there, gets the full set. Each stream's requests are replayed in order.
 * Memory is bounded: a stream past MAX_HELD_REQUESTS_PER_STREAM is refused (its caller ends it).
 */
export class FirstCatalogGate {
  private opened = false;
  private readonly held = new Map<object, { requests: unknown[]; handle: (request: unknown) => void }>();
  private heldCount = 0;

  constructor(private readonly onHeldChange: (requests: number) => void = () => {}) {}

  get isOpen(): boolean {
    return this.opened;
  }

  /** Handles `request` now if open, else holds it; false when `stream` has sent too many to hold. */
  admit(stream: object, request: unknown, handle: (request: unknown) => void): boolean {
    if (this.opened) {
      handle(request);
      return true;
    }
    let entry = this.held.get(stream);
    if (!entry) {
      entry = { requests: [], handle };
      this.held.set(stream, entry);
    }
    if (entry.requests.length >= MAX_HELD_REQUESTS_PER_STREAM) {
      this.forget(stream);
      return false;
    }
    entry.requests.push(request);
    this.changeHeld(1);
    return true;
  }

  /** The stream closed: its held requests have nobody to answer. */
  forget(stream: object): void {
    const entry = this.held.get(stream);
    if (!entry) return;
    this.held.delete(stream);
    this.changeHeld(-entry.requests.length);
  }

  /** The catalog is complete: answers every held request, stream by stream, in order. */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    const held = [...this.held.values()];
    this.held.clear();
    this.changeHeld(-this.heldCount);
    for (const { requests, handle } of held) for (const request of requests) handle(request);
  }

  private changeHeld(delta: number): void {
    if (delta === 0) return;
    this.heldCount += delta;
    this.onHeldChange(this.heldCount);
  }
}
