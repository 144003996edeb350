import { BURST_PHASES, type BurstPhase, type CostStanding, type ForecastReading } from '@spillway/burst';
import type { JobHandler } from '@spillway/jobs';
import { Counter, Gauge, Histogram, type Registry } from '@spillway/observability';

/** How many alertnames get their own series in spillway_alerts_unmatched_total. */
const UNMATCHED_NAME_SERIES = 50;
/** Prometheus' alertname convention (a metric-like name), bounded; anything else is `other`. */
const METRIC_LABEL_NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]{0,99}$/;
/** The `kind` label of spillway_burst_forecast_requests_per_second. */
const FORECAST_KINDS = ['observed', 'peak', 'capacity'] as const;

/** What a metric of this class is made from (the registry is added). */
interface MetricConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

/** The burst controller's Prometheus metrics. */
export class ControllerMetrics {
  private readonly phase: Gauge<'service' | 'phase'>;
  private readonly share: Gauge<'service'>;
  private readonly leader: Gauge;
  private readonly decisions: Counter<'decision'>;
  private readonly errors: Counter;
  private readonly enqueued: Counter<'kind'>;
  private readonly unmatched: Counter<'alertname'>;
  /** The alertnames with a series of their own; any name past the bound counts as `other`. */
  private readonly unmatchedNames = new Set<string>();
  private readonly lost: Counter<'service'>;
  private readonly fenced: Counter<'operation'>;
  private readonly passDuration: Histogram;
  private readonly lastPass: Gauge;
  private readonly jobRuns: Counter<'kind' | 'outcome'>;
  private readonly jobDuration: Histogram<'kind'>;
  private readonly measured: Gauge<'service'>;
  private readonly diverging: Gauge<'service'>;
  private readonly divergences: Counter<'service'>;
  private readonly forecastRps: Gauge<'service' | 'kind'>;
  private readonly leadTime: Gauge<'service'>;
  private readonly cooldown: Gauge<'service'>;
  private readonly damped: Counter<'service'>;
  private readonly spent: Counter<'service' | 'currency'>;
  /**
   * Whether this process leads. Per-service series show the leader's view, so they are set only
   * while it leads (a pass under way when the lease is lost sets none) and removed when it stops.
   */
  private leading = false;
  private readonly runningCost: Gauge<'service' | 'currency'>;
  private readonly dailyCost: Gauge<'service' | 'currency'>;
  private readonly budget: Gauge<'service' | 'currency' | 'budget'>;
  /** The currency each priced service's cost gauges carry, so a changed one leaves no stale series. */
  private readonly costCurrency = new Map<string, string>();
  /** The metrics with a `service` label (track): the leader's view, removed when the lease goes. */
  private readonly perService: { reset(): void }[] = [];

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = <L extends string>(config: MetricConfig<L>) =>
      this.track(new Gauge({ ...config, registers }), config);
    const counter = <L extends string>(config: MetricConfig<L>) =>
      this.track(new Counter({ ...config, registers }), config);
    const histogram = <L extends string>(config: MetricConfig<L> & { buckets: number[] }) =>
      this.track(new Histogram({ ...config, registers }), config);
    this.phase = gauge({
      name: 'spillway_burst_phase',
      help: '1 for the phase each service is in',
      labelNames: ['service', 'phase'],
    });
    this.share = gauge({
      name: 'spillway_burst_committed_share',
      help: 'Cloud share the controller has committed to, per service',
      labelNames: ['service'],
    });
    this.forecastRps = gauge({
      name: 'spillway_burst_forecast_requests_per_second',
      help: 'Predictive policies: the observed request rate, the forecast peak within the horizon, and on-prem capacity',
      labelNames: ['service', 'kind'],
    });
    this.leadTime = gauge({
      name: 'spillway_burst_lead_time_seconds',
      help: 'Predictive policies: the capacity lead time planned with (learned from scale-outs, else the default)',
      labelNames: ['service'],
    });
    this.cooldown = gauge({
      name: 'spillway_burst_cooldown_factor',
      help: "Flap damping: the burst's cooldown in policy cooldowns (1 undamped; doubles per re-breach after a step down, up to damping.maxFactor)",
      labelNames: ['service'],
    });
    this.damped = counter({
      name: 'spillway_burst_damping_total',
      help: "Flap damping: re-breaches soon after a burst's step down that doubled its cooldown (or found it at damping.maxFactor)",
      labelNames: ['service'],
    });
    this.leader = gauge({ name: 'spillway_controller_leader', help: '1 while this process decides' });
    this.decisions = counter({
      name: 'spillway_burst_decisions_total',
      help: 'Decisions recorded in the audit log, by kind',
      labelNames: ['decision'],
    });
    this.errors = counter({
      name: 'spillway_controller_reconcile_errors_total',
      help: 'Reconcile passes that failed (store unavailable, bad state)',
    });
    this.enqueued = counter({
      name: 'spillway_burst_actions_enqueued_total',
      help: 'Actions handed to the job queue (deduplicated by key)',
      labelNames: ['kind'],
    });
    this.unmatched = counter({
      name: 'spillway_alerts_unmatched_total',
      help: `Webhook alerts that match no burst policy, by alertname (the first ${UNMATCHED_NAME_SERIES} names seen; the rest are "other")`,
      labelNames: ['alertname'],
    });
    this.lost = counter({
      name: 'spillway_controller_state_lost_total',
      help: 'Times the controller found a service state it had read gone (Redis lost its data) and released the world to idle',
      labelNames: ['service'],
    });
    this.fenced = counter({
      name: 'spillway_controller_fenced_writes_total',
      help: 'Writes of a reconcile pass refused because the lease moved to another holder while it ran (the pass stopped there), by operation',
      labelNames: ['operation'],
    });
    this.passDuration = histogram({
      name: 'spillway_controller_reconcile_duration_seconds',
      help: "Reconcile passes of the leader over its policies' services, by duration",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.lastPass = gauge({
      name: 'spillway_controller_last_reconcile_timestamp_seconds',
      help: 'When the leader last finished a reconcile pass without error (Unix seconds)',
    });
    this.jobRuns = counter({
      name: 'spillway_job_runs_total',
      help: 'Action job runs in this process, by kind and outcome (completed, failed: a failed run is retried until its attempts are spent)',
      labelNames: ['kind', 'outcome'],
    });
    this.jobDuration = histogram({
      name: 'spillway_job_run_duration_seconds',
      help: 'Action job runs in this process, by kind and duration (waits for nodegroups, endpoints and DNS included)',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600],
    });
    this.measured = gauge({
      name: 'spillway_burst_measured_share',
      help: 'Cloud share the clients reported over LRS (GET /v1/load) during a burst, per service',
      labelNames: ['service'],
    });
    this.diverging = gauge({
      name: 'spillway_burst_share_diverging',
      help: '1 while the measured cloud share is off the published one by more than the tolerance',
      labelNames: ['service'],
    });
    this.divergences = counter({
      name: 'spillway_burst_share_divergences_total',
      help: 'Times the measured cloud share started to diverge from the published one',
      labelNames: ['service'],
    });
    this.spent = counter({
      name: 'spillway_burst_cost_total',
      help: "Cost of the cloud capacity held by the service's bursts, in the policy's currency (counted by the leader)",
      labelNames: ['service', 'currency'],
    });
    // Gauges, not counters: each leader sets them from the state store, so they go on across a
    // failover as the stored totals do.
    this.runningCost = gauge({
      name: 'spillway_burst_running_cost',
      help: "The open burst's cost so far, in the policy's currency, from the state store (0 with no burst open; set by the leader)",
      labelNames: ['service', 'currency'],
    });
    this.dailyCost = gauge({
      name: 'spillway_burst_daily_cost',
      help: "What the service's bursts spent today (the day of the policy's dailyResetTimeZone), from the state store (set by the leader)",
      labelNames: ['service', 'currency'],
    });
    this.budget = gauge({
      name: 'spillway_burst_cost_budget',
      help: "The policy's budgets: budget is perBurstBudget or dailyBudget (only those set; set by the leader)",
      labelNames: ['service', 'currency', 'budget'],
    });
  }

