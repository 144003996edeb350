import { BURST_PHASES, type BurstPhase } from '@spillway/burst';
import { Counter, Gauge, type Registry } from '@spillway/observability';

/** The burst controller's Prometheus metrics. */
export class ControllerMetrics {
  private readonly phase: Gauge<'service' | 'phase'>;
  private readonly share: Gauge<'service'>;
  private readonly leader: Gauge;
  private readonly decisions: Counter<'decision'>;
  private readonly errors: Counter;
  private readonly enqueued: Counter<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.phase = new Gauge({
      name: 'spillway_burst_phase',
      help: '1 for the phase each service is in',
      labelNames: ['service', 'phase'],
      registers,
    });
    this.share = new Gauge({
      name: 'spillway_burst_committed_share',
      help: 'Cloud share the controller has committed to, per service',
      labelNames: ['service'],
      registers,
    });
    this.leader = new Gauge({ name: 'spillway_controller_leader', help: '1 while this process decides', registers });
    this.decisions = new Counter({
      name: 'spillway_burst_decisions_total',
      help: 'Decisions recorded in the audit log, by kind',
      labelNames: ['decision'],
      registers,
    });
    this.errors = new Counter({
      name: 'spillway_controller_reconcile_errors_total',
      help: 'Reconcile passes that failed (store unavailable, bad state)',
      registers,
    });
    this.enqueued = new Counter({
      name: 'spillway_burst_actions_enqueued_total',
      help: 'Actions handed to the job queue (deduplicated by key)',
      labelNames: ['kind'],
      registers,
    });
  }

  observe(service: string, phase: BurstPhase, share: number): void {
    for (const candidate of BURST_PHASES) this.phase.set({ service, phase: candidate }, candidate === phase ? 1 : 0);
    this.share.set({ service }, share);
  }

  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
  }

  decision(kind: string): void {
    this.decisions.inc({ decision: kind });
  }

  error(): void {
    this.errors.inc();
  }

  action(kind: string): void {
    this.enqueued.inc({ kind });
  }
}
