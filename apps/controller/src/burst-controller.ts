import { randomUUID } from 'node:crypto';
import type { RequestForecast } from '@spillway/api';
import {
  type BurstAction,
  type BurstCommands,
  type BurstSignals,
  type BurstState,
  cooldownFactor,
  costStanding,
  DEFAULT_MEASURED_SHARE,
  type AuditEntry as DecisionAudit,
  dampedRebreach,
  decide,
  initialBurstState,
  judgeMeasuredShare,
  type MeasuredShareReading,
  type ObservedCloud,
  type ShareVerdict,
} from '@spillway/burst';
import type { DnsWeights } from '@spillway/cloud';
import { FencedEnqueueError, type JobQueue } from '@spillway/jobs';
import type {
  BurstPolicy,
  CatalogReader,
  MeasuredLoadReader,
  PolicySet,
  PolicySetChange,
  TrafficPolicyReader,
  TrafficPolicyWriter,
} from '@spillway/model';
import { BurstPolicy as BurstPolicySchema } from '@spillway/model';
import type { Logger, Registry } from '@spillway/observability';
import type { AlertmanagerIntakeResult, PrometheusClient, SloEvaluator } from '@spillway/signals';
import {
  type AlertBook,
  type AuditLog,
  type BurstRecords,
  type CommandInbox,
  DUE_TAKE_LIMIT,
  type DueIndex,
  FencedWriteError,
  type FencingToken,
  type HeldAlert,
  type InboxCommand,
  InMemoryDueIndex,
  type Lease,
  type StateStore,
} from '@spillway/state';
import { actionHandlers, RunningActions, toJob } from './action-handlers.js';
import {
  goneFromGroup,
  listsWholeGroup,
  notificationGroup,
  observationsByService,
  servicesOfGroup,
  summariseUnmatched,
} from './alert-book.js';
import { burstRecord, forecastRecord } from './burst-record.js';
import { type CloudAdapters, CloudObserver } from './cloud-observer.js';
import { toBurstCommands } from './commands.js';
import { ControllerMetrics } from './controller-metrics.js';
import { ForecastWatch } from './forecast-watch.js';
import { MeasuredShareWatch } from './measured-share-watch.js';
import { SloWatch } from './slo-watch.js';
import { recoverLostState } from './state-recovery.js';

export interface BurstControllerDeps {
  /** The policies in force; they may change while the controller runs (reload, custom resources). */
  readonly policies: PolicySet;
  readonly catalog: CatalogReader;
  readonly traffic: TrafficPolicyReader & TrafficPolicyWriter;
  readonly states: StateStore<BurstState>;
  readonly bursts: BurstRecords;
  readonly audit: AuditLog;
  readonly inbox: CommandInbox;
  /** The firing alerts, shared by every controller (Redis) so any of them may take a webhook. */
  readonly alerts: AlertBook;
  readonly lease: Lease;
  /**
   * When each service is next due (shared by every controller on Redis, so a webhook taken by
   * any of them reaches the leader's next tick). Default: in memory.
   */
  readonly due?: DueIndex;
  readonly jobs: JobQueue;
  readonly adapters: CloudAdapters & { readonly dns?: DnsWeights };
  readonly slo?: SloEvaluator;
  /** Range queries for predictive policies' request-rate history; absent: no forecasts. */
  readonly rateHistory?: Pick<PrometheusClient, 'queryRange'>;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly now?: () => number;
  /** How often the services due are reconciled (dwell, cooldown, expiry, marks from other processes). */
  readonly tickMs?: number;
  /** How long a cloud capacity reading is reused. */
  readonly capacityTtlMs?: number;
  /** The cloud share clients report (the router's `GET /v1/load`); absent: not measured. */
  readonly measuredLoad?: MeasuredLoadReader;
}

/** A burst's measured share next to its published one (`GET /v1/bursts/{id}`). */
export interface MeasuredShareView {
  readonly share: number | null;
  readonly requests: number;
  readonly windowSeconds: number;
  readonly published: number;
  readonly verdict: ShareVerdict['kind'];
  readonly detail: string;
  readonly at: string;
}

export interface ManualBurst {
  readonly service: string;
  readonly share: number;
  readonly reason: string;
  readonly actor: string;
  readonly steps?: readonly number[];
  readonly expiresInSeconds?: number;
}

/**
 * The burst controller: level-triggered reconcile of every policy's service. Each pass reads
 * the persisted state, the signals, the world and the operators' commands, asks the pure core
 * what to do, persists the new state, records the audit and hands the actions to the job
 * queue (whose keys make a repeated action a no-op). Only the lease holder decides; every
 * process runs job workers.
 *
 * Which services a pass visits: the one an event was about (alert, command, catalog, traffic,
 * policy, job, SLO verdict, capacity reading); on the periodic tick, the services the due index
 * says are due (their next time-driven decision, alert expiry or capacity re-read) and those
 * with commands waiting; every policy when leadership is taken or the store lost its data.
 */