  /** Times a reconcile pass; `ok` records its end as the last good pass. */
  reconcilePass(): (ok: boolean) => void {
    const stop = this.passDuration.startTimer();
    return (ok) => {
      stop();
      if (ok) this.lastPass.setToCurrentTime();
    };
  }

  /** The handlers, each run counted by outcome and timed. */
  measuredJobs(handlers: Readonly<Record<string, JobHandler>>): Record<string, JobHandler> {
    return Object.fromEntries(
      Object.entries(handlers).map(([kind, handler]) => [
        kind,
        async (job, progress) => {
          const stop = this.jobDuration.startTimer({ kind });
          try {
            const result = await handler(job, progress);
            this.jobRuns.inc({ kind, outcome: 'completed' });
            return result;
          } catch (error) {
            this.jobRuns.inc({ kind, outcome: 'failed' });
            throw error;
          } finally {
            stop();
          }
        },
      ]),
    );
  }

  /** The measured share and whether it diverges; no sample while there is no reading. */
  measuredShare(service: string, share: number | null, diverging: boolean): void {
    if (!this.leading) return;
    if (share === null) this.measured.remove({ service });
    else this.measured.set({ service }, share);
    this.diverging.set({ service }, diverging ? 1 : 0);
  }

  /** A predictive policy's latest forecast; no samples while there is none. */
  forecast(service: string, reading: ForecastReading | null): void {
    if (!this.leading) return;
    if (reading === null) {
      for (const kind of FORECAST_KINDS) this.forecastRps.remove({ service, kind });
      this.leadTime.remove({ service });
      return;
    }
    this.forecastRps.set({ service, kind: 'observed' }, reading.observedRps);
    this.forecastRps.set({ service, kind: 'peak' }, reading.peakRps);
    this.forecastRps.set({ service, kind: 'capacity' }, reading.capacityRps);
    this.leadTime.set({ service }, reading.leadTimeSeconds);
  }

