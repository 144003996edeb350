import { type ForecastReading, leadTimeSeconds, readForecast } from '@spillway/burst';
import type { BurstPolicy } from '@spillway/model';
import type { Logger } from '@spillway/observability';
import { type PrometheusClient, type RatePoint, readRateHistory } from '@spillway/signals';

/**
 * Reads each predictive policy's request-rate history (one Prometheus range query every
 * `stepSeconds`) and keeps the latest. The forecast itself is made in the reconcile pass from
 * it and the lead time in the burst state (pure). A failed query drops the history: no forecast
 * is no evidence, so warm capacity is released after its bound rather than kept on stale data.
 */
export class ForecastWatch {
  private readonly histories = new Map<string, RatePoint[]>();
  private readonly dueAt = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly client: Pick<PrometheusClient, 'queryRange'> | undefined,
    private readonly logger: Logger,
    private readonly onChange: (service: string) => void,
  ) {}

  /** Starts the range queries that are due; answers arrive later through `onChange`. */
  poll(policies: readonly BurstPolicy[], now: number): void {
    if (!this.client) return;
    const predictive = new Set<string>();
    for (const policy of policies) {
      const settings = policy.predictive;
      if (!settings?.enabled) continue;
      predictive.add(policy.service);
      if (this.inFlight.has(policy.service) || (this.dueAt.get(policy.service) ?? 0) > now) continue;
      this.dueAt.set(policy.service, now + settings.stepSeconds * 1000);
      this.read(this.client, policy, now);
    }
    // Bounded memory: a policy no longer predictive keeps no history.
    for (const service of this.histories.keys()) if (!predictive.has(service)) this.histories.delete(service);
  }

  /** The forecast for `policy` from the latest history, with the lead time learned so far; null without one. */
  forecast(policy: BurstPolicy, learned: Parameters<typeof leadTimeSeconds>[1]): ForecastReading | null {
    const settings = policy.predictive;
    const history = this.histories.get(policy.service);
    if (!settings?.enabled || history === undefined) return null;
    return readForecast(history, settings, leadTimeSeconds(policy, learned));
  }

  private read(client: Pick<PrometheusClient, 'queryRange'>, policy: BurstPolicy, now: number): void {
    const service = policy.service;
    const settings = policy.predictive!;
    this.inFlight.add(service);
    readRateHistory(client, {
      query: settings.rateQuery,
      now,
      historySeconds: settings.historySeconds,
      stepSeconds: settings.stepSeconds,
    })
      .then((history) => {
        this.histories.set(service, history);
        this.onChange(service);
      })
      .catch((error: unknown) => {
        if (this.histories.delete(service)) this.onChange(service);
        this.logger.warn({ service, err: error }, 'request-rate history for the forecast failed');
      })
      .finally(() => this.inFlight.delete(service));
  }
}
