import type { SimClock } from './clock.js';

/** What a range query answers, as far as time goes: series of (Unix seconds, value) points. */
export interface RangeAnswer {
  readonly series: readonly { readonly values: readonly { readonly timestamp: number }[] }[];
}

/** A client of Prometheus range queries (the shape of @spillway/signals' PrometheusClient.queryRange). */
export interface RangeQueryClient<Answer extends RangeAnswer> {
  queryRange(
    query: string,
    options: { start: number; end: number; stepSeconds: number; timeoutMs?: number },
  ): Promise<Answer>;
}

/**
 * Range queries for a controller that keeps real time against a fleet that runs `speed` times
 * faster (the counterpart of toRealTime for policies): the asked window and step are stretched
 * onto the simulated clock, and the answer's timestamps brought back to real time, so a forecast
 * over "the last 5 minutes at 1 s" reads the last 5 simulated hours at 1 simulated minute and
 * its trend is per real second. Rates stay per simulated second, as the policies' SLO queries do.
 */
export function realTimeRangeQueries<Answer extends RangeAnswer>(
  client: RangeQueryClient<Answer>,
  clock: Pick<SimClock, 'origin' | 'speed'>,
): RangeQueryClient<Answer> {
  const toSim = (realMs: number) => clock.origin + (realMs - clock.origin) * clock.speed;
  const toRealSeconds = (simSeconds: number) =>
    (clock.origin + (simSeconds * 1000 - clock.origin) / clock.speed) / 1000;
  return {
    async queryRange(query, options) {
      const answer = await client.queryRange(query, {
        ...options,
        start: toSim(options.start),
        end: toSim(options.end),
        stepSeconds: options.stepSeconds * clock.speed,
      });
      const series = answer.series.map((one) => ({
        ...one,
        values: one.values.map((point) => ({ ...point, timestamp: toRealSeconds(point.timestamp) })),
      }));
      // Only the timestamps changed: the answer keeps its type.
      return { ...answer, series } as Answer;
    },
  };
}
