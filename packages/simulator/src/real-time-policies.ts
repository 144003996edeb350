import { BurstPolicy, type PredictiveSettings } from '@spillway/model';

/**
 * A scenario's policies are written in simulated seconds, but the controller that runs them
 * keeps real time. Dividing every interval by the speed factor makes the controller step,
 * dwell and cool down at the same pace as the simulated world (a 60 s step interval at speed
 * 10 is 6 real seconds); so do a predictive policy's horizon, history, step, lead time and
 * release (its range queries go through realTimeRangeQueries). PromQL windows in the queries
 * stay as they are: the Prometheus-shaped server evaluates them on simulated time already.
 * Prices are per simulated hour, which passes in 1/speed of a real one, so the controller's
 * meter (real time) charges them × speed: a simulated burst costs what it would in the world it
 * plays. Budgets are money and stay.
 */
export function toRealTime(policy: BurstPolicy, speed: number): BurstPolicy {
  const real = (seconds: number) => seconds / speed;
  return BurstPolicy.parse({
    ...policy,
    stepIntervalSeconds: real(policy.stepIntervalSeconds),
    cooldownSeconds: real(policy.cooldownSeconds),
    minDwellSeconds: real(policy.minDwellSeconds),
    ...(policy.cost
      ? {
          cost: {
            ...policy.cost,
            nodeHourly: policy.cost.nodeHourly * speed,
            replicaHourly: policy.cost.replicaHourly * speed,
          },
        }
      : {}),
    ...(policy.slo
      ? { slo: { ...policy.slo, evaluationIntervalSeconds: real(policy.slo.evaluationIntervalSeconds) } }
      : {}),
    ...(policy.predictive ? { predictive: predictiveInRealTime(policy.predictive, speed) } : {}),
  });
}

/**
 * A predictive policy's durations in real seconds. They are whole seconds in the schema, so they
 * are rounded; the scenario must write them large enough for the schema's bounds at its speed
 * (e.g. historySeconds ≥ 300 × speed), else parsing says which field is short.
 */
function predictiveInRealTime(settings: PredictiveSettings, speed: number): PredictiveSettings {
  const real = (seconds: number) => Math.round(seconds / speed);
  return {
    ...settings,
    horizonSeconds: real(settings.horizonSeconds),
    historySeconds: real(settings.historySeconds),
    stepSeconds: real(settings.stepSeconds),
    defaultLeadTimeSeconds: real(settings.defaultLeadTimeSeconds),
    releaseAfterSeconds: real(settings.releaseAfterSeconds),
  };
}