  /** A re-breach after a step down lengthened the burst's cooldown (flap damping). */
  dampedRebreach(service: string): void {
    if (this.leading) this.damped.inc({ service });
  }

  divergence(service: string): void {
    if (this.leading) this.divergences.inc({ service });
  }

  cost(service: string, currency: string, amount: number): void {
    if (this.leading) this.spent.inc({ service, currency }, amount);
  }

  /** A priced service's standing from its stored state; null (no prices) removes its series. */
  costStanding(service: string, standing: CostStanding | null): void {
    if (!this.leading) return;
    const shown = this.costCurrency.get(service);
    if (shown !== undefined && shown !== standing?.currency) this.forgetCost(service, shown);
    if (standing === null) return;
    const labels = { service, currency: standing.currency };
    this.costCurrency.set(service, standing.currency);
    this.runningCost.set(labels, standing.burst);
    this.dailyCost.set(labels, standing.today);
    for (const budget of ['perBurstBudget', 'dailyBudget'] as const) {
      const amount = standing[budget];
      if (amount === null) this.budget.remove({ ...labels, budget });
      else this.budget.set({ ...labels, budget }, amount);
    }
  }

  private forgetCost(service: string, currency: string): void {
    const labels = { service, currency };
    this.runningCost.remove(labels);
    this.dailyCost.remove(labels);
    for (const budget of ['perBurstBudget', 'dailyBudget']) this.budget.remove({ ...labels, budget });
    this.costCurrency.delete(service);
  }

  observe(service: string, phase: BurstPhase, share: number, cooldownFactor: number): void {
    if (!this.leading) return;
    for (const candidate of BURST_PHASES) this.phase.set({ service, phase: candidate }, candidate === phase ? 1 : 0);
    this.share.set({ service }, share);
    this.cooldown.set({ service }, cooldownFactor);
  }

  /**
   * Removes the service's gauges: its policy is gone (and any drain is over), so it has no phase
   * or share to show. Counters stay; they count what happened.
   */
  forget(service: string): void {
    for (const phase of BURST_PHASES) this.phase.remove({ service, phase });
    for (const gauge of [this.share, this.measured, this.diverging, this.leadTime, this.cooldown])
      gauge.remove({ service });
    for (const kind of FORECAST_KINDS) this.forecastRps.remove({ service, kind });
    const currency = this.costCurrency.get(service);
    if (currency !== undefined) this.forgetCost(service, currency);
  }

  /**
   * Whether this process leads. Losing the lease removes every per-service series, counters
   * too: they count what this process did as leader, and a former leader that kept showing a
   * phase, a share or a cost would be read as the current view (the new leader sets its own;
   * Prometheus takes a counter that ends, or restarts at a later leadership, as a reset).
   */
  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
    this.leading = leader;
    if (leader) return;
    for (const metric of this.perService) metric.reset();
    this.costCurrency.clear();
  }

  /**
   * Every metric of this class is made through here: one with a `service` label joins the
   * series setLeader(false) removes, so a new per-service metric cannot be left out of it.
   */
  private track<M extends { reset(): void }>(metric: M, config: { labelNames?: readonly string[] }): M {
    if (config.labelNames?.includes('service')) this.perService.push(metric);
    return metric;
  }

  decision(kind: string): void {
    this.decisions.inc({ decision: kind });
  }

  error(): void {
    this.errors.inc();
  }

  /** Counts an unmatched alert; the label set stays bounded whatever the webhook sends. */
  unmatchedAlert(name: string | undefined): void {
    let alertname = name !== undefined && METRIC_LABEL_NAME.test(name) ? name : 'other';
    if (!this.unmatchedNames.has(alertname)) {
      if (this.unmatchedNames.size < UNMATCHED_NAME_SERIES) this.unmatchedNames.add(alertname);
      else alertname = 'other';
    }
    this.unmatched.inc({ alertname });
  }

  stateLost(service: string): void {
    if (this.leading) this.lost.inc({ service });
  }

  /** A write refused by its fence (FencedWriteError); counted whether or not this process still believes it leads. */
  fencedWrite(operation: string): void {
    this.fenced.inc({ operation });
  }

  action(kind: string): void {
    this.enqueued.inc({ kind });
  }
}
