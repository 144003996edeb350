import type { PredictiveSettings } from '@spillway/model';

/**
 * Request-rate forecasting, pure: Holt's linear trend (double exponential smoothing) over the
 * rate history, with an additive daily seasonal term (Holt–Winters) once a day of history is
 * there. No clock, no I/O: the caller hands in the samples (a Prometheus range query) and gets a
 * model it can evaluate at any future instant.
 */

export const DAY_MS = 86_400_000;

/** One point of the request-rate history: epoch ms and requests/s. */
export interface RateSample {
  at: number;
  value: number;
}

export interface HoltSmoothing {
  /** α: weight of the newest observation in the level. */
  level: number;
  /** β: weight of the newest level change in the trend. */
  trend: number;
  /** γ: weight of the newest deviation in its time-of-day seasonal term. */
  season: number;
}

export interface HoltModel {
  /** Epoch ms of the newest sample folded in: forecasts count steps from here. */
  at: number;
  stepMs: number;
  /** The de-seasonalised rate at `at`. */
  level: number;
  /** Change of the level per step. */
  trend: number;
  /** Additive term per time-of-day bucket (UTC, one bucket per step); null under a day of history. */
  season: number[] | null;
}

function seasonBuckets(stepMs: number): number {
  return Math.max(1, Math.ceil(DAY_MS / stepMs));
}

