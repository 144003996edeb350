import { BurstPolicy } from '@spillway/model';

/**
 * A scenario's policies are written in simulated seconds, but the controller that runs them
 * keeps real time. Dividing every interval by the speed factor makes the controller step,
 * dwell and cool down at the same pace as the simulated world (a 60 s step interval at speed
 * 10 is 6 real seconds). PromQL windows in the queries stay as they are: the Prometheus-shaped
 * server evaluates them on simulated time already. Prices are per simulated hour, which passes
 * in 1/speed of a real one, so the controller's meter (real time) charges them × speed: a
 * simulated burst costs what it would in the world it plays. Budgets are money and stay.
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
  });
}
