import { DEFAULT_MEASURED_SHARE, type MeasuredShareReading } from '@spillway/burst';
import type { BurstPolicy, MeasuredLoadReader } from '@spillway/model';
import type { Logger } from '@spillway/observability';

/**
 * How often a bursting service's measured share is read again: often enough that a step's
 * dwell (1 s at the least) ends with a reading taken after the previous step.
 */
const POLL_MS = 1_000;

export interface TimedMeasuredShare extends MeasuredShareReading {
  /** When it was read (epoch ms). */
  readonly at: number;
}

/**
 * Reads the cloud share clients report (LRS, `GET /v1/load`) for the services that are
 * bursting, every few seconds, and keeps the latest answer: the decision core reads it
 * synchronously. A failed read keeps nothing: the core then has no evidence, never old evidence.
 */
export class MeasuredShareWatch {
  private readonly latest = new Map<string, TimedMeasuredShare>();
  private readonly dueAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private failing = false;

  constructor(
    private readonly reader: MeasuredLoadReader | undefined,
    private readonly logger: Logger,
    private readonly onRead: (service: string) => void,
  ) {}

  get enabled(): boolean {
    return this.reader !== undefined;
  }

  reading(service: string): TimedMeasuredShare | undefined {
    return this.latest.get(service);
  }

  /** Starts the reads that are due for `policies` (the bursting ones); forgets the others. */
  poll(policies: readonly BurstPolicy[], now: number): void {
    if (!this.reader) return;
    const wanted = new Set(policies.map((policy) => policy.service));
    for (const service of this.latest.keys()) if (!wanted.has(service)) this.latest.delete(service);
    for (const service of this.dueAt.keys()) if (!wanted.has(service)) this.dueAt.delete(service);
    for (const policy of policies) {
      const service = policy.service;
      if (this.inFlight.has(service) || (this.dueAt.get(service) ?? 0) > now) continue;
      this.dueAt.set(service, now + POLL_MS);
      this.read(this.reader, service, (policy.measuredShare ?? DEFAULT_MEASURED_SHARE).windowSeconds, now);
    }
  }

  private read(reader: MeasuredLoadReader, service: string, windowSeconds: number, now: number): void {
    this.inFlight.add(service);
    reader
      .measuredLoad(service, windowSeconds)
      .then((load) => {
        const requests = load.localities.reduce((sum, locality) => sum + locality.requests, 0);
        this.latest.set(service, { share: load.cloudShare, requests, windowSeconds, at: now });
        if (this.failing) this.logger.info('measured load readable again');
        this.failing = false;
        this.onRead(service);
      })
      .catch((error: unknown) => {
        this.latest.delete(service);
        // One line per outage, not one per service per poll.
        if (!this.failing) this.logger.warn({ service, err: error }, 'cannot read the measured load (GET /v1/load)');
        this.failing = true;
      })
      .finally(() => this.inFlight.delete(service));
  }
}
