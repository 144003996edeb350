import { describe, expect, it } from 'vitest';
import { DEFAULT_MEASURED_SHARE, judgeMeasuredShare, type MeasuredShareReading } from '../src/index.js';
import { storyPolicy } from './support/policy.js';
import { FIRING, Scenario } from './support/scenario.js';

const T = 1_700_000_000_000;
const reading = (share: number | null, requests = 1000): MeasuredShareReading => ({
  share,
  requests,
  windowSeconds: 60,
});
const judge = (measured: MeasuredShareReading | undefined, lastShareChangeAt: number | null = T - 120_000) =>
  judgeMeasuredShare({ published: 0.3, measured, lastShareChangeAt, now: T, settings: DEFAULT_MEASURED_SHARE });

describe('judgeMeasuredShare', () => {
  it('follows within the tolerance, diverges beyond it', () => {
    expect(judge(reading(0.27)).kind).toBe('follows');
    expect(judge(reading(0.34)).kind).toBe('follows');
    expect(judge(reading(0.2))).toEqual({
      kind: 'diverges',
      detail: 'measured 0.20 over 60 s (1000 requests), published 0.30: off by more than 0.05',
    });
  });

  it('gives no verdict without reports or with too little traffic, and waits a window after a change', () => {
    expect(judge(undefined).kind).toBe('no-data');
    expect(judge(reading(null, 0)).kind).toBe('no-data');
    expect(judge(reading(0, 99)).detail).toBe('99 requests reported in 60 s (fewer than 100)');
    expect(judge(reading(0.1), T - 30_000).kind).toBe('settling');
    expect(judge(reading(0.1), null).kind).toBe('diverges');
  });
});

describe('holding a step until the measured share follows', () => {
  /** A burst at its first step (0.10) whose clients report `measured` from then on. */
  function atFirstStep(holdSteps: boolean, measured: () => MeasuredShareReading | undefined): Scenario {
    const scenario = new Scenario(storyPolicy({ measuredShare: { holdSteps } }));
    const observe = scenario.world.observe.bind(scenario.world);
    scenario.world.observe = () => {
      const reported = measured();
      return reported ? { ...observe(), measuredShare: reported } : observe();
    };
    scenario.until((s) => s.share === 0.1, FIRING);
    return scenario;
  }

  it('holds while the clients report a share off the published one, and steps once they follow', () => {
    let measured = reading(0.02);
    const scenario = atFirstStep(true, () => measured);
    for (let i = 0; i < 30; i++) scenario.tick(10, FIRING);
    expect(scenario.share).toBe(0.1);
    expect(scenario.state.burst?.waitingOn).toBe(
      'the measured cloud share to follow: measured 0.02 over 60 s (1000 requests), published 0.10: off by more than 0.05',
    );
    measured = reading(0.11);
    scenario.tick(10, FIRING);
    expect(scenario.share).toBe(0.25);
  });

  it('does not hold without holdSteps, nor on no data', () => {
    const ignoring = atFirstStep(false, () => reading(0.02));
    ignoring.until((s) => s.share === 0.25, FIRING, 10, 20);
    const silent = atFirstStep(true, () => undefined);
    silent.until((s) => s.share === 0.25, FIRING, 10, 20);
    expect(silent.share).toBe(0.25);
  });
});