function bucketOf(at: number, stepMs: number): number {
  const ofDay = ((at % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.floor(ofDay / stepMs) % seasonBuckets(stepMs);
}

/** Usable samples in time order: finite, non-negative, one per instant. */
function clean(samples: readonly RateSample[]): RateSample[] {
  const sorted = samples
    .filter((sample) => Number.isFinite(sample.at) && Number.isFinite(sample.value) && sample.value >= 0)
    .sort((a, b) => a.at - b.at);
  return sorted.filter((sample, i) => i === 0 || sample.at > (sorted[i - 1]?.at ?? 0));
}

/** The first day's deviation from its own mean, per time-of-day bucket (0 where it saw nothing). */
function initialSeason(samples: readonly RateSample[], stepMs: number): number[] {
  const first = samples[0]?.at ?? 0;
  const day = samples.filter((sample) => sample.at < first + DAY_MS);
  const mean = day.reduce((sum, sample) => sum + sample.value, 0) / day.length;
  const sums = new Array<number>(seasonBuckets(stepMs)).fill(0);
  const counts = new Array<number>(seasonBuckets(stepMs)).fill(0);
  for (const sample of day) {
    const bucket = bucketOf(sample.at, stepMs);
    sums[bucket] = (sums[bucket] ?? 0) + sample.value - mean;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return sums.map((sum, bucket) => (counts[bucket] ? sum / (counts[bucket] ?? 1) : 0));
}

/**
 * Fits the model to the history; null with fewer than two usable samples. A gap of k steps
 * between samples advances the level by k trends before the newest observation is folded in.
 */
export function fitHolt(samples: readonly RateSample[], stepMs: number, smoothing: HoltSmoothing): HoltModel | null {
  const points = clean(samples);
  const first = points[0];
  const last = points.at(-1);
  if (first === undefined || last === undefined || points.length < 2) return null;
  // "A day of history": the range of a one-day query with step s spans one day minus at most s.
  const season = last.at - first.at >= DAY_MS - stepMs ? initialSeason(points, stepMs) : null;
  const deseason = (sample: RateSample) => sample.value - (season?.[bucketOf(sample.at, stepMs)] ?? 0);
  let level = deseason(first);
  let trend = 0;
  for (let i = 1; i < points.length; i++) {
    const sample = points[i] as RateSample;
    const steps = Math.max(1, Math.round((sample.at - (points[i - 1] as RateSample).at) / stepMs));
    const predicted = level + steps * trend;
    const next = smoothing.level * deseason(sample) + (1 - smoothing.level) * predicted;
    trend = (smoothing.trend * (next - level)) / steps + (1 - smoothing.trend) * trend;
    level = next;
    if (season !== null) {
      const bucket = bucketOf(sample.at, stepMs);
      season[bucket] = smoothing.season * (sample.value - level) + (1 - smoothing.season) * (season[bucket] ?? 0);
    }
  }
  return { at: last.at, stepMs, level, trend, season };
}

/** The forecast rate at epoch ms `at` (never below 0). */
export function forecastAt(model: HoltModel, at: number): number {
  const steps = (at - model.at) / model.stepMs;
  const seasonal = model.season?.[bucketOf(at, model.stepMs)] ?? 0;
  return Math.max(0, model.level + steps * model.trend + seasonal);
}

/** What one forecast says about one policy's on-prem capacity; JSON, for the audit and the core. */
export interface ForecastReading {
  /** Epoch ms of the newest sample: "now" as the history knows it. */
  at: number;
  method: 'holt' | 'holt-daily';
  /** The newest observed rate (requests/s). */
  observedRps: number;
  /** On-prem capacity the forecast is compared with (the policy's `predictive.capacityRps`). */
  capacityRps: number;
  /** The lead time (s) the crossing is looked for within: the learned or default one. */
  leadTimeSeconds: number;
  /** How far ahead (s) the peak is looked for (the policy's `predictive.horizonSeconds`). */
  horizonSeconds: number;
  /** The first instant within the lead time at which the forecast reaches capacityRps; null: none. */
  crossingAt: number | null;
  /** The highest forecast within the horizon (sizes the warm capacity). */
  peakRps: number;
  /** The de-seasonalised level and its trend per second, for the audit. */
  levelRps: number;
  trendRpsPerSecond: number;
}

/**
 * Fits the history and reads it against the policy: where the forecast crosses on-prem capacity
 * within the lead time (plus one step: decisions are a step apart), and its peak over the horizon.
 * Null without enough history.
 */
export function readForecast(
  samples: readonly RateSample[],
  settings: PredictiveSettings,
  leadTimeSeconds: number,
): ForecastReading | null {
  const stepMs = settings.stepSeconds * 1000;
  const model = fitHolt(samples, stepMs, settings.smoothing);
  if (model === null) return null;
  const observedRps = clean(samples).at(-1)?.value ?? 0;
  const lookAheadMs = Math.min(settings.horizonSeconds, leadTimeSeconds + settings.stepSeconds) * 1000;
  let crossingAt: number | null = observedRps >= settings.capacityRps ? model.at : null;
  let peakRps = observedRps;
  for (let ahead = stepMs; ahead <= settings.horizonSeconds * 1000; ahead += stepMs) {
    const value = forecastAt(model, model.at + ahead);
    peakRps = Math.max(peakRps, value);
    if (crossingAt === null && ahead <= lookAheadMs && value >= settings.capacityRps) crossingAt = model.at + ahead;
  }
  return {
    at: model.at,
    method: model.season === null ? 'holt' : 'holt-daily',
    observedRps,
    capacityRps: settings.capacityRps,
    leadTimeSeconds,
    horizonSeconds: settings.horizonSeconds,
    crossingAt,
    peakRps,
    levelRps: model.level,
    trendRpsPerSecond: model.trend / settings.stepSeconds,
  };
}

/** The cloud share that keeps on-prem at its capacity when `rps` arrive (0 when it fits). */
export function shareNeededFor(rps: number, capacityRps: number): number {
  return rps <= capacityRps ? 0 : 1 - capacityRps / rps;
}

/** One line for the audit log: what the forecast said and why. */
export function describeForecast(reading: ForecastReading): string {
  const method = reading.method === 'holt-daily' ? "Holt's linear trend with a daily term" : "Holt's linear trend";
  const trend =
    reading.trendRpsPerSecond >= 0 ? `+${round(reading.trendRpsPerSecond)}` : round(reading.trendRpsPerSecond);
  const crossing =
    reading.crossingAt === null
      ? `no crossing of ${round(reading.capacityRps)} rps within ${reading.leadTimeSeconds} s`
      : `crosses on-prem capacity ${round(reading.capacityRps)} rps at ${new Date(reading.crossingAt).toISOString()}`;
  return (
    `forecast (${method}): ${round(reading.observedRps)} rps now, level ${round(reading.levelRps)} rps, ` +
    `trend ${trend} rps/s, peak ${round(reading.peakRps)} rps; ${crossing} (lead time ${reading.leadTimeSeconds} s)`
  );
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}
