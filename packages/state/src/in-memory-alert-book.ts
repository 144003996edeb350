import {
  type AlertBook,
  type AlertBookLimits,
  AlertObservation,
  type AlertRecordResult,
  DEFAULT_ALERT_EXPIRY_MS,
  DEFAULT_ALERTS_PER_SERVICE,
  type HeldAlert,
  heldAlert,
  supersedes,
} from './alert-book.js';

/** AlertBook for embedded mode: one map per service, the same rules as the Redis book. */
export class InMemoryAlertBook implements AlertBook {
  private readonly books = new Map<string, Map<string, HeldAlert>>();
  private readonly expiryMs: number;
  private readonly maxPerService: number;

  constructor(limits: AlertBookLimits = {}) {
    this.expiryMs = limits.expiryMs ?? DEFAULT_ALERT_EXPIRY_MS;
    this.maxPerService = limits.maxPerService ?? DEFAULT_ALERTS_PER_SERVICE;
  }

  async record(service: string, observations: readonly AlertObservation[], now: number): Promise<AlertRecordResult> {
    const book = this.pruned(service, now);
    let applied = 0;
    for (const raw of observations) {
      const observation = AlertObservation.parse(raw);
      if (!supersedes(book.get(observation.fingerprint), observation, now)) continue;
      // Re-inserted so the map's order is the refresh order, oldest first (for the bound).
      book.delete(observation.fingerprint);
      book.set(observation.fingerprint, heldAlert(observation, now, this.expiryMs));
      applied++;
    }
    for (const fingerprint of book.keys()) {
      if (book.size <= this.maxPerService) break;
      book.delete(fingerprint);
    }
    if (book.size > 0) this.books.set(service, book);
    else this.books.delete(service);
    return { applied, ignored: observations.length - applied };
  }

  async firing(service: string, now: number): Promise<HeldAlert[]> {
    return [...this.pruned(service, now).values()].filter((alert) => alert.status === 'firing');
  }

  private pruned(service: string, now: number): Map<string, HeldAlert> {
    const book = this.books.get(service) ?? new Map<string, HeldAlert>();
    for (const [fingerprint, alert] of book) if (alert.expiresAt <= now) book.delete(fingerprint);
    return book;
  }
}
