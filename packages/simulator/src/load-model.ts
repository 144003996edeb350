import type { ServiceLoad, Surge } from './scenario.js';

/**
 * The load and latency model, as pure functions of the scenario, the simulated time and what
 * the fleet looks like at that moment.
 *
 * - Demand: baseline plus the largest active surge (a trapezoid).
 * - Split: the router's cloud share sends that fraction to cloud endpoints — when there are
 *   healthy ones; with none on one side, everything goes to the other (the router's priorities
 *   fail over); with none anywhere, every request fails.
 * - Each side spreads its requests evenly over its healthy endpoints. One endpoint with service
 *   rate μ (capacityRpsPerEndpoint) and arrival rate λ has utilisation ρ = λ / μ:
 *     p99(ρ)   = min(cap, base / (1 − ρ)) + extra   (M/M/1: sojourn time scales with 1 / (1 − ρ))
 *     error(ρ) = baseErrorRatio + max(0, 1 − 1 / ρ) (what arrives beyond μ is shed)
 * - The service's p99 is the worst p99 among endpoints that carry at least 1% of its requests
 *   (endpoints grouped by their latency fault;
 *   a group carrying 1% or more shows up in the 99th percentile); its error ratio is the
 *   request-weighted mean.
 */

/** One healthy endpoint as the model needs it. */
export interface ServingEndpoint {
  readonly environment: 'onprem' | 'cloud';
  /** The latency fault where it runs. */
  readonly extraLatencySeconds: number;
}

export interface LoadObservation {
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly p99Seconds: number;
  readonly onpremRps: number;
  readonly cloudRps: number;
  /** The share that really reached the cloud (0 without healthy cloud endpoints). */
  readonly effectiveCloudShare: number;
  /** Highest utilisation among serving endpoints (ρ). */
  readonly maxUtilisation: number;
}

/** The surge's extra fraction (0..1) at `t` seconds: 0 → ramp → 1 (hold) → ramp → 0. */
export function surgeLevel(surge: Surge, t: number): number {
  const start = surge.atSeconds;
  const top = start + surge.rampSeconds;
  const topEnd = top + surge.holdSeconds;
  const end = topEnd + surge.rampSeconds;
  if (t <= start || t >= end) return 0;
  if (t < top) return (t - start) / surge.rampSeconds;
  if (t <= topEnd) return 1;
  return (end - t) / surge.rampSeconds;
}

/** Requests per second offered to the service at `t` simulated seconds since the start. */
export function offeredRps(load: ServiceLoad, t: number): number {
  let rps = load.baselineRps;
  for (const surge of load.surges) {
    rps = Math.max(rps, load.baselineRps + (surge.peakRps - load.baselineRps) * surgeLevel(surge, t));
  }
  const noiseRatio = load.noiseRatio ?? 0;
  if (noiseRatio === 0) return rps;
  return rps * (1 + noiseRatio * demandNoise(load.service, Math.floor(t / (load.noisePeriodSeconds ?? 5))));
}

/** A reproducible value in [-1, 1] for (service, period): an FNV-1a hash, no random state. */
export function demandNoise(service: string, period: number): number {
  let hash = 0x811c9dc5;
  for (const char of `${service}#${period}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash / 0xffffffff) * 2 - 1;
}

/** A group of endpoints carrying at least this share of requests shows in the p99. */
const TAIL_SHARE = 0.01;

function countByExtraLatency(endpoints: readonly ServingEndpoint[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const endpoint of endpoints) {
    counts.set(endpoint.extraLatencySeconds, (counts.get(endpoint.extraLatencySeconds) ?? 0) + 1);
  }
  return counts;
}

/** An endpoint's p99 at utilisation ρ (without the latency fault). */
export function p99AtUtilisation(load: ServiceLoad, rho: number): number {
  if (rho >= 1) return load.p99CapSeconds;
  return Math.min(load.p99CapSeconds, load.p99BaseSeconds / (1 - rho));
}

/** An endpoint's error ratio at utilisation ρ. */
export function errorRatioAtUtilisation(load: ServiceLoad, rho: number): number {
  return Math.min(1, load.baseErrorRatio + (rho > 1 ? 1 - 1 / rho : 0));
}

/** Where the requests go: the requested share when both sides can take traffic, else failover. */
export function effectiveShare(requested: number, onpremHealthy: number, cloudHealthy: number): number {
  if (cloudHealthy === 0) return 0;
  if (onpremHealthy === 0) return 1;
  return Math.min(1, Math.max(0, requested));
}

/** The service's requests, errors and p99 for one moment. */
export function observe(
  load: ServiceLoad,
  rps: number,
  requestedCloudShare: number,
  serving: readonly ServingEndpoint[],
): LoadObservation {
  const onprem = serving.filter((endpoint) => endpoint.environment === 'onprem');
  const cloud = serving.filter((endpoint) => endpoint.environment === 'cloud');
  const share = effectiveShare(requestedCloudShare, onprem.length, cloud.length);
  const sides = [
    { endpoints: onprem, rps: rps * (1 - share) },
    { endpoints: cloud, rps: rps * share },
  ];
  if (serving.length === 0) {
    return {
      requestsPerSecond: rps,
      errorsPerSecond: rps,
      p99Seconds: load.p99CapSeconds,
      onpremRps: rps,
      cloudRps: 0,
      effectiveCloudShare: 0,
      maxUtilisation: Number.POSITIVE_INFINITY,
    };
  }
  let errors = 0;
  let p99 = 0;
  let maxRho = 0;
  for (const side of sides) {
    if (side.endpoints.length === 0 || side.rps === 0) continue;
    const perEndpoint = side.rps / side.endpoints.length;
    const rho = perEndpoint / load.capacityRpsPerEndpoint;
    maxRho = Math.max(maxRho, rho);
    errors += side.rps * errorRatioAtUtilisation(load, rho);
    for (const [extra, count] of countByExtraLatency(side.endpoints)) {
      if ((perEndpoint * count) / rps < TAIL_SHARE) continue;
      p99 = Math.max(p99, p99AtUtilisation(load, rho) + extra);
    }
  }
  return {
    requestsPerSecond: rps,
    errorsPerSecond: errors,
    p99Seconds: p99,
    onpremRps: sides[0]?.rps ?? 0,
    cloudRps: sides[1]?.rps ?? 0,
    effectiveCloudShare: share,
    maxUtilisation: maxRho,
  };
}
