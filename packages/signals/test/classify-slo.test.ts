import { SloPolicy } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifySlo,
  PrometheusQueryError,
  type QueryResponse,
  SloEvaluator,
  type SloSample,
  toSloSample,
} from '../src/index.js';

const value = (v: number): SloSample => ({ kind: 'value', value: v });
const empty: SloSample = { kind: 'empty' };
const error = (message: string): SloSample => ({ kind: 'error', message });

// Page condition of a 99.9% objective: both windows above 14.4 × 0.001 = 0.0144; recovered
// below 0.8 × 0.0144 = 0.01152.
const policy = SloPolicy.parse({
  latency: { query: 'p99', thresholdSeconds: 0.5 },
  errorBudget: {
    objective: 0.999,
    windows: [
      { name: '1h', query: 'ratio1h', burnRate: 14.4 },
      { name: '5m', query: 'ratio5m', burnRate: 14.4 },
    ],
  },
});
const latencyOnly = SloPolicy.parse({ latency: { query: 'p99', thresholdSeconds: 0.5 } });
const budgetOnly = SloPolicy.parse({ errorBudget: policy.errorBudget });

describe('classifySlo', () => {
  it.each([
    // latency alone
    ['latency above threshold', latencyOnly, { latency: value(0.6) }, 'breached'],
    ['latency +Inf', latencyOnly, { latency: value(Number.POSITIVE_INFINITY) }, 'breached'],
    ['latency at threshold is not above it', latencyOnly, { latency: value(0.5) }, 'ok'],
    ['latency between recover line and threshold', latencyOnly, { latency: value(0.45) }, 'ok'],
    ['latency at the recover line is not below it', latencyOnly, { latency: value(0.4) }, 'ok'],
    ['latency below the recover line', latencyOnly, { latency: value(0.39) }, 'recovered'],
    ['latency NaN (no traffic)', latencyOnly, { latency: value(Number.NaN) }, 'unknown'],
    ['latency -Inf (nonsense)', latencyOnly, { latency: value(Number.NEGATIVE_INFINITY) }, 'unknown'],
    ['latency empty vector', latencyOnly, { latency: empty }, 'unknown'],
    ['latency query failed', latencyOnly, { latency: error('boom') }, 'unknown'],
    // error budget alone
    ['every window burning', budgetOnly, { windows: { '1h': value(0.02), '5m': value(0.5) } }, 'breached'],
    ['only the long window burning', budgetOnly, { windows: { '1h': value(0.02), '5m': value(0.001) } }, 'ok'],
    ['only the short window burning', budgetOnly, { windows: { '1h': value(0.001), '5m': value(0.5) } }, 'ok'],
    [
      'short window NaN: no evidence, no breach',
      budgetOnly,
      { windows: { '1h': value(0.02), '5m': value(Number.NaN) } },
      'ok',
    ],
    ['short window empty: no breach', budgetOnly, { windows: { '1h': value(0.02), '5m': empty } }, 'ok'],
    ['every window below recover line', budgetOnly, { windows: { '1h': value(0.011), '5m': value(0) } }, 'recovered'],
    ['one window in the band', budgetOnly, { windows: { '1h': value(0.012), '5m': value(0) } }, 'ok'],
    ['one window NaN holds at ok', budgetOnly, { windows: { '1h': value(0), '5m': value(Number.NaN) } }, 'ok'],
    [
      'every window NaN (0/0)',
      budgetOnly,
      { windows: { '1h': value(Number.NaN), '5m': value(Number.NaN) } },
      'unknown',
    ],
    ['every window empty', budgetOnly, { windows: { '1h': empty, '5m': empty } }, 'unknown'],
    ['a window missing from the samples', budgetOnly, { windows: { '1h': value(0.5) } }, 'ok'],
    [
      '+Inf ratio counts as burning',
      budgetOnly,
      { windows: { '1h': value(0.5), '5m': value(Number.POSITIVE_INFINITY) } },
      'breached',
    ],
    // both
    [
      'latency breached, budget fine',
      policy,
      { latency: value(0.7), windows: { '1h': value(0), '5m': value(0) } },
      'breached',
    ],
    [
      'budget breached, latency fine',
      policy,
      { latency: value(0.1), windows: { '1h': value(0.02), '5m': value(0.02) } },
      'breached',
    ],
    ['both recovered', policy, { latency: value(0.1), windows: { '1h': value(0), '5m': value(0) } }, 'recovered'],
    [
      'latency recovered, budget in band',
      policy,
      { latency: value(0.1), windows: { '1h': value(0.012), '5m': value(0.012) } },
      'ok',
    ],
    [
      'latency NaN, budget recovered: not every part recovered',
      policy,
      { latency: value(Number.NaN), windows: { '1h': value(0), '5m': value(0) } },
      'ok',
    ],
    [
      'latency breached but a window errored',
      policy,
      { latency: value(0.7), windows: { '1h': error('down'), '5m': value(0) } },
      'unknown',
    ],
    ['no data anywhere', policy, { latency: empty, windows: { '1h': empty, '5m': value(Number.NaN) } }, 'unknown'],
  ] as const)('%s → %s', (_name, p, samples, state) => {
    expect(classifySlo(p, samples).state).toBe(state);
  });

  it('an empty policy is unknown', () => {
    expect(classifySlo(SloPolicy.parse({}), {})).toMatchObject({
      state: 'unknown',
      reason: expect.stringContaining('no latency'),
    });
  });

  it('reports values (null without evidence) and a readable reason', () => {
    const signal = classifySlo(policy, {
      latency: value(Number.NaN),
      windows: { '1h': value(0.02), '5m': value(0.5) },
    });
    expect(signal).toEqual({
      state: 'breached',
      values: { latencySeconds: null, errorRatios: { '1h': 0.02, '5m': 0.5 } },
      reason: 'latency: no traffic (NaN); error ratio 1h 0.02 > 0.0144, 5m 0.5 > 0.0144 (every window burning)',
    });
  });

  it('puts the query error in the reason', () => {
    const signal = classifySlo(budgetOnly, {
      windows: { '1h': error('Prometheus query "r" failed: connection: ECONNREFUSED'), '5m': value(0.5) },
    });
    expect(signal.state).toBe('unknown');
    expect(signal.reason).toBe('query failed: 1h: Prometheus query "r" failed: connection: ECONNREFUSED');
  });

  const sample = fc.oneof(
    fc.double({ min: 0, max: 2, noNaN: true }).map(value),
    fc.constantFrom(
      value(Number.NaN),
      value(Number.POSITIVE_INFINITY),
      value(Number.NEGATIVE_INFINITY),
      empty,
      error('x'),
    ),
  );
  const samples = fc.record({ latency: sample, windows: fc.record({ '1h': sample, '5m': sample }) });
  const finite = (s: SloSample): number | null =>
    s.kind === 'value' && !Number.isNaN(s.value) && s.value !== Number.NEGATIVE_INFINITY ? s.value : null;

  it('property: any query error → unknown; never breached without evidence above a threshold', () => {
    fc.assert(
      fc.property(samples, (input) => {
        const signal = classifySlo(policy, input);
        const all = [input.latency, input.windows['1h'], input.windows['5m']];
        if (all.some((s) => s.kind === 'error')) return signal.state === 'unknown';
        const latency = finite(input.latency);
        const windows = [finite(input.windows['1h']), finite(input.windows['5m'])];
        const latencyBreached = latency !== null && latency > 0.5;
        const budgetBreached = windows.every((w) => w !== null && w > 0.0144);
        return (signal.state === 'breached') === (latencyBreached || budgetBreached);
      }),
    );
  });

  it('property: recovered only when every part is evidently below its recover line', () => {
    fc.assert(
      fc.property(samples, (input) => {
        const signal = classifySlo(policy, input);
        if (signal.state !== 'recovered') return true;
        const latency = finite(input.latency);
        const windows = [finite(input.windows['1h']), finite(input.windows['5m'])];
        return latency !== null && latency < 0.4 && windows.every((w) => w !== null && w < 0.8 * 0.0144);
      }),
    );
  });
});

