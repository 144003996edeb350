import type { BurstSignals } from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import type { SloEvaluator, SloSignal } from '@spillway/signals';

/**
 * Evaluates each policy's SLO on its own interval and keeps the latest verdict. A policy
 * without an SLO, or before the first answer, is `unknown`: the burst core treats that as no
 * evidence, so a broken Prometheus neither starts nor stops a burst.
 */
export class SloWatch {
  private readonly latest = new Map<string, SloSignal>();
  private readonly dueAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly evaluator: SloEvaluator | undefined,
    private readonly logger: Logger,
    private readonly onChange: (service: string) => void,
  ) {}

  signal(service: string): { slo: BurstSignals['slo']; reason: string | undefined } {
    const latest = this.latest.get(service);
    return { slo: latest?.state ?? 'unknown', reason: latest?.reason };
  }

  /** Starts the evaluations that are due; answers arrive later through `onChange`. */
  poll(policies: readonly BurstPolicy[], now: number): void {
    if (!this.evaluator) return;
    for (const policy of policies) {
      if (!policy.slo || this.inFlight.has(policy.service) || (this.dueAt.get(policy.service) ?? 0) > now) continue;
      this.dueAt.set(policy.service, now + policy.slo.evaluationIntervalSeconds * 1000);
      this.evaluate(this.evaluator, policy);
    }
  }

  private evaluate(evaluator: SloEvaluator, policy: BurstPolicy): void {
    const service = policy.service;
    this.inFlight.add(service);
    evaluator
      .evaluate(policy.slo!)
      .then((signal) => {
        const previous = this.latest.get(service)?.state;
        this.latest.set(service, signal);
        if (previous !== signal.state) {
          this.logger.info({ service, slo: signal.state, reason: signal.reason }, 'SLO verdict changed');
          this.onChange(service);
        }
      })
      .catch((error: unknown) => this.logger.warn({ service, err: error }, 'SLO evaluation failed'))
      .finally(() => this.inFlight.delete(service));
  }
}
