import type { FencingToken } from './fencing.js';
/**
 * When each service must next be reconciled: the controller's periodic tick visits only the
 * services due, not every policy. An entry is a service and the moment it is due; events
 * ("dirty" marks) schedule a service at `now`, and each reconcile schedules the service's next
 * time-driven visit.
 *
 * An entry is never postponed (`schedule` keeps the earlier of two moments) and `takeDue`
 * removes exactly what it returns, atomically: a mark made while a service is being reconciled
 * (after its entry was taken) stays in the index and is visited on a later tick. A visit too
 * many is harmless (decisions are level-triggered); a visit lost is not.
 */
export interface DueIndex {
  /** Makes `service` due at `at`, or leaves it due earlier when it already is. */
  schedule(service: string, at: number): Promise<void>;
  /** Removes and returns the services due at `now`, earliest first, at most `limit` of them. */
  /** With `fence` (the leader's), refused (FencedWriteError) once the lease has moved on from it. */
  takeDue(now: number, limit: number, fence?: FencingToken): Promise<string[]>;
  /** How many services have an entry. */
  size(): Promise<number>;
}

/** How many services one tick takes at most; more wait for the next take (the pass after). */
export const DUE_TAKE_LIMIT = 1000;