export class BurstController {
  /**
   * Policies removed while their burst was active: still reconciled, with an abort, until the
   * burst has drained and released its capacity (docs/burst-controller.md#where-policies-come-from).
   */
  private readonly retiring = new Map<string, BurstPolicy>();
  /** The policies as last seen, to know what a removed one was. */
  private known = new Map<string, BurstPolicy>();
  private readonly slo: SloWatch;
  private readonly forecasts: ForecastWatch;
  /** The forecast each predictive policy's last pass decided with, as the API shows it. */
  private readonly shownForecasts = new Map<string, RequestForecast>();
  private readonly measured: MeasuredShareWatch;
  /** Services with a burst in progress at their last pass: their measured share is read. */
  private readonly bursting = new Set<string>();
  /** Services whose measured share diverges now (audited once when it starts and ends). */
  private readonly diverging = new Set<string>();
  private readonly observer: CloudObserver;
  private readonly metrics: ControllerMetrics;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly cleanups: (() => void)[] = [];
  /** Which service each queued job is for: job events carry only the key. */
  private readonly jobServices = new Map<string, string>();
  /** Jobs running in this process: a new decision stops the ones it superseded. */
  private readonly running = new RunningActions();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  /** What was asked for since the current pass started. */
  private pending: PassRequest = emptyRequest();
  /** Services a failed pass did not finish: visited on the next tick, not at once (no hot retry loop). */
  private readonly unfinished = new Set<string>();
  /** The last take from the due index was full: take again after the pass. */
  private moreDue = false;
  private readonly due: DueIndex;
  private readonly capacityTtlMs: number;
  /** Services whose stored state this process has read: one found missing later was lost. */
  private readonly seenState = new Set<string>();
  /** Services to recover on their next pass: the store said it lost its data. */
  private readonly lostState = new Set<string>();
  /** The token of the last leadership whose refused write was logged (logged once per leadership). */
  private lastFenced: string | undefined;
  /** The last reconcile error; the API reports the controller degraded while it is set. */
  lastError: { message: string; since: string } | null = null;

  constructor(private readonly deps: BurstControllerDeps) {
    this.known = new Map(deps.policies.current().map((policy) => [policy.service, policy]));
    this.now = deps.now ?? Date.now;
    this.due = deps.due ?? new InMemoryDueIndex();
    this.capacityTtlMs = deps.capacityTtlMs ?? 10_000;
    this.logger = deps.logger.child({ component: 'burst-controller' });
    this.metrics = new ControllerMetrics(deps.registry);
    this.slo = new SloWatch(deps.slo, this.logger, (service) => this.kick(service));
    this.forecasts = new ForecastWatch(deps.rateHistory, this.logger, (service) => this.kick(service));
    this.measured = new MeasuredShareWatch(deps.measuredLoad, this.logger, (service) => this.kick(service));
    this.observer = new CloudObserver(
      deps.catalog,
      deps.traffic,
      deps.adapters,
      this.logger,
      this.capacityTtlMs,
      (service) => this.kick(service),
    );
  }

  get owner(): string {
    return this.deps.lease.owner;
  }

  isLeader(): boolean {
    return this.deps.lease.isLeader();
  }

  /** Every burst policy in force now, by service name (a retiring one is not). */
  burstPolicies(): BurstPolicy[] {
    return [...this.deps.policies.current()].sort((a, b) => (a.service < b.service ? -1 : 1));
  }

  /** The latest forecast of each predictive policy in force, by service; none unless this process leads. */
  latestForecasts(): (RequestForecast & { service: string })[] {
    if (!this.isLeader()) return [];
    return this.burstPolicies().flatMap((policy) => {
      const forecast = this.shownForecasts.get(policy.service);
      return forecast ? [{ service: policy.service, ...forecast }] : [];
    });
  }

  /** The policy in force for `service` (a retiring one is not: no new bursts for it). */
  policy(service: string): BurstPolicy | undefined {
    return this.deps.policies.get(service);
  }

  /** Services whose policy was removed while a burst was active, still draining. */
  retiringServices(): string[] {
    return [...this.retiring.keys()];
  }

  /** The policy a service is reconciled under: the one in force, else the retiring one. */
  private reconciledPolicy(service: string): BurstPolicy | undefined {
    return this.deps.policies.get(service) ?? this.retiring.get(service);
  }

  private reconciledPolicies(): BurstPolicy[] {
    const current = this.deps.policies.current();
    const inForce = new Set(current.map((policy) => policy.service));
    return [...current, ...[...this.retiring.values()].filter((policy) => !inForce.has(policy.service))];
  }

  async start(): Promise<void> {
    const { jobs, lease, catalog } = this.deps;
    jobs.process(
      this.metrics.measuredJobs(
        actionHandlers(
          {
            ...this.deps.adapters,
            traffic: this.deps.traffic,
            policyFor: (service) => this.reconciledPolicy(service),
            currentIntent: async (service, kind) => (await this.deps.states.get(service))?.intents[kind] ?? null,
            now: this.now,
          },
          this.running,
        ),
      ),
    );
    this.cleanups.push(jobs.onEvent((event) => void this.onJobEvent(event)));
    this.cleanups.push(
      catalog.subscribe((change) => {
        for (const key of [...change.changed, ...change.removed]) if (this.reconciledPolicy(key)) this.kick(key);
      }),
    );
    // The router's share is observed: a change to it (by a job, or drift) is looked at.
    this.cleanups.push(
      this.deps.traffic.subscribe((service) => {
        if (this.reconciledPolicy(service)) this.kick(service);
      }),
    );
    this.cleanups.push(this.deps.policies.subscribe((change) => void this.onPolicies(change)));
    this.cleanups.push(lease.onChange((leader) => this.onLeadership(leader)));
    await lease.start();
    this.metrics.setLeader(lease.isLeader());
    this.timer = setInterval(() => this.tick(), this.deps.tickMs ?? 1000);
    // No pass of its own: taking the lease (in start() or later) asks for the one full pass, and
    // a process that does not lead has nothing to reconcile.
  }