describe('toSloSample', () => {
  const vector = (...vs: number[]): QueryResponse => ({
    resultType: 'vector',
    result: vs.map((v, i) => ({ metric: { i: String(i) }, timestamp: 1, value: v })),
    warnings: [],
    infos: [],
  });
  it('takes the worst real value of a vector, NaN only when every sample is NaN', () => {
    expect(toSloSample(vector(0.1, Number.NaN, 0.3))).toEqual(value(0.3));
    expect(toSloSample(vector(Number.NaN))).toEqual(value(Number.NaN));
    expect(toSloSample(vector())).toEqual(empty);
    expect(toSloSample({ resultType: 'scalar', result: { timestamp: 1, value: 2 }, warnings: [], infos: [] })).toEqual(
      value(2),
    );
    expect(toSloSample({ resultType: 'matrix', result: [], warnings: [], infos: [] })).toMatchObject({ kind: 'error' });
  });
});

describe('SloEvaluator', () => {
  it('queries every part and classifies; a failing query makes it unknown with the error', async () => {
    const answers: Record<string, () => QueryResponse> = {
      p99: () => ({
        resultType: 'vector',
        result: [{ metric: {}, timestamp: 1, value: 0.1 }],
        warnings: [],
        infos: [],
      }),
      ratio1h: () => ({
        resultType: 'vector',
        result: [{ metric: {}, timestamp: 1, value: 0.02 }],
        warnings: [],
        infos: [],
      }),
      ratio5m: () => {
        throw new PrometheusQueryError(
          'connection',
          null,
          'Prometheus query "ratio5m" failed: connection: ECONNREFUSED',
        );
      },
    };
    const asked: string[] = [];
    const evaluator = new SloEvaluator({
      query: async (promql: string) => {
        asked.push(promql);
        const answer = answers[promql];
        if (!answer) throw new Error(`unexpected query ${promql}`);
        return answer();
      },
    });
    const signal = await evaluator.evaluate(policy);
    expect(asked.sort()).toEqual(['p99', 'ratio1h', 'ratio5m']);
    expect(signal.state).toBe('unknown');
    expect(signal.reason).toContain('ECONNREFUSED');

    answers['ratio5m'] = answers['ratio1h']!;
    expect((await evaluator.evaluate(policy)).state).toBe('breached');
  });
});
