import { endpointId, type MeasuredLoad, type Service } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { IDENTITY_PATH } from '@spillway/simulator';
import type { DrillCost } from './burst-cost.js';
import { type DrillFile, drillDeadlineSeconds, entryEndSeconds } from './drill-file.js';
import type { DrillWorld, Undo } from './drill-world.js';
import { type DrillReport, evaluateDrill } from './evaluate.js';
import { ProbeFleet, type ProbeSample } from './probes/probe-fleet.js';
import type { AppliedEntry, DrillEnd, DrillSample, EndpointPlace, ViewSample } from './recording.js';

/** The gRPC health check: what live probes call unless the drill names a method. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

const STOPPED = Symbol('stopped');
/** An undo that hangs must not keep the rest from rolling back. */
const UNDO_TIMEOUT_MS = 10_000;

export interface DrillProgress {
  readonly phase: 'starting probes' | 'running' | 'rolling back' | 'done';
  readonly elapsedSeconds: number;
  readonly durationSeconds: number;
  readonly requests: number;
  readonly failed: number;
  /** The last thing that happened, for a progress line. */
  readonly last: string;
}

export interface DrillRunOptions {
  readonly id: string;
  readonly world: DrillWorld;
  readonly logger: Logger;
  /** Aborting rolls back at once; the report's outcome is `aborted`. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DrillProgress) => void;
  /** How long probes may take to get their first answers (default 30 s). */
  readonly probeReadyMs?: number;
  /**
   * The clock the deadline runs on (default: the process's). The timeline and the measurements
   * stay on the real clock; a test moves this one by hand to put the deadline after what it waits for.
   */
  readonly deadlineClock?: DeadlineClock;
}

export interface DeadlineClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `callback` after `ms`; returns its cancel. */
  setTimer(callback: () => void, ms: number): () => void;
}

const processClock: DeadlineClock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * Runs one drill: probes first (until every client has an answer), then the timeline against the
 * wall clock, then everything undone, then the report. Nothing applied outlives the run: entries
 * are undone at their end, at the drill's end, on abort and at the deadline, and router
 * overrides expire by themselves at the deadline even if this process stalls.
 */
export async function runDrill(drill: DrillFile, options: DrillRunOptions): Promise<DrillReport> {
  const run = new DrillRun(drill, options);
  return run.execute();
}

class DrillRun {
  private zero = 0;
  private readonly deadlineClock: DeadlineClock;
  /** When execute() began, on the deadline clock: the deadline counts from here, probe start-up included. */
  private readonly began: number;
  private readonly samples: DrillSample[] = [];
  private readonly views: ViewSample[] = [];
  private readonly applied = new Map<number, { appliedAt?: number; undoneAt?: number; error?: string; undo?: Undo }>();
  private readonly places = new Map<string, EndpointPlace>();
  private readonly stopped = new AbortController();
  private end: DrillEnd = 'completed';
  private recordedEnd = 0;
  private failedCount = 0;
  private skippedSends = 0;
  private reportedLoad: MeasuredLoad | undefined;
  private cost: DrillCost | undefined;
  /** Wall clock (epoch ms) when the timeline started: bursts active since then are the drill's. */
  private startedAtMs = 0;
  private error: string | undefined;
  private last = 'starting';

  constructor(
    private readonly drill: DrillFile,
    private readonly options: DrillRunOptions,
  ) {
    this.deadlineClock = options.deadlineClock ?? processClock;
    this.began = this.deadlineClock.now();
  }

