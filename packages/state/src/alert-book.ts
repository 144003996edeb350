import { z } from 'zod';

/**
 * What one Alertmanager notification (or its API) said about one alert, reduced to what the
 * controller needs. Labels are not kept: the webhook role may send megabyte labels, and the
 * book only needs which alert (fingerprint), its name, and which episode (startsAt).
 */
export const AlertObservation = z.strictObject({
  /** Alertmanager's fingerprint (16 hex digits), or a hash of the label set from older senders. */
  fingerprint: z.string().min(1).max(64),
  /** `alertname`, cut to ALERT_NAME_MAX characters. */
  name: z.string().max(200),
  status: z.enum(['firing', 'resolved']),
  /** Epoch ms: which episode of the alert this is. A re-fire after a resolve has a later one. */
  startsAt: z.number().int(),
  /** Epoch ms of a resolve; null while firing. */
  endsAt: z.number().int().nullable(),
  /**
   * Which notification group (Alertmanager, receiver, group key; hashed) said so last: a later
   * complete list of that group without this alert means it no longer fires.
   */
  group: z.string().max(64).optional(),
});
export type AlertObservation = z.infer<typeof AlertObservation>;

/** How long an alertname may be in the book (and in audit summaries). */
export const ALERT_NAME_MAX = 200;

/** An alert as the book holds it: the latest observation of its latest episode. */
export const HeldAlert = AlertObservation.extend({
  /** Epoch ms after which the entry counts for nothing (resolve timeout, or tombstone lifetime). */
  expiresAt: z.number().int(),
  /** Epoch ms when it was last recorded. */
  updatedAt: z.number().int(),
});
export type HeldAlert = z.infer<typeof HeldAlert>;

export interface AlertBookLimits {
  /**
   * A firing alert that Alertmanager does not re-send within this is forgotten (a lost
   * "resolved" cannot hold a burst forever); a resolved alert is remembered this long, so a late
   * re-delivery of its episode's "firing" is recognised as old. Default 1 h.
   */
  readonly expiryMs?: number;
  /** Alerts kept per service; past it the least recently refreshed go first. Default 1000. */
  readonly maxPerService?: number;
}

export const DEFAULT_ALERT_EXPIRY_MS = 60 * 60 * 1000;
export const DEFAULT_ALERTS_PER_SERVICE = 1000;

export interface AlertRecordResult {
  /** Observations that changed the book. */
  readonly applied: number;
  /** Observations older than what the book holds (a late "resolved" of an earlier episode). */
  readonly ignored: number;
}

/**
 * The firing alerts of every policy's service, shared by all controllers (Redis in distributed
 * mode, memory in embedded mode): any controller may take a webhook, the leader decides from it,
 * and a new leader knows what fires. Per alert (fingerprint) the newest episode wins:
 * - an observation whose startsAt is before the held one's is from an earlier episode: ignored;
 * - a "resolved" whose endsAt is before the held startsAt is too (a late resolve never ends a
 *   later episode);
 * - otherwise the observation replaces the entry (same episode: the later word wins).
 * Entries expire `expiryMs` after they were last recorded; at most `maxPerService` are kept.
 */
export interface AlertBook {
  record(service: string, observations: readonly AlertObservation[], now: number): Promise<AlertRecordResult>;
  /** The alerts firing for `service` at `now`, not expired. */
  firing(service: string, now: number): Promise<HeldAlert[]>;
}

/** The rule both stores apply: does `observation` replace `held`? */
export function supersedes(held: HeldAlert | undefined, observation: AlertObservation, now: number): boolean {
  if (!held || held.expiresAt <= now) return true;
  if (observation.startsAt < held.startsAt) return false;
  if (observation.status === 'resolved' && observation.endsAt !== null && observation.endsAt < held.startsAt)
    return false;
  return true;
}

/** The entry the book keeps for an observation recorded at `now`. */
export function heldAlert(observation: AlertObservation, now: number, expiryMs: number): HeldAlert {
  return { ...observation, expiresAt: now + expiryMs, updatedAt: now };
}
