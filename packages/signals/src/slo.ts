import type { SloPolicy } from '@spillway/model';
import type { PrometheusClient, QueryOptions } from './prometheus/client.js';
import { PrometheusQueryError, type QueryResponse } from './prometheus/response.js';

/**
 * What one SLO query gave:
 * - `value`: a number, possibly NaN (0/0: no traffic), +Inf or -Inf;
 * - `empty`: an empty vector (the series does not exist yet, or no traffic at all);
 * - `error`: the query failed (Prometheus down, bad PromQL, a result that is not a number).
 */
export type SloSample = { kind: 'value'; value: number } | { kind: 'empty' } | { kind: 'error'; message: string };

/** Every query of a policy, by role: the latency query and each error-budget window by name. */
export interface SloSamples {
  latency?: SloSample;
  windows?: Record<string, SloSample>;
}

/**
 * - `breached`: the SLO is being violated (latency above threshold, or every burn-rate window
 *   above its threshold): a reason to burst.
 * - `recovered`: every part of the SLO is clearly healthy, below `recoverBelow` × threshold:
 *   a reason to step back (hysteresis).
 * - `ok`: between the two: hold where you are.
 * - `unknown`: no evidence either way (a query failed, or nothing had data): the controller must
 *   neither start nor stop a burst on it.
 */
export type SloState = 'breached' | 'ok' | 'recovered' | 'unknown';

export interface SloSignal {
  state: SloState;
  /**
   * The numbers behind the state: `null` where there was no evidence (empty vector, NaN, error).
   * +Inf stays Infinity (serialise with care: JSON turns it into null).
   */
  values: { latencySeconds?: number | null; errorRatios?: Record<string, number | null> };
  /** One human line for the audit log: what decided the state. */
  reason: string;
}

type Verdict = 'breached' | 'ok' | 'recovered' | 'none';

interface Part {
  verdict: Verdict;
  reason: string;
}

const DEFAULT_RECOVER_BELOW = 0.8;

function format(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number(value.toPrecision(4)).toString();
}

/** Has this sample evidence? NaN (0/0) and empty vectors do not; -Inf is not a rate or latency. */
function evidence(sample: SloSample | undefined): number | null {
  if (sample?.kind !== 'value') return null;
  if (Number.isNaN(sample.value) || sample.value === Number.NEGATIVE_INFINITY) return null;
  return sample.value;
}

function describeMissing(sample: SloSample | undefined): string {
  if (!sample) return 'not queried';
  if (sample.kind === 'empty') return 'no data (empty vector)';
  if (sample.kind === 'error') return `error: ${sample.message}`;
  return Number.isNaN(sample.value) ? 'no traffic (NaN)' : `no evidence (${format(sample.value)})`;
}

function classifyLatency(
  latency: NonNullable<SloPolicy['latency']>,
  sample: SloSample | undefined,
  recoverBelow: number,
): Part {
  const value = evidence(sample);
  const threshold = latency.thresholdSeconds;
  if (value === null) return { verdict: 'none', reason: `latency: ${describeMissing(sample)}` };
  const text = `latency ${format(value)}s`;
  if (value > threshold) return { verdict: 'breached', reason: `${text} > ${format(threshold)}s` };
  if (value < recoverBelow * threshold) {
    return { verdict: 'recovered', reason: `${text} < ${format(recoverBelow * threshold)}s` };
  }
  return { verdict: 'ok', reason: `${text} within [${format(recoverBelow * threshold)}s, ${format(threshold)}s]` };
}

function classifyErrorBudget(
  budget: NonNullable<SloPolicy['errorBudget']>,
  samples: Record<string, SloSample>,
  recoverBelow: number,
): Part {
  const allowed = 1 - budget.objective;
  const parts = budget.windows.map((window) => {
    const sample = samples[window.name];
    const threshold = window.burnRate * allowed;
    const value = evidence(sample);
    if (value === null) return { value, threshold, text: `${window.name}: ${describeMissing(sample)}` };
    const relation = value > threshold ? '>' : value < recoverBelow * threshold ? '<<' : '~';
    return { value, threshold, text: `${window.name} ${format(value)} ${relation} ${format(threshold)}` };
  });
  const text = `error ratio ${parts.map((part) => part.text).join(', ')}`;
  const known = parts.filter((part) => part.value !== null);
  if (known.length === 0) return { verdict: 'none', reason: text };
  // Multi-window: a burn counts only when every window agrees (the short one proves it is still
  // happening, the long one that it is significant). A window without data is not agreement.
  if (known.length === parts.length && parts.every((part) => (part.value ?? 0) > part.threshold)) {
    return { verdict: 'breached', reason: `${text} (every window burning)` };
  }
  if (known.length === parts.length && parts.every((part) => (part.value ?? 0) < recoverBelow * part.threshold)) {
    return { verdict: 'recovered', reason: `${text} (every window below ${format(recoverBelow)} x threshold)` };
  }
  return { verdict: 'ok', reason: text };
}

