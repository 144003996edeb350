import { PredictiveSettings } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, fitHolt, forecastAt, learnLeadTime, type RateSample, readForecast } from '../src/index.js';
import { T0 } from './support/run.js';

const STEP_MS = 15_000;
const SMOOTHING = { level: 0.5, trend: 0.3, season: 0.2 };
const RUNS = { numRuns: 100, seed: 20261204 };

function series(count: number, value: (at: number, i: number) => number, start = T0): RateSample[] {
  return Array.from({ length: count }, (_, i) => ({ at: start + i * STEP_MS, value: value(start + i * STEP_MS, i) }));
}

/** A deterministic pseudo-random noise in [-1, 1] (the tests never use Math.random). */
function noise(i: number, seed: number): number {
  const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

const settings = (overrides: Record<string, unknown> = {}) =>
  PredictiveSettings.parse({ enabled: true, rateQuery: 'rate', capacityRps: 1000, stepSeconds: 15, ...overrides });

describe("Holt's linear trend", () => {
  it('follows a linear ramp: the trend is its slope and the forecast extrapolates it', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: -5, max: 20, noNaN: true }),
        (base, slope) => {
          const ramp = series(120, (_, i) => Math.max(0, base + slope * i));
          fc.pre(base + slope * 119 > 0);
          const model = fitHolt(ramp, STEP_MS, SMOOTHING);
          expect(model).not.toBeNull();
          const last = ramp.at(-1) as RateSample;
          const expected = base + slope * 129;
          expect(forecastAt(model!, last.at + 10 * STEP_MS)).toBeCloseTo(Math.max(0, expected), 3);
        },
      ),
      RUNS,
    );
  });

  it('has no trend on a flat noisy rate: the forecast stays inside the noise band', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (seed) => {
        const flat = series(240, (_, i) => 500 * (1 + 0.1 * noise(i, seed)));
        const model = fitHolt(flat, STEP_MS, SMOOTHING)!;
        const ahead = forecastAt(model, model.at + 8 * STEP_MS);
        expect(ahead).toBeGreaterThan(300);
        expect(ahead).toBeLessThan(700);
      }),
      RUNS,
    );
  });

  it('ignores unusable samples and needs two points', () => {
    expect(fitHolt([], STEP_MS, SMOOTHING)).toBeNull();
    expect(fitHolt([{ at: T0, value: 5 }], STEP_MS, SMOOTHING)).toBeNull();
    const dirty = [
      { at: T0 + STEP_MS, value: Number.NaN },
      { at: T0, value: 10 },
      { at: T0 + 2 * STEP_MS, value: -1 },
      { at: T0 + 3 * STEP_MS, value: 10 },
    ];
    const model = fitHolt(dirty, STEP_MS, SMOOTHING)!;
    expect(model.at).toBe(T0 + 3 * STEP_MS);
    expect(forecastAt(model, model.at + STEP_MS)).toBeCloseTo(10, 6);
  });

  it('with a day of history, the daily term forecasts tomorrow’s peak that a plain trend misses', () => {
    const stepMs = 60_000;
    const daily = (at: number) => 400 + 300 * Math.max(0, Math.sin((2 * Math.PI * (at % DAY_MS)) / DAY_MS));
    const start = Date.UTC(2025, 2, 1, 0, 0, 0);
    // Two days up to 05:00 on day 3, the rate rising toward its 06:00 peak; at 12:00 it is back down.
    const history = Array.from({ length: 2 * 1440 + 300 }, (_, i) => ({
      at: start + i * stepMs,
      value: daily(start + i * stepMs),
    }));
    const seasonal = fitHolt(history, stepMs, SMOOTHING)!;
    expect(seasonal.season).not.toBeNull();
    const plain = fitHolt(history.slice(-600), stepMs, SMOOTHING)!;
    expect(plain.season).toBeNull();
    for (const hour of [6, 12]) {
      const at = start + 2 * DAY_MS + hour * 3_600_000;
      expect(Math.abs(forecastAt(seasonal, at) - daily(at))).toBeLessThan(30);
    }
    const noon = start + 2 * DAY_MS + 12 * 3_600_000;
    expect(Math.abs(forecastAt(plain, noon) - daily(noon))).toBeGreaterThan(100);
  });
});

describe('readForecast', () => {
  it('finds the crossing of on-prem capacity within the lead time, and none beyond it', () => {
    // 600 rps rising 2 rps per step (≈0.13 rps/s): capacity 1000 is 200 steps (50 min) away.
    const ramp = series(100, (_, i) => 600 + 2 * i);
    expect(readForecast(ramp, settings({ horizonSeconds: 3600 }), 120)?.crossingAt).toBeNull();
    const steep = series(100, (_, i) => 600 + 4 * i); // 996 at the last sample
    const reading = readForecast(steep, settings(), 120)!;
    expect(reading.method).toBe('holt');
    expect(reading.crossingAt).toBe((steep.at(-1) as RateSample).at + STEP_MS);
    expect(reading.peakRps).toBeGreaterThan(1000);
  });

  it('counts load already above capacity as crossed now', () => {
    const above = series(20, () => 1200);
    const reading = readForecast(above, settings(), 120)!;
    expect(reading.crossingAt).toBe(reading.at);
  });
});

describe('learnLeadTime', () => {
  it('starts from the first observation and moves toward new ones', () => {
    const first = learnLeadTime(undefined, 100);
    expect(first).toEqual({ seconds: 100, samples: 1 });
    const second = learnLeadTime(first, 200);
    expect(second.samples).toBe(2);
    expect(second.seconds).toBeGreaterThan(100);
    expect(second.seconds).toBeLessThan(200);
    expect(learnLeadTime(undefined, 1e9).seconds).toBe(3600);
  });
});
