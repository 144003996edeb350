/**
 * Every Redis key Spillway's state uses, in one place, under one prefix (default `spillway`), so
 * two deployments can share a Redis and an operator can find everything with `SCAN prefix:*`.
 */
export class RedisKeys {
  constructor(readonly prefix = 'spillway') {}

  /** Hash: service → controller state JSON, one hash per state kind. */
  state(name: string): string {
    return `${this.prefix}:state:${name}`;
  }

  /** Sorted set: service scored by when the controller must next reconcile it (ms). */
  due(name: string): string {
    return `${this.prefix}:due:${name}`;
  }

  /** Hash: burst id → record JSON. */
  bursts(): string {
    return `${this.prefix}:bursts`;
  }

  /** Sorted set: burst id scored by createdAt (ms), to list newest first. */
  burstsByCreated(): string {
    return `${this.prefix}:bursts:by-created`;
  }

  /** Set: ids of active bursts. */
  burstsActive(): string {
    return `${this.prefix}:bursts:active`;
  }

  /** Sorted set: ended burst ids scored by when they ended (ms), for retention. */
  burstsEnded(): string {
    return `${this.prefix}:bursts:ended`;
  }

  /** Stream: one retention class's audit entries, capped (see AuditClass). */
  audit(cls: string): string {
    return `${this.prefix}:audit:${cls}`;
  }

  /** Hash: the last audit stream id given (ms, seq), shared by the classes' streams. */
  auditClock(): string {
    return `${this.prefix}:audit-clock`;
  }

  /** List: pending commands for one service, oldest first. */
  inbox(service: string): string {
    return `${this.prefix}:inbox:${service}`;
  }

  /** Set: services that may have pending commands. */
  inboxServices(): string {
    return `${this.prefix}:inbox-services`;
  }

  /** String: the lease owner, with a TTL. */
  lease(name: string): string {
    return `${this.prefix}:lease:${name}`;
  }

  /** String: the fencing token of the lease's latest acquisition, no TTL (lease-scripts.ts, fencing.ts). */
  leaseFence(name: string): string {
    return `${this.prefix}:lease:${name}:fence`;
  }

  /** Hash: service → traffic policy JSON. */
  policies(): string {
    return `${this.prefix}:policies`;
  }

  /** Hash: alert fingerprint → the alert book's entry JSON, for one service. */
  alerts(service: string): string {
    return `${this.prefix}:alerts:${service}`;
  }

  /** Sorted set: the same fingerprints scored by when their entry expires (ms). */
  alertsByExpiry(service: string): string {
    return `${this.prefix}:alerts:${service}:by-expiry`;
  }

  /** Hash: router id → the load its clients reported for one service in one 5 s bucket (JSON). */
  loadBucket(service: string, bucket: number): string {
    return `${this.prefix}:load:${service}:${bucket}`;
  }

  /** Pub/sub channel: the service whose policy changed. */
  policiesChannel(): string {
    return `${this.prefix}:policies:changed`;
  }
}