  /**
   * Bounded: a pass still running (Redis frozen: each call waits out its timeout) gets a few
   * seconds, then the lease is released (or left to expire when Redis cannot be reached).
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    await Promise.race([this.pass, new Promise((resolve) => setTimeout(resolve, STOP_PASS_WAIT_MS).unref())]);
    await this.deps.lease.stop();
    // A stopped controller leads no more: its per-service series go (setLeader).
    this.metrics.setLeader(false);
  }

  /**
   * Asks for a reconcile pass soon: of `service` only after an event about it, of every policy
   * without one (leadership, a job of another process). Passes never overlap; one asked for
   * during a pass runs after it.
   */
  kick(service?: string): void {
    if (service === undefined || !this.reconciledPolicy(service)) this.pending.all = true;
    else this.pending.services.add(service);
    this.runPending();
  }

  /** The periodic pass (the timer's): the services due now, and those with commands waiting. */
  tick(): void {
    this.pending.due = true;
    this.runPending();
  }

  private runPending(): void {
    const request = this.pending;
    if (this.pass || !(request.all || request.due || request.services.size > 0)) return;
    this.pending = emptyRequest();
    this.pass = this.reconcilePass(request).finally(() => {
      this.pass = undefined;
      if (this.moreDue) this.pending.due = true;
      this.moreDue = false;
      this.runPending();
    });
  }

  /** Resolves when the passes asked for so far have run (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pass) await this.pass;
  }

  /**
   * Queues an operator's manual burst; the leader starts it on its next pass. The command must
   * reach the store within INBOX_PUSH_BUDGET_MS or it is refused there (see CommandInbox): an
   * error answered now never becomes a burst started later. Once stored, the request stands
   * even if its "requested" audit entry cannot be written (the leader's decisions are audited).
   */
  async requestBurst(request: ManualBurst): Promise<string> {
    const id = `manual-${randomUUID()}`;
    const at = this.now();
    await this.deps.inbox.push({
      id,
      service: request.service,
      kind: 'start',
      at: new Date(at).toISOString(),
      // The wall clock, not `now` (a simulation may run faster): the store judges by its own.
      notAfter: Date.now() + INBOX_PUSH_BUDGET_MS,
      share: request.share,
      ...(request.steps ? { steps: [...request.steps] } : {}),
      reason: request.reason,
      actor: request.actor,
      ...(request.expiresInSeconds ? { expiresAt: at + request.expiresInSeconds * 1000 } : {}),
    });
    await this.recordAccepted(
      'api',
      request.actor,
      `manual burst requested: share ${request.share}`,
      request.service,
      id,
      {
        reason: request.reason,
      },
    );
    this.kick(request.service);
    return id;
  }

  /** Queues an abort of burst `id` of `service`; traffic goes back first, capacity after. Same deadline as requestBurst. */
  async requestAbort(service: string, id: string, reason: string, actor: string): Promise<void> {
    await this.deps.inbox.push({
      id: `abort-${randomUUID()}`,
      service,
      kind: 'abort',
      at: new Date(this.now()).toISOString(),
      notAfter: Date.now() + INBOX_PUSH_BUDGET_MS,
      burstId: id,
      reason,
      actor,
    });
    await this.recordAccepted('api', actor, `abort requested: ${reason}`, service, id);
    this.kick(service);
  }

  /** An audit entry for a command already stored: its failure is logged, not answered (the command stands). */
  private async recordAccepted(...entry: Parameters<BurstController['record']>): Promise<void> {
    try {
      await this.record(...entry);
    } catch (error) {
      this.logger.warn(
        { err: error, message: entry[2], burstId: entry[4] },
        'command accepted but its audit entry was not written',
      );
    }
  }

  /**
   * Takes a parsed Alertmanager notification: its matched alerts go to the shared alert book
   * (the leader reads it on its next pass, whichever controller took the webhook), the
   * unmatched ones become one summary line. A notification that lists its whole group also
   * ends the held alerts of that group it no longer lists.
   */
  async acceptAlerts(result: AlertmanagerIntakeResult, actor: string): Promise<void> {
    const now = this.now();
    const group = notificationGroup(result.notification);
    const byService = observationsByService(result.matched, group);
    const whole = listsWholeGroup(result);
    if (whole) {
      for (const service of servicesOfGroup(this.deps.policies.current(), result.notification.groupLabels))
        if (!byService.has(service)) byService.set(service, []);
    }
    const touched: [string, number][] = [];
    for (const [service, listed] of byService) {
      const gone = whole ? goneFromGroup(await this.deps.alerts.firing(service, now), group, listed, now) : [];
      if (listed.length + gone.length === 0) continue;
      const { ignored } = await this.deps.alerts.record(service, [...listed, ...gone], now);
      touched.push([service, ignored]);
    }
    await this.recordUnmatched(result, actor);
    for (const [service, ignored] of touched) {
      const firing = await this.firingAlerts(service, now);
      const older = ignored > 0 ? `; ${ignored} older than the episode held, ignored` : '';
      await this.record(
        'signal',
        actor,
        `${firing.length ? `alerts firing: ${firing.join(', ')}` : 'alerts resolved'}${older}`,
        service,
      );
    }
    // Marked in the shared index before the answer: the leader may be another process.
    for (const [service] of touched) await this.due.schedule(service, DUE_AT_ONCE);
    for (const [service] of touched) this.kick(service);
  }

