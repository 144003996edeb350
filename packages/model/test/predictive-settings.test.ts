import { describe, expect, it } from 'vitest';
import { BurstPolicy, DEFAULT_DAMPING } from '../src/index.js';

const base = {
  service: 'checkout.shop',
  capacity: { replicasAtFullShare: 20, maxReplicas: 10, maxNodes: 2 },
};

describe('BurstPolicy.predictive', () => {
  it('takes the documented defaults and needs rateQuery and capacityRps', () => {
    const policy = BurstPolicy.parse({ ...base, predictive: { rateQuery: 'rate', capacityRps: 900 } });
    expect(policy.predictive).toEqual({
      enabled: false,
      rateQuery: 'rate',
      capacityRps: 900,
      horizonSeconds: 600,
      historySeconds: 3600,
      stepSeconds: 15,
      defaultLeadTimeSeconds: 120,
      releaseAfterSeconds: 300,
      smoothing: { level: 0.5, trend: 0.3, season: 0.2 },
    });
    const missing = BurstPolicy.safeParse({ ...base, predictive: { enabled: true } });
    expect(missing.success).toBe(false);
    expect(missing.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'predictive.capacityRps',
      'predictive.rateQuery',
    ]);
  });

  it('refuses a history Prometheus would not answer in one range query, naming the field', () => {
    const result = BurstPolicy.safeParse({
      ...base,
      predictive: { rateQuery: 'rate', capacityRps: 900, historySeconds: 8 * 86_400, stepSeconds: 15 },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['predictive', 'historySeconds']);
    expect(result.error?.issues[0]?.message).toBe(
      'historySeconds / stepSeconds asks for 46081 points; Prometheus answers at most 11000',
    );
    const smoothing = BurstPolicy.safeParse({
      ...base,
      predictive: { rateQuery: 'rate', capacityRps: 900, smoothing: { level: 1 } },
    });
    expect(smoothing.error?.issues[0]?.path).toEqual(['predictive', 'smoothing', 'level']);
  });
});

describe('BurstPolicy.damping', () => {
  it('is optional (the decision core then uses DEFAULT_DAMPING) and takes the documented defaults when given', () => {
    expect(BurstPolicy.parse(base).damping).toBeUndefined();
    expect(DEFAULT_DAMPING).toEqual({ windowCooldowns: 2, maxFactor: 8 });
    expect(BurstPolicy.parse({ ...base, damping: {} }).damping).toEqual(DEFAULT_DAMPING);
    expect(BurstPolicy.parse({ ...base, damping: { maxFactor: 1 } }).damping).toEqual({
      windowCooldowns: 2,
      maxFactor: 1,
    });
  });

  it('names the bad field', () => {
    const paths = (damping: unknown) =>
      BurstPolicy.safeParse({ ...base, damping }).error?.issues.map((issue) => issue.path.join('.'));
    expect(paths({ maxFactor: 0.5 })).toEqual(['damping.maxFactor']);
    expect(paths({ windowCooldowns: 0 })).toEqual(['damping.windowCooldowns']);
    expect(paths({ windowSeconds: 600 })).toEqual(['damping']);
  });
});
