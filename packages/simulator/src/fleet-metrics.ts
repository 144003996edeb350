import type { ServiceKey, TrafficPolicyReader } from '@spillway/model';
import type { SimClock } from './clock.js';
import type { FleetWorld } from './fleet-world.js';
import { type LoadObservation, observe, offeredRps } from './load-model.js';
import { MetricsHistory, type WindowAggregate } from './metrics-history.js';
import type { SeriesSource } from './prometheus-server.js';
import type { ServiceLoad } from './scenario.js';

/** Long enough for a 6h burn-rate window with room to spare. */
const RETENTION_MS = 7 * 3_600_000;

/**
 * The load model run over simulated time: a sample per service every `stepMs`, taken from the
 * load timeline at that instant and the fleet as it is when the sample is taken (healthy
 * endpoints, faults, the router's cloud share). A ticker keeps the history current; a query
 * catches up first, so an answer never misses the samples up to its own instant.
 */
export class FleetMetrics implements SeriesSource {
  private readonly histories = new Map<ServiceKey, MetricsHistory>();
  private readonly loads = new Map<ServiceKey, ServiceLoad>();
  private nextSampleAt: number;
  private readonly cancelTicker: () => void;

  constructor(
    loads: readonly ServiceLoad[],
    private readonly world: FleetWorld,
    private readonly clock: SimClock,
    private readonly stepMs: number,
    private readonly traffic: () => TrafficPolicyReader | undefined,
  ) {
    for (const load of loads) {
      this.loads.set(load.service, load);
      this.histories.set(load.service, new MetricsHistory(RETENTION_MS));
    }
    this.nextSampleAt = clock.origin;
    this.catchUp();
    this.cancelTicker = clock.every(stepMs, () => this.catchUp());
  }

  services(): readonly string[] {
    return [...this.loads.keys()];
  }

  now(): number {
    return this.clock.now();
  }

  aggregate(service: string, at: number, windowMs: number): WindowAggregate | undefined {
    this.catchUp();
    return this.histories.get(service)?.window(at, windowMs);
  }

  /** The model's answer for this instant (not windowed): for status lines and drills. */
  instant(service: string): (LoadObservation & { requestedCloudShare: number }) | undefined {
    const load = this.loads.get(service);
    if (!load) return undefined;
    const requested = this.requestedShare(service);
    return { ...this.observeAt(load, this.clock.now()), requestedCloudShare: requested };
  }

  stop(): void {
    this.cancelTicker();
  }

  private catchUp(): void {
    const now = this.clock.now();
    while (this.nextSampleAt <= now) {
      const at = this.nextSampleAt;
      for (const [service, load] of this.loads) {
        const observation = this.observeAt(load, at);
        this.histories.get(service)?.append({
          at,
          requestsPerSecond: observation.requestsPerSecond,
          errorsPerSecond: observation.errorsPerSecond,
          p99Seconds: observation.p99Seconds,
        });
      }
      this.nextSampleAt += this.stepMs;
    }
  }

  private observeAt(load: ServiceLoad, at: number): LoadObservation {
    const seconds = (at - this.clock.origin) / 1000;
    return observe(
      load,
      offeredRps(load, seconds),
      this.requestedShare(load.service),
      this.world.serving(load.service),
    );
  }

  private requestedShare(service: string): number {
    return this.traffic()?.get(service)?.cloudShare ?? 0;
  }
}