  /** Names of the alerts firing for `service` now, sorted, each once. */
  private async firingAlerts(service: string, now: number): Promise<string[]> {
    return alertNames(await this.deps.alerts.firing(service, now));
  }

  private async recordUnmatched(result: AlertmanagerIntakeResult, actor: string): Promise<void> {
    if (result.unmatched.length === 0) return;
    for (const alert of result.unmatched) this.metrics.unmatchedAlert(alert.labels['alertname']);
    const summary = summariseUnmatched(result.unmatched);
    await this.record('signal', actor, `${summary.message}; ignored`, undefined, undefined, {
      count: summary.count,
      byAlertname: summary.byAlertname,
      ...(summary.otherNames ? { otherNames: summary.otherNames, otherAlerts: summary.otherAlerts } : {}),
    });
  }

  private async reconcilePass(request: PassRequest): Promise<void> {
    if (!this.deps.lease.isLeader()) return;
    // Pinned for the whole pass: if the lease moves on while it runs (a pause longer than the
    // lease), its remaining writes are refused by the store instead of overwriting the new leader's.
    const fence = this.deps.lease.fence?.();
    // A fencing lease gives no token once its deadline passed (even since isLeader): no pass then.
    if (this.deps.lease.fence && !fence) return;
    const now = this.now();
    this.slo.poll(this.deps.policies.current(), now);
    this.forecasts.poll(this.reconciledPolicies(), now);
    this.measured.poll(
      [...this.bursting].flatMap((service) => this.reconciledPolicy(service) ?? []),
      now,
    );
    const passEnded = this.metrics.reconcilePass();
    // What this pass owes a visit; what is left of it when the pass fails is carried to the next tick.
    const remaining = new Set(request.services);
    if (request.due) for (const service of takeAll(this.unfinished)) remaining.add(service);
    try {
      let all = request.all;
      if (await this.deps.states.dataLost?.()) {
        for (const service of this.seenState) this.lostState.add(service);
        // The due index went with the data: every policy is looked at again.
        all = true;
      }
      if (all) for (const policy of this.reconciledPolicies()) remaining.add(policy.service);
      else if (request.due) await this.takeDue(now, remaining, fence);
      for (let service = this.nextService(remaining); service !== undefined; service = this.nextService(remaining)) {
        const policy = this.reconciledPolicy(service);
        // Each service at its own moment: a long pass must not decide late services from its start.
        if (policy) await this.reconcile(policy, this.now(), fence);
        remaining.delete(service);
        // Let HTTP requests and job events in between services: a pass over thousands of
        // policies must not hold up a webhook's answer.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.lastError) this.logger.info('reconciling again after a failure');
      this.lastError = null;
      passEnded(true);
    } catch (error) {
      for (const service of remaining) this.unfinished.add(service);
      this.moreDue = false;
      passEnded(false);
      if (error instanceof FencedWriteError) return this.fenced(error.operation, fence);
      if (error instanceof FencedEnqueueError) return this.fenced('jobs.enqueue', fence);
      this.metrics.error();
      const message = error instanceof Error ? error.message : String(error);
      if (!this.lastError) this.logger.error({ err: error }, 'reconcile failed; retrying on the next pass');
      this.lastError ??= { message, since: new Date(now).toISOString() };
      this.lastError = { ...this.lastError, message };
    }
  }

  /**
   * A write of this pass was refused: the lease moved to another holder while the pass ran. Not
   * a failure of the controller (it does not report itself degraded): it stops deciding, and the
   * lease, at its next renewal, finds it has lost. Logged once per leadership.
   */
  private fenced(operation: string, fence: FencingToken | undefined): void {
    this.metrics.fencedWrite(operation);
    if (fence?.value === this.lastFenced) return;
    this.lastFenced = fence?.value;
    this.logger.warn(
      { owner: this.owner, operation },
      'lease lost during a reconcile pass: its write was refused and the pass stopped',
    );
  }

  /**
   * The next service of a pass. Services an event asked for during the pass come first: a
   * webhook does not wait behind the rest of a tick's (or a full) pass.
   */
  private nextService(remaining: Set<string>): string | undefined {
    const asked = this.pending.services;
    for (const service of asked) {
      asked.delete(service);
      if (remaining.has(service)) remaining.delete(service);
      remaining.add(service);
      return service;
    }
    return remaining.values().next().value;
  }

  /** Adds the services due at `now` and those with commands waiting (pushed through any controller). */
  private async takeDue(now: number, into: Set<string>, fence: FencingToken | undefined): Promise<void> {
    for (const command of await this.deps.inbox.peek()) into.add(command.service);
    // Last: once taken, the entries live only in `into` (carried over if the pass fails).
    const due = await this.due.takeDue(now, DUE_TAKE_LIMIT, fence);
    for (const service of due) into.add(service);
    this.moreDue = due.length === DUE_TAKE_LIMIT;
  }

  /**
   * When `service` must be looked at again with no event about it: its next time-driven
   * decision, the expiry of an alert firing for it, and, while it is not at rest, the next
   * re-read of its cloud capacity (capacity is polled, not pushed).
   */
  private async scheduleNext(
    service: string,
    state: BurstState,
    nextDecisionAt: number | null,
    held: readonly HeldAlert[],
    slo: BurstSignals['slo'],
    now: number,
  ): Promise<void> {
    const moments = held.map((alert) => alert.expiresAt);
    if (nextDecisionAt !== null) moments.push(nextDecisionAt);
    if (!atRest(state, held, slo)) moments.push(now + this.capacityTtlMs);
    if (moments.length > 0) await this.due.schedule(service, Math.min(...moments));
  }

  private async reconcile(policy: BurstPolicy, now: number, fence: FencingToken | undefined): Promise<void> {
    const service = policy.service;
    const stored = await this.deps.states.get(service);
    // Lost: the store says so (a pass racing the loss may have written this state back), or a
    // state this process read is gone. What the cloud APIs show decides then, not the state.
    if (this.lostState.delete(service) || (!stored && this.seenState.has(service))) {
      try {
        return await this.recover(policy, now, fence);
      } catch (error) {
        this.lostState.add(service);
        throw error;
      }
    }
    if (stored) this.seenState.add(service);
    const before = stored ?? initialBurstState();
    const pending = await this.deps.inbox.peek(service);
    const commands = this.newCommands(before, pending);
    const held = await this.deps.alerts.firing(service, now);
    const firing = alertNames(held);
    const slo = this.slo.signal(service);
    const signals = {
      alertFiring: firing.length > 0,
      slo: slo.slo,
      detail: [firing.length ? `alert ${firing.join(', ')} firing` : '', slo.reason ?? ''].filter(Boolean).join('; '),
    };
    // A decision at rest does not use the cloud's capacity: it is read only for one that may (a
    // signal, a command, a burst), so a new leader's pass over every policy reads none of it.
    const readCapacity = !atRest(before, held, slo.slo) || pending.length > 0 || this.retiring.has(service);
    const observed = this.withMeasuredShare(this.observer.observe(policy, now, readCapacity), service);
    const forecast = this.forecasts.forecast(policy, before.leadTime);
    this.metrics.forecast(service, forecast);
    const shownForecast = forecast && forecastRecord(policy, forecast, (before.leadTime?.samples ?? 0) > 0);
    if (shownForecast) this.shownForecasts.set(service, shownForecast);
    else this.shownForecasts.delete(service);
    let state = before;
    let nextDecisionAt: number | null = null;
    const actions = new Map<string, BurstAction>();
    const audit: DecisionAudit[] = [];
    let costAccrued = 0;
    for (const step of [...commands, this.retiringCommand(service, before)]) {
      const decision = decide({ policy, state, now, signals, observed, commands: step, forecast });
      state = decision.state;
      costAccrued += decision.costAccrued;
      nextDecisionAt = decision.nextDecisionAt;
      for (const action of decision.actions) actions.set(action.key, action);
      audit.push(...decision.audit);
    }
    // A retiring service keeps its policy in the state until the burst is idle (retireIfDone).
    const retired = state.phase === 'idle' ? undefined : this.retiring.get(service);
    state = withRetiredPolicy({ ...state, appliedCommands: appliedIds(before, pending) }, retired);
    await this.deps.states.put(service, state, fence);
    // This process's jobs for values no longer wanted stop now, not at their next poll.
    await this.running.recheck(service);
    await this.recordDecisions(audit, fence);
    await this.updateRecords(policy, before, state, now, { observed, costAccrued, forecast: shownForecast, fence });
    for (const action of actions.values()) await this.enqueue(service, action, fence);
    // Only once their decision is persisted (with their ids) may the commands go; if this
    // process dies first, the next leader finds them in appliedCommands and only acks them.
    if (pending.length > 0)
      await this.deps.inbox.ack(
        service,
        pending.map((command) => command.id),
        fence,
      );
    // A policy removed while this pass ran shows nothing (onPolicies has removed its series).
    if (this.reconciledPolicy(service)) {
      this.metrics.observe(service, state.phase, state.burst?.share ?? 0, cooldownFactor(policy, state.burst));
      this.metrics.costStanding(service, costStanding(policy, state, now));
    }
    if (dampedRebreach(before, state)) this.metrics.dampedRebreach(service);
    // Counters stay when a policy goes: what was spent was spent.
    if (policy.cost && costAccrued > 0) this.metrics.cost(service, policy.cost.currency, costAccrued);
    await this.judgeMeasuredShare(policy, before, state, observed, now, fence);
    await this.retireIfDone(service, state, fence);
    await this.scheduleNext(service, state, nextDecisionAt, held, slo.slo, now);
  }

  private withMeasuredShare(observed: ObservedCloud, service: string): ObservedCloud {
    const reading = this.measured.reading(service);
    if (!reading) return observed;
    const { share, requests, windowSeconds } = reading;
    return { ...observed, measuredShare: { share, requests, windowSeconds } };
  }

  /**
   * During a burst, compares the share the clients report with the one the router publishes.
   * A divergence beyond the policy's tolerance is audited when it starts and when it ends, and
   * shown by metrics; holding the next step for it is the core's (`measuredShare.holdSteps`).
   * Judged on the state the decision started from, as the core judged it: a step taken in this
   * pass starts its own settling window on the next.
   */
  private async judgeMeasuredShare(
    policy: BurstPolicy,
    before: BurstState,
    state: BurstState,
    observed: ObservedCloud,
    now: number,
    fence: FencingToken | undefined,
  ): Promise<void> {
    const service = policy.service;
    const wasBursting = this.bursting.has(service);
    if (state.burst === null) {
      this.bursting.delete(service);
      if (wasBursting) this.metrics.measuredShare(service, null, false);
      this.diverging.delete(service);
      return;
    }
    this.bursting.add(service);
    if (!this.measured.enabled) return;
    // The reading the decision saw (a newer one may have arrived since).
    const verdict = this.verdict(policy, before, observed.appliedShare, observed.measuredShare, now);
    this.metrics.measuredShare(service, observed.measuredShare?.share ?? null, verdict.kind === 'diverges');
    const burstId = state.burst.id;
    const settings = policy.measuredShare ?? DEFAULT_MEASURED_SHARE;
    const details = { decision: 'measured-share', verdict: verdict.kind, tolerance: settings.tolerance };
    if (verdict.kind === 'diverges' && !this.diverging.has(service)) {
      this.diverging.add(service);
      this.metrics.divergence(service);
      this.logger.warn(
        { service, burstId, detail: verdict.detail },
        'measured cloud share diverges from the published one',
      );
      await this.record(
        'decision',
        this.owner,
        `measured cloud share diverges: ${verdict.detail}`,
        service,
        burstId,
        details,
        fence,
      );
    } else if (verdict.kind === 'follows' && this.diverging.delete(service)) {
      await this.record(
        'decision',
        this.owner,
        `measured cloud share follows again: ${verdict.detail}`,
        service,
        burstId,
        details,
        fence,
      );
    }
  }

  private verdict(
    policy: BurstPolicy,
    state: BurstState,
    published: number,
    reading: MeasuredShareReading | undefined,
    now: number,
  ): ShareVerdict {
    return judgeMeasuredShare({
      published,
      measured: reading,
      lastShareChangeAt: state.lastShareChangeAt,
      now,
      settings: policy.measuredShare ?? DEFAULT_MEASURED_SHARE,
    });
  }

  /**
   * The measured share of a running burst, read now (any controller can answer, leader or not),
   * next to the share the router publishes; null when load is not measured.
   */
  async measuredShareOf(service: string): Promise<MeasuredShareView | null> {
    const reader = this.deps.measuredLoad;
    const policy = this.reconciledPolicy(service);
    if (!reader || !policy) return null;
    const settings = policy.measuredShare ?? DEFAULT_MEASURED_SHARE;
    const now = this.now();
    const load = await reader.measuredLoad(service, settings.windowSeconds);
    const requests = load.localities.reduce((sum, locality) => sum + locality.requests, 0);
    const reading = { share: load.cloudShare, requests, windowSeconds: settings.windowSeconds, at: now };
    const published = this.deps.traffic.get(service)?.cloudShare ?? 0;
    const state = await this.deps.states.get(service);
    const verdict = this.verdict(policy, state ?? initialBurstState(), published, reading, now);
    return {
      share: load.cloudShare,
      requests,
      windowSeconds: settings.windowSeconds,
      published,
      verdict: verdict.kind,
      detail: verdict.detail,
      at: new Date(now).toISOString(),
    };
  }

  /**
   * A retiring service's burst is aborted (once: an aborted burst keeps its abort): traffic goes
   * back on-prem first, then capacity to the floor, as an operator's abort would.
   */
  private retiringCommand(service: string, state: BurstState): BurstCommands {
    if (!this.retiring.has(service) || state.burst === null || state.phase === 'aborted') return {};
    return { abort: { reason: 'its burst policy was removed', actor: 'policy-set' } };
  }

  private async retireIfDone(service: string, state: BurstState, fence: FencingToken | undefined): Promise<void> {
    if (!this.retiring.has(service) || state.phase !== 'idle') return;
    this.retiring.delete(service);
    if (!this.deps.policies.get(service)) this.metrics.forget(service);
    this.logger.info({ service }, 'removed policy drained and released; no longer reconciled');
    await this.record(
      'decision',
      this.owner,
      'policy removed: its burst has drained and released its capacity; the service is no longer reconciled',
      service,
      undefined,
      undefined,
      fence,
    );
  }

  /**
   * The live policies changed. New and changed ones are reconciled at once (a lower maxShare
   * caps the share on that pass). A removed policy whose service is mid-burst is kept as
   * retiring: the burst is aborted and drained under its last policy, never abandoned with
   * traffic or capacity in the cloud.
   */
  private async onPolicies(change: PolicySetChange): Promise<void> {
    const previous = this.known;
    this.known = new Map(this.deps.policies.current().map((policy) => [policy.service, policy]));
    for (const service of change.added) this.retiring.delete(service);
    for (const service of change.removed) {
      const last = previous.get(service);
      if (!last) continue;
      try {
        const state = await this.deps.states.get(service);
        if (!state || state.phase === 'idle' || this.deps.policies.get(service)) continue;
        // The pass this change kicks stores it with the state (passes are the state's only
        // writer), so a new leader finishes the drain (adoptRetired).
        this.retiring.set(service, last);
        this.logger.warn({ service, phase: state.phase }, 'policy removed during a burst: draining it');
        await this.record(
          'decision',
          this.owner,
          `policy removed while its burst was ${state.phase}: aborting it, traffic back on-prem first, then capacity to the floor`,
          service,
          state.burst?.id,
          { decision: 'policy-removed' },
        );
      } catch (error) {
        // The state cannot be read (store away): drain anyway; an idle service aborts nothing.
        this.retiring.set(service, last);
        this.logger.warn({ service, err: error }, 'policy removed; its state is unknown, draining it to be safe');
      }
    }
    for (const service of change.removed) {
      this.shownForecasts.delete(service);
      if (!this.reconciledPolicy(service)) this.metrics.forget(service);
    }
    for (const service of [...change.added, ...change.changed.map((c) => c.service), ...change.removed])
      this.kick(service);
  }

  /**
   * The state this process read before is gone (Redis lost its data): release what the cloud
   * APIs show back to the policy's idle, and say so in the audit log. Commands still in the
   * inbox wait for the next pass, which decides from the recovered state.
   */
  private async recover(policy: BurstPolicy, now: number, fence: FencingToken | undefined): Promise<void> {
    const service = policy.service;
    const world = await this.observer.readWorld(policy);
    const recovery = recoverLostState(policy, world, now);
    this.logger.warn({ service, world, actions: recovery.actions.length }, recovery.message);
    this.metrics.stateLost(service);
    await this.deps.states.put(service, recovery.state, fence);
    await this.running.recheck(service);
    const details = { decision: 'state-lost', observed: { ...world } };
    await this.record('decision', this.owner, recovery.message, service, recovery.burstId ?? undefined, details, fence);
    for (const action of recovery.actions) await this.enqueue(service, action, fence);
    this.metrics.observe(service, recovery.state.phase, 0, 1);
    this.metrics.costStanding(service, costStanding(policy, recovery.state, now));
    // The commands still waiting, and the capacity the recovery releases, are looked at again.
    await this.due.schedule(service, now + this.capacityTtlMs);
  }

  /** The pending commands not applied yet (a crash may leave applied ones in the inbox), parsed. */
  private newCommands(state: BurstState, pending: readonly InboxCommand[]): BurstCommands[] {
    const applied = new Set(state.appliedCommands ?? []);
    return pending.flatMap((command) => {
      if (applied.has(command.id)) return [];
      try {
        return [toBurstCommands(command)];
      } catch (error) {
        // A command the controller cannot read must not block the inbox: say so and drop it.
        this.logger.error({ err: error, command }, 'dropping an unreadable command');
        return [];
      }
    });
  }

  /** Fenced like the pass's other writes: BullMQ adds it only while the lease holds this token. */
  private async enqueue(service: string, action: BurstAction, fence: FencingToken | undefined): Promise<void> {
    const { enqueued } = await this.deps.jobs.enqueue(toJob(service, action), fence);
    if (!enqueued) return;
    this.jobServices.set(action.key, service);
    this.metrics.action(action.kind);
    const details = { key: action.key, action: { ...action } };
    await this.record(
      'action',
      this.owner,
      `${action.kind} queued: ${action.reason}`,
      service,
      action.burstId,
      details,
      fence,
    );
  }

  private async recordDecisions(entries: readonly DecisionAudit[], fence: FencingToken | undefined): Promise<void> {
    for (const entry of entries) {
      this.metrics.decision(entry.decision);
      await this.deps.audit.append(
        {
          at: new Date(entry.at).toISOString(),
          actor: this.owner,
          kind: 'decision',
          service: entry.service,
          ...(entry.burstId ? { burstId: entry.burstId } : {}),
          message: entry.reason,
          details: { decision: entry.decision, phase: entry.phase, from: entry.from, share: entry.share },
        },
        fence,
      );
    }
  }

  private async updateRecords(
    policy: BurstPolicy,
    before: BurstState,
    after: BurstState,
    now: number,
    pass: {
      observed: ObservedCloud;
      costAccrued: number;
      forecast: RequestForecast | null;
      fence: FencingToken | undefined;
    },
  ): Promise<void> {
    const { observed, costAccrued, forecast, fence } = pass;
    const service = policy.service;
    const previous = before.burst;
    if (previous && previous.id !== after.burst?.id) {
      // The pass that ended it charged the time since the last one: the final figure includes it.
      const ended = previous.cost
        ? { ...previous, cost: { ...previous.cost, total: previous.cost.total + costAccrued } }
        : previous;
      await this.deps.bursts.put(burstRecord(service, ended, before.phase, now, false, { policy, forecast }), fence);
    }
    if (after.burst) {
      const world = { observed, intents: after.intents };
      await this.deps.bursts.put(
        burstRecord(service, after.burst, after.phase, now, true, { world, policy, forecast }),
        fence,
      );
    }
  }

  private async onJobEvent(event: Parameters<Parameters<JobQueue['onEvent']>[0]>[0]): Promise<void> {
    if (event.type === 'progress') return;
    const service = this.jobServices.get(event.key);
    this.jobServices.delete(event.key);
    // A job queued by another controller process: re-read every service's capacity.
    for (const key of service ? [service] : this.reconciledPolicies().map((p) => p.service))
      this.observer.invalidate(key);
    const message =
      event.type === 'completed'
        ? `${event.kind} done (${event.key})`
        : `${event.kind} failed for good (${event.key}): ${event.failedReason}`;
    // Keys are `${burstId}/${seq}/${kind}`: the burst is known even for another process's job.
    const burstId = event.key.split('/')[0];
    await this.record('action', this.owner, message, service, burstId).catch(() => undefined);
    this.kick(service);
  }

  private onLeadership(leader: boolean): void {
    this.metrics.setLeader(leader);
    this.logger.info({ owner: this.owner, leader }, leader ? 'leading: deciding bursts' : 'no longer leading');
    if (leader) void this.adoptRetired().finally(() => this.kick());
  }

  /**
   * A new leader takes over the drains of removed policies that an earlier leader started: their
   * last policy is stored with the state. Failures are logged; the next leadership tries again.
   */
  private async adoptRetired(): Promise<void> {
    const fence = this.deps.lease.fence?.();
    try {
      const { states } = await this.deps.states.all();
      for (const [service, state] of states) {
        if (!state.retiredPolicy || state.phase === 'idle') continue;
        if (this.deps.policies.get(service) || this.retiring.has(service)) continue;
        const policy = BurstPolicySchema.safeParse(state.retiredPolicy);
        if (!policy.success) {
          this.logger.error({ service }, 'a removed policy stored with its burst does not parse; not draining it');
          continue;
        }
        this.retiring.set(service, policy.data);
        this.logger.warn({ service, phase: state.phase }, 'resuming the drain of a removed policy');
        await this.record(
          'decision',
          this.owner,
          `resuming the drain of a removed policy (burst ${state.phase}): traffic back on-prem first, then capacity to the floor`,
          service,
          state.burst?.id,
          { decision: 'policy-removed' },
          fence,
        );
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for removed policies still draining');
    }
  }

  private async record(
    kind: 'api' | 'signal' | 'action' | 'decision',
    actor: string,
    message: string,
    service?: string,
    burstId?: string,
    details?: Record<string, unknown>,
    /** A leader's entry: refused once the lease has moved on (unset: any process may write it). */
    fence?: FencingToken,
  ): Promise<void> {
    const entry = {
      at: new Date(this.now()).toISOString(),
      actor,
      kind,
      ...(service ? { service } : {}),
      ...(burstId ? { burstId } : {}),
      message,
      ...(details ? { details } : {}),
    };
    await this.deps.audit.append(entry, fence);
  }
}

/**
 * How long an operator's command may take to reach Redis. Below the state client's 5 s command
 * timeout: a push the API gave up on (503) lands, if ever, past its deadline and is refused.
 */
const INBOX_PUSH_BUDGET_MS = 3_000;

/** A mark from an event: due whatever the leader's clock says (it may be another process). */
const DUE_AT_ONCE = 0;

/** What a reconcile pass is asked to visit. */
interface PassRequest {
  /** Every policy (leadership taken, a job of another process completed). */
  all: boolean;
  /** The services due in the index, and those with commands waiting (the periodic tick). */
  due: boolean;
  /** Services an event in this process was about. */
  readonly services: Set<string>;
}

function emptyRequest(): PassRequest {
  return { all: false, due: false, services: new Set() };
}

function takeAll(set: Set<string>): string[] {
  const items = [...set];
  set.clear();
  return items;
}

/** Nothing under way and nothing asking for a burst: only an event can change the decision. */
function atRest(state: BurstState, held: readonly HeldAlert[], slo: BurstSignals['slo']): boolean {
  return state.phase === 'idle' && state.burst === null && held.length === 0 && slo !== 'breached';
}

/** Names of the alerts, sorted, each once. */
function alertNames(alerts: readonly HeldAlert[]): string[] {
  return [...new Set(alerts.map((alert) => alert.name))].sort();
}

/** How long stop() waits for a running reconcile pass. */
const STOP_PASS_WAIT_MS = 3_000;

/** The state with the retiring policy stored in it, or without one when the service is not retiring. */
function withRetiredPolicy(state: BurstState, retiring: BurstPolicy | undefined): BurstState {
  const { retiredPolicy: _stored, ...rest } = state;
  return retiring ? { ...rest, retiredPolicy: retiring } : rest;
}

/** How many applied command ids a state remembers: far more than can be pending at once. */
const APPLIED_COMMANDS_KEPT = 100;

function appliedIds(before: BurstState, pending: readonly InboxCommand[]): string[] {
  const ids = [...(before.appliedCommands ?? [])];
  for (const command of pending) if (!ids.includes(command.id)) ids.push(command.id);
  return ids.slice(-APPLIED_COMMANDS_KEPT);
}