/**
 * The SLO verdict from the policy's query results. Pure: the evaluator only fetches.
 *
 * - Any query error → `unknown` (never start or stop a burst on a broken Prometheus).
 * - Latency breached OR error budget breached → `breached`. +Inf latency is breached.
 * - NaN (0/0, no traffic) and empty vectors are no evidence: never breached; `unknown` when no
 *   part of the policy has evidence.
 * - `recovered` only when every configured part has evidence and is below `recoverBelow` × its
 *   threshold; a part without evidence holds at `ok` (conservative: keep a burst rather than
 *   drain it on missing data).
 */
export function classifySlo(policy: SloPolicy, samples: SloSamples): SloSignal {
  const recoverBelow = policy.recoverBelow ?? DEFAULT_RECOVER_BELOW;
  const values: SloSignal['values'] = {};
  const parts: Part[] = [];
  const errors: string[] = [];

  if (policy.latency) {
    values.latencySeconds = evidence(samples.latency);
    if (samples.latency?.kind === 'error') errors.push(`latency: ${samples.latency.message}`);
    parts.push(classifyLatency(policy.latency, samples.latency, recoverBelow));
  }
  if (policy.errorBudget) {
    const windows = samples.windows ?? {};
    values.errorRatios = Object.fromEntries(policy.errorBudget.windows.map((w) => [w.name, evidence(windows[w.name])]));
    for (const window of policy.errorBudget.windows) {
      const sample = windows[window.name];
      if (sample?.kind === 'error') errors.push(`${window.name}: ${sample.message}`);
    }
    parts.push(classifyErrorBudget(policy.errorBudget, windows, recoverBelow));
  }

  if (parts.length === 0)
    return { state: 'unknown', values, reason: 'the SLO policy has no latency or error-budget query' };
  if (errors.length > 0) return { state: 'unknown', values, reason: `query failed: ${errors.join('; ')}` };

  const reason = parts.map((part) => part.reason).join('; ');
  if (parts.some((part) => part.verdict === 'breached')) return { state: 'breached', values, reason };
  if (parts.every((part) => part.verdict === 'none'))
    return { state: 'unknown', values, reason: `no evidence: ${reason}` };
  if (parts.every((part) => part.verdict === 'recovered')) return { state: 'recovered', values, reason };
  return { state: 'ok', values, reason };
}

/**
 * One query's answer as an SloSample: a scalar, or the worst (largest) non-NaN sample of a
 * vector. A policy's query should return one series; when it returns several, the worst one
 * counts, which is the conservative choice both for breaching and for recovering. Any other
 * result type is a misconfigured query, reported as an error.
 */
export function toSloSample(response: QueryResponse): SloSample {
  switch (response.resultType) {
    case 'scalar':
      return { kind: 'value', value: response.result.value };
    case 'vector': {
      const values = response.result.flatMap((sample) => ('value' in sample ? [sample.value] : []));
      if (response.result.length === 0) return { kind: 'empty' };
      if (values.length === 0) return { kind: 'error', message: 'the vector holds native histograms, not numbers' };
      const real = values.filter((value) => !Number.isNaN(value));
      return { kind: 'value', value: real.length === 0 ? Number.NaN : Math.max(...real) };
    }
    default:
      return { kind: 'error', message: `expected an instant vector or a scalar, got a ${response.resultType}` };
  }
}

/** Fetches a policy's queries from Prometheus (in parallel) and classifies them. */
export class SloEvaluator {
  constructor(private readonly client: Pick<PrometheusClient, 'query'>) {}

  async evaluate(policy: SloPolicy, options: QueryOptions = {}): Promise<SloSignal> {
    // Without a time, each query is evaluated at Prometheus's "now" (milliseconds apart): no
    // clock skew between the controller and Prometheus can push the instant past the data.
    const fetch = async (query: string): Promise<SloSample> => {
      try {
        return toSloSample(await this.client.query(query, options));
      } catch (error) {
        const message = error instanceof PrometheusQueryError || error instanceof Error ? error.message : String(error);
        return { kind: 'error', message };
      }
    };
    const latency = policy.latency ? fetch(policy.latency.query) : undefined;
    const windows = (policy.errorBudget?.windows ?? []).map(
      async (window) => [window.name, await fetch(window.query)] as const,
    );
    const samples: SloSamples = { windows: Object.fromEntries(await Promise.all(windows)) };
    if (latency) samples.latency = await latency;
    return classifySlo(policy, samples);
  }
}