  async execute(): Promise<DrillReport> {
    const { drill, options } = this;
    const cancelDeadline = this.deadlineClock.setTimer(() => this.stop('deadline'), drillDeadlineSeconds(drill) * 1000);
    const onAbort = () => this.stop('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) this.stop('aborted');
    this.progress('starting probes');
    const probes = ProbeFleet.start({
      xdsAddress: options.world.parts.xdsAddress,
      service: drill.target.service,
      locations: drill.target.clients,
      ratePerSecond: drill.probes.ratePerSecond,
      method: drill.probes.method ?? (drill.mode === 'live' ? HEALTH_CHECK_PATH : IDENTITY_PATH),
      timeoutMs: drill.probes.timeoutMs,
      nodeIdPrefix: `drill-${options.id}`,
      ...(drill.mtls && options.world.parts.probeIdentity ? { mesh: options.world.parts.probeIdentity } : {}),
    });
    const unwatch = this.watchRouterView();
    const ticker = setInterval(() => this.progress('running'), 1000);
    try {
      const ready = await this.unlessStopped(probes.ready(options.probeReadyMs ?? 30_000));
      if (ready !== STOPPED) {
        this.zero = performance.now();
        this.startedAtMs = Date.now();
        this.recordView();
        probes.onSample((sample) => this.record(sample));
        await this.playTimeline();
      }
    } catch (error) {
      if (!this.stopped.signal.aborted) this.fail(error);
    } finally {
      clearInterval(ticker);
      cancelDeadline();
      options.signal?.removeEventListener('abort', onAbort);
      this.progress('rolling back');
      await this.undoAll();
      const endedAt = this.elapsed();
      this.reportedLoad = this.readReportedLoad(endedAt);
      this.cost = await this.readCost();
      this.skippedSends = probes.skipped;
      await probes.stop();
      unwatch();
      this.recordedEnd = endedAt;
    }
    const report = evaluateDrill(drill, this.recording());
    this.last = report.outcome;
    this.progress('done');
    return report;
  }

  private recording() {
    const applied: AppliedEntry[] = [...this.applied.entries()].map(([index, entry]) => ({
      index,
      ...(entry.appliedAt !== undefined ? { appliedAt: entry.appliedAt } : {}),
      ...(entry.undoneAt !== undefined ? { undoneAt: entry.undoneAt } : {}),
      ...(entry.error ? { error: entry.error } : {}),
    }));
    return {
      samples: this.samples,
      views: this.views,
      applied,
      endedAt: this.zero === 0 ? 0 : this.recordedEnd,
      end: this.end,
      skippedSends: this.skippedSends,
      ...(this.reportedLoad ? { reportedLoad: this.reportedLoad } : {}),
      ...(this.cost ? { cost: this.cost } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /**
   * The load the target's clients reported over LRS during the run (the window is the run, at
   * most 600 s). Probes report too, but the last reporting interval before they stop is not sent.
   */
  private readReportedLoad(endedAt: number): MeasuredLoad | undefined {
    const read = this.options.world.parts.measuredLoad;
    if (!read || this.zero === 0) return undefined;
    try {
      return read(this.drill.target.service, Math.min(600, Math.max(1, Math.ceil(endedAt))));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'drill: cannot read the load the clients reported');
      return undefined;
    }
  }

  /** What the target's bursts during the run cost, from the controller; undefined when unknown. */
  private async readCost(): Promise<DrillCost | undefined> {
    const read = this.options.world.parts.burstCost;
    if (!read || this.startedAtMs === 0) return undefined;
    try {
      return (await read(this.drill.target.service, this.startedAtMs, Date.now())) ?? undefined;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'drill: cannot read the cost of the bursts');
      return undefined;
    }
  }

  /** Applies and undoes entries in time order; overlapping entries are independent. */
  private async playTimeline(): Promise<void> {
    const steps = this.drill.timeline.flatMap((entry, index) => [
      { at: entry.atSeconds, index, apply: true },
      ...(entry.forSeconds !== undefined ? [{ at: entryEndSeconds(this.drill, entry), index, apply: false }] : []),
    ]);
    steps.sort((a, b) => a.at - b.at || Number(a.apply) - Number(b.apply));
    for (const step of steps) {
      if (!(await this.waitUntil(step.at))) return;
      if (step.apply) await this.applyEntry(step.index);
      else await this.undoEntry(step.index);
    }
    await this.waitUntil(this.drill.durationSeconds);
  }

  private async applyEntry(index: number): Promise<void> {
    const entry = this.drill.timeline[index]!;
    const state: { appliedAt?: number; error?: string; undo?: Undo } = {};
    this.applied.set(index, state);
    const ttlMs = Math.max(1, drillDeadlineSeconds(this.drill) * 1000 - (this.deadlineClock.now() - this.began));
    // Measured from the moment it starts: the world may react before apply() resolves.
    const startedAt = this.elapsed();
    const applying = this.options.world.apply(entry.action, {
      drillId: this.options.id,
      service: this.drill.target.service,
      ttlMs,
    });
    try {
      const undo = await this.unlessStopped(applying);
      state.appliedAt = startedAt;
      if (undo === STOPPED) {
        // It may still land: undo it then, the run is over.
        applying.then(
          (late) => late(),
          () => undefined,
        );
        state.error = 'stopped before it was applied';
        return;
      }
      state.undo = undo;
      this.note(`#${index + 1} ${entry.action.kind} applied`);
    } catch (error) {
      state.appliedAt = startedAt;
      state.error = (error as Error).message;
      this.note(`#${index + 1} ${entry.action.kind} failed: ${state.error}`);
    }
  }

  private async undoEntry(index: number): Promise<void> {
    const state = this.applied.get(index);
    if (!state?.undo || state.undoneAt !== undefined) return;
    const undo = state.undo;
    state.undo = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${UNDO_TIMEOUT_MS} ms`)), UNDO_TIMEOUT_MS);
    });
    try {
      await Promise.race([undo(), timeout]);
    } catch (error) {
      state.error ??= `undo failed: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
    this.applied.set(index, { ...state, undoneAt: this.elapsed() });
    this.note(`#${index + 1} ${this.drill.timeline[index]!.action.kind} undone`);
  }

  /** The promise's value, or STOPPED as soon as the run is aborted or reaches its deadline. */
  private unlessStopped<T>(promise: Promise<T>): Promise<T | typeof STOPPED> {
    const signal = this.stopped.signal;
    if (signal.aborted) return Promise.resolve(STOPPED);
    return new Promise((resolve, reject) => {
      const onStop = () => resolve(STOPPED);
      signal.addEventListener('abort', onStop, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onStop);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onStop);
          reject(error);
        },
      );
    });
  }

  private async undoAll(): Promise<void> {
    for (const index of this.applied.keys()) await this.undoEntry(index);
    // Belt and braces: an override whose undo was lost still belongs to this drill.
    this.options.world.rollBack(this.options.id);
  }

  /** Resolves true at `seconds` after zero, false as soon as the run is stopped. */
  private waitUntil(seconds: number): Promise<boolean> {
    const signal = this.stopped.signal;
    if (signal.aborted) return Promise.resolve(false);
    const delay = Math.max(0, seconds * 1000 - (performance.now() - this.zero));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onStop);
        resolve(true);
      }, delay);
      const onStop = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onStop, { once: true });
    });
  }

  private stop(end: DrillEnd): void {
    if (this.stopped.signal.aborted) return;
    this.end = end;
    this.note(end === 'deadline' ? 'deadline reached: rolling back' : 'aborted: rolling back');
    this.stopped.abort();
  }

  private fail(error: unknown): void {
    this.end = 'error';
    this.error = (error as Error).message;
    this.note(`error: ${this.error}`);
    this.stopped.abort();
  }

  private record(sample: ProbeSample): void {
    const t = (sample.sentAtMs - this.zero) / 1000;
    if (t < 0 || this.stopped.signal.aborted) return;
    const endpoint = sample.peer ? this.places.get(sample.peer) : undefined;
    if (!sample.ok) this.failedCount++;
    this.samples.push({
      t,
      ok: sample.ok,
      code: sample.code,
      latencyMs: sample.latencyMs,
      ...(endpoint ? { endpoint } : {}),
    });
  }

  /** Follows what the router publishes for the target, and where each endpoint runs. */
  private watchRouterView(): () => void {
    const { catalog, policies } = this.options.world.parts;
    const service = this.drill.target.service;
    this.learnPlaces(catalog.current().services.get(service));
    const offCatalog = catalog.subscribe((change, snapshot) => {
      if (!change.changed.includes(service) && !change.removed.includes(service)) return;
      this.learnPlaces(snapshot.services.get(service));
      this.recordView();
    });
    const offPolicies = policies.subscribe((changed) => {
      if (changed === service) this.recordView();
    });
    return () => {
      offCatalog();
      offPolicies();
    };
  }

  private learnPlaces(service: Service | undefined): void {
    for (const endpoint of service?.endpoints ?? []) {
      this.places.set(endpointId(endpoint), {
        cluster: endpoint.cluster,
        zone: endpoint.locality.zone,
        region: endpoint.locality.region,
        environment: endpoint.environment,
      });
    }
  }

  private recordView(): void {
    if (this.zero === 0 || this.stopped.signal.aborted) return;
    const { catalog, policies } = this.options.world.parts;
    const service = catalog.current().services.get(this.drill.target.service);
    const servable = (service?.endpoints ?? [])
      .filter((endpoint) => endpoint.health === 'healthy')
      .map(endpointId)
      .sort()
      .join(',');
    const share = policies.get(this.drill.target.service)?.cloudShare ?? 0;
    const last = this.views.at(-1);
    if (last && last.share === share && last.servable === servable) return;
    this.views.push({ t: this.elapsed(), share, servable });
  }

  private elapsed(): number {
    return this.zero === 0 ? 0 : (performance.now() - this.zero) / 1000;
  }

  private note(message: string): void {
    this.last = message;
    this.options.logger.info({ drill: this.options.id, t: Number(this.elapsed().toFixed(3)) }, message);
    this.progress(this.stopped.signal.aborted ? 'rolling back' : 'running');
  }

  private progress(phase: DrillProgress['phase']): void {
    this.options.onProgress?.({
      phase,
      elapsedSeconds: Number(this.elapsed().toFixed(1)),
      durationSeconds: this.drill.durationSeconds,
      requests: this.samples.length,
      failed: this.failedCount,
      last: this.last,
    });
  }
}
