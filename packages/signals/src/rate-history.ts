import type { PrometheusClient } from './prometheus/client.js';
import { describeQuery, PrometheusQueryError } from './prometheus/response.js';

/** One point of a request-rate history: epoch ms and requests per second. */
export interface RatePoint {
  at: number;
  value: number;
}

export interface RateHistoryRequest {
  /** PromQL for one service's request rate (requests/s); must answer one series. */
  query: string;
  /** Epoch ms: the history ends here. */
  now: number;
  historySeconds: number;
  stepSeconds: number;
}

/**
 * A predictive policy's request-rate history, read with one range query. No series is an empty
 * history (a new service); more than one is an error naming the query, since summing them here
 * would hide a query that matches more than the service.
 */
export async function readRateHistory(
  client: Pick<PrometheusClient, 'queryRange'>,
  request: RateHistoryRequest,
): Promise<RatePoint[]> {
  const { series } = await client.queryRange(request.query, {
    start: request.now - request.historySeconds * 1000,
    end: request.now,
    stepSeconds: request.stepSeconds,
  });
  if (series.length > 1) {
    throw new PrometheusQueryError(
      'bad_data',
      200,
      `Prometheus query "${describeQuery(request.query)}" failed: bad_data: the rate query answered ${series.length} series; it must answer one (aggregate with sum)`,
    );
  }
  return (series[0]?.values ?? [])
    .filter((point) => Number.isFinite(point.value))
    .map((point) => ({ at: Math.round(point.timestamp * 1000), value: point.value }));
}
