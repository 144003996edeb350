/** Thrown by waits that were pending when the fleet stopped. */
export class FleetStoppedError extends Error {
  override readonly name = 'FleetStoppedError';
  constructor() {
    super('the simulated fleet was stopped');
  }
}

/** The least real delay of a timer: at high speed factors a simulated second is a few real ms. */
const MIN_REAL_MS = 5;

/**
 * Simulated time: an epoch clock that runs `speed` times faster than the real one, starting at
 * the real time it was created (so timestamps look like today's). Every delay of the fleet (node
 * and pod readiness, DNS propagation) and the load timeline run on it; its timers are real
 * timers scaled by the speed, all cancelled by stop().
 */
export class SimClock {
  private readonly startReal: number;
  private readonly startSim: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<(error: Error) => void>();
  private stopped = false;

  constructor(
    readonly speed: number,
    private readonly realNow: () => number = Date.now,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
    this.startReal = realNow();
    this.startSim = this.startReal;
  }

  /** Simulated epoch milliseconds. */
  now(): number {
    return this.startSim + (this.realNow() - this.startReal) * this.speed;
  }

  /** Simulated milliseconds since the fleet started: the load timeline's time axis. */
  elapsedMs(): number {
    return this.now() - this.startSim;
  }

  /** The simulated epoch ms at which the fleet started. */
  get origin(): number {
    return this.startSim;
  }

  /** How many real ms a simulated duration takes. */
  toRealMs(simMs: number): number {
    return simMs / this.speed;
  }

  /**
   * Runs `callback` once `simMs` simulated ms have passed; returns a cancel function. A real
   * timer may fire a millisecond early (Node rounds), which is many simulated ms at high speed:
   * it re-arms until the simulated deadline has really passed.
   */
  after(simMs: number, callback: () => void): () => void {
    if (this.stopped) return () => {};
    const deadline = this.now() + simMs;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      timer = setTimeout(
        () => {
          if (timer) this.timers.delete(timer);
          if (this.now() < deadline) arm();
          else callback();
        },
        Math.max(1, Math.ceil(this.toRealMs(deadline - this.now()))),
      );
      this.timers.add(timer);
    };
    arm();
    return () => {
      if (!timer) return;
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Runs `callback` every `simMs` simulated ms (at least every MIN_REAL_MS real ms apart). */
  every(simMs: number, callback: () => void): () => void {
    if (this.stopped) return () => {};
    const timer = setInterval(callback, Math.max(MIN_REAL_MS, this.toRealMs(simMs)));
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  /** Resolves after `simMs` simulated ms; rejects with FleetStoppedError if the clock stops first. */
  sleep(simMs: number): Promise<void> {
    if (this.stopped) return Promise.reject(new FleetStoppedError());
    return new Promise<void>((resolve, reject) => {
      const wake = (error?: Error) => {
        this.sleepers.delete(wake);
        cancel();
        if (error) reject(error);
        else resolve();
      };
      this.sleepers.add(wake);
      const cancel = this.after(simMs, () => wake());
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Cancels every timer and fails every pending sleep. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake(new FleetStoppedError());
  }
}
