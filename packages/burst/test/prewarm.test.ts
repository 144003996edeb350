import { type BurstPolicy, PredictiveSettings } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BurstAction,
  type BurstSignals,
  type BurstState,
  budgetReplicas,
  committedShare,
  type DecideInput,
  decide,
  type ForecastReading,
  initialBurstState,
  signalLevel,
} from '../src/index.js';
import { policyArb, signalsArb } from './support/arbitraries.js';
import { storyPolicy } from './support/policy.js';
import { T0 } from './support/run.js';
import { SimulatedWorld } from './support/world.js';

const RUNS = { numRuns: 200, seed: 20261204 };
const CAPACITY_RPS = 1000;
const QUIET: BurstSignals = { alertFiring: false, slo: 'recovered' };
const BREACHED: BurstSignals = { alertFiring: false, slo: 'breached' };

function predictive(policy: BurstPolicy, overrides: Record<string, unknown> = {}): BurstPolicy {
  const settings = PredictiveSettings.parse({
    enabled: true,
    rateQuery: 'service:http_requests:rate1m{service="checkout.shop"}',
    capacityRps: CAPACITY_RPS,
    releaseAfterSeconds: 300,
    ...overrides,
  });
  return { ...policy, predictive: settings };
}

function reading(now: number, observedRps: number, crossingInSeconds: number | null, peakRps = 1300): ForecastReading {
  return {
    at: now,
    method: 'holt',
    observedRps,
    capacityRps: CAPACITY_RPS,
    leadTimeSeconds: 120,
    horizonSeconds: 600,
    crossingAt: crossingInSeconds === null ? null : now + crossingInSeconds * 1000,
    peakRps,
    levelRps: observedRps,
    trendRpsPerSecond: 1,
  };
}

/** Drives decide tick by tick against a world that runs the actions after `delayMs`. */
class Drive {
  state: BurstState = initialBurstState();
  now = T0;
  readonly world: SimulatedWorld;
  readonly actions: BurstAction[][] = [];
  readonly reasons: string[] = [];

  constructor(
    readonly policy: BurstPolicy,
    private readonly delayMs = 60_000,
  ) {
    this.world = new SimulatedWorld(policy);
  }

  tick(advanceMs: number, signals: BurstSignals, forecast: ForecastReading | null) {
    this.now += advanceMs;
    this.world.advanceTo(this.now);
    const input: DecideInput = {
      policy: this.policy,
      state: this.state,
      now: this.now,
      signals,
      observed: this.world.observe(),
      forecast,
    };
    const decision = decide(input);
    this.world.submit(decision.actions, this.now, { delayMs: this.delayMs, fail: false });
    this.state = decision.state;
    this.actions.push(decision.actions);
    this.reasons.push(...decision.audit.map((entry) => `${entry.decision}: ${entry.reason}`));
    return decision;
  }
}

const trafficShares = (actions: readonly BurstAction[]) =>
  actions.flatMap((action) => (action.kind === 'set-traffic-share' ? [action.share] : []));

describe('predictive pre-warming: the story', () => {
  it('warms capacity ahead of the crossing without moving traffic, then shifts when the load arrives', () => {
    const drive = new Drive(predictive(storyPolicy()), 60_000);
    const warm = drive.tick(15_000, QUIET, reading(drive.now + 15_000, 900, 90, 1300));
    expect(warm.state.phase).toBe('warming');
    expect(warm.audit[0]?.decision).toBe('prewarm');
    expect(warm.audit[0]?.reason).toMatch(
      /^forecast \(Holt's linear trend\): 900 rps now.*crosses on-prem capacity 1000 rps at .*warming capacity for share 0\.25 without moving traffic$/,
    );
    // Share 0.25 of 40 replicas at full share: 10 replicas on 1 node; no traffic action at all.
    expect(warm.actions.map((a) => a.kind).sort()).toEqual(['scale-deployment', 'scale-nodegroup']);
    expect(warm.actions.find((a) => a.kind === 'scale-deployment')).toMatchObject({ replicas: 10 });

    // Capacity becomes ready; the forecast still says it is coming: still warming, still no traffic.
    for (let i = 0; i < 4; i++) {
      const d = drive.tick(15_000, QUIET, reading(drive.now + 15_000, 950, 30));
      expect(d.state.phase).toBe('warming');
      expect(trafficShares(d.actions)).toEqual([]);
    }
    expect(drive.world.observe().replicasReady).toBe(10);
    expect(drive.world.routerShare).toBe(0);

    // The load reaches on-prem capacity: traffic moves onto the warm capacity at once, before any SLO breach.
    const arrived = drive.tick(15_000, QUIET, reading(drive.now + 15_000, 1050, 0));
    expect(arrived.state.phase).toBe('shifting');
    expect(trafficShares(arrived.actions)).toEqual([0.1]);
    expect(arrived.audit.map((entry) => entry.reason).join('\n')).toMatch(
      /the forecast came true.*shifting traffic onto the warm capacity/,
    );
    // The learned lead time is kept with the state: requested → ready took the world's 60 s delay.
    expect(arrived.state.leadTime).toEqual({ seconds: 60, samples: 1 });
  });

  it('shifts on an SLO breach while warming', () => {
    const drive = new Drive(
      predictive(storyPolicy({ slo: { latency: { query: 'p99', thresholdSeconds: 0.5 } } })),
      10_000,
    );
    drive.tick(15_000, QUIET, reading(drive.now + 15_000, 900, 60));
    drive.tick(15_000, { alertFiring: false, slo: 'ok' }, reading(drive.now + 15_000, 900, 45));
    const hot = drive.tick(15_000, BREACHED, reading(drive.now + 15_000, 900, 30));
    expect(hot.state.phase).toBe('shifting');
    expect(trafficShares(hot.actions)).toEqual([0.1]);
  });

  it('releases the warm capacity when the forecast does not come true, and does not re-warm at once', () => {
    const drive = new Drive(predictive(storyPolicy(), { releaseAfterSeconds: 120 }), 10_000);
    drive.tick(15_000, QUIET, reading(drive.now + 15_000, 900, 60));
    expect(drive.state.phase).toBe('warming');
    for (let i = 0; i < 7; i++) drive.tick(15_000, QUIET, reading(drive.now + 15_000, 700, null));
    expect(drive.state.phase).toBe('warming');
    const released = drive.tick(15_000, QUIET, reading(drive.now + 15_000, 700, null));
    expect(released.state.phase).toBe('scaling-in');
    expect(released.audit.find((entry) => entry.decision === 'prewarm')?.reason).toMatch(
      /^the forecast did not come true: .*releasing the warm capacity/,
    );
    for (let i = 0; i < 3; i++) drive.tick(15_000, QUIET, reading(drive.now + 15_000, 700, null));
    expect(drive.state.phase).toBe('idle');
    expect(drive.world.observe().replicasReady).toBe(0);
    expect(drive.world.routerShare).toBe(0);
    // A new crossing forecast within the hold does not warm again.
    drive.tick(15_000, QUIET, reading(drive.now + 15_000, 900, 60));
    expect(drive.state.phase).toBe('idle');
  });

  it('an abort while warming releases the capacity; a manual start takes the warm burst over', () => {
    const aborted = new Drive(predictive(storyPolicy()), 10_000);
    aborted.tick(15_000, QUIET, reading(aborted.now + 15_000, 900, 60));
    aborted.now += 15_000;
    aborted.world.advanceTo(aborted.now);
    const stop = decide({
      policy: aborted.policy,
      state: aborted.state,
      now: aborted.now,
      signals: QUIET,
      observed: aborted.world.observe(),
      forecast: reading(aborted.now, 900, 45),
      commands: { abort: { reason: 'not today', actor: 'ops' } },
    });
    expect(stop.state.phase).toBe('aborted');
    expect(stop.actions.filter((a) => a.kind === 'scale-deployment')).toEqual([
      expect.objectContaining({ replicas: 0 }),
    ]);

    const manual = new Drive(predictive(storyPolicy()), 10_000);
    manual.tick(15_000, QUIET, reading(manual.now + 15_000, 900, 60));
    const warmId = manual.state.burst?.id;
    manual.now += 15_000;
    const start = decide({
      policy: manual.policy,
      state: manual.state,
      now: manual.now,
      signals: QUIET,
      observed: manual.world.observe(),
      forecast: reading(manual.now, 900, 45),
      commands: { start: { id: 'game-day', share: 0.1, reason: 'game day', actor: 'ops' } },
    });
    expect(start.state.burst).toMatchObject({ id: 'game-day', origin: 'manual' });
    expect(start.state.burst?.id).not.toBe(warmId);
    expect(start.audit.map((entry) => entry.decision)).not.toContain('refusal');
  });

  it('does nothing with a forecast while the policy is not predictive', () => {
    const drive = new Drive(predictive(storyPolicy(), { enabled: false }));
    const d = drive.tick(15_000, QUIET, reading(drive.now + 15_000, 990, 10));
    expect(d.state.phase).toBe('idle');
    expect(d.actions).toEqual([]);
  });
});

const tickArb = fc.record({
  advanceMs: fc.integer({ min: 1_000, max: 120_000 }),
  signals: fc.oneof(fc.constant(QUIET), signalsArb),
  observedRps: fc.integer({ min: 0, max: 2000 }),
  crossingIn: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
  peakRps: fc.integer({ min: 500, max: 5000 }),
  delayMs: fc.integer({ min: 0, max: 120_000 }),
});

describe('predictive pre-warming: properties', () => {
  it('warm capacity never carries traffic, stays within the budget, and is released after the bound', () => {
    fc.assert(
      fc.property(policyArb, fc.array(tickArb, { minLength: 1, maxLength: 60 }), (base, ticks) => {
        const policy = predictive(base);
        const releaseMs = (policy.predictive?.releaseAfterSeconds ?? 0) * 1000;
        let state = initialBurstState();
        let now = T0;
        const world = new SimulatedWorld(policy);
        // Since the current burst started: did the signals turn hot or the load reach capacity?
        let justified = false;
        for (const tick of ticks) {
          now += tick.advanceMs;
          world.advanceTo(now);
          const forecast = reading(now, tick.observedRps, tick.crossingIn, tick.peakRps);
          const before = committedShare(state);
          const decision = decide({ policy, state, now, signals: tick.signals, observed: world.observe(), forecast });
          world.submit(decision.actions, now, { delayMs: tick.delayMs, fail: false });
          if (state.burst === null) justified = false;
          justified ||= signalLevel(policy, tick.signals) === 'hot' || tick.observedRps >= CAPACITY_RPS;
          state = decision.state;
          if (state.phase === 'warming') {
            expect(committedShare(state)).toBe(0);
            expect(trafficShares(decision.actions).every((share) => share === 0)).toBe(true);
            expect(now - (state.burst?.prewarm?.supportedAt ?? now)).toBeLessThan(releaseMs);
          }
          if (before === 0 && committedShare(state) > 0) expect(justified).toBe(true);
          for (const action of decision.actions) {
            if (action.kind === 'scale-deployment')
              expect(action.replicas).toBeLessThanOrEqual(budgetReplicas(policy.capacity));
            if (action.kind === 'scale-nodegroup')
              expect(action.desiredSize).toBeLessThanOrEqual(policy.capacity.maxNodes);
          }
        }
      }),
      RUNS,
    );
  });

  it('a policy without predictive.enabled decides exactly as if no forecast were given', () => {
    fc.assert(
      fc.property(policyArb, fc.array(tickArb, { minLength: 1, maxLength: 40 }), (base, ticks) => {
        const policy = predictive(base, { enabled: false });
        let state = initialBurstState();
        let now = T0;
        const world = new SimulatedWorld(policy);
        for (const tick of ticks) {
          now += tick.advanceMs;
          world.advanceTo(now);
          const input = { policy, state, now, signals: tick.signals, observed: world.observe() };
          const withForecast = decide({
            ...input,
            forecast: reading(now, tick.observedRps, tick.crossingIn, tick.peakRps),
          });
          expect(withForecast).toEqual(decide(input));
          world.submit(withForecast.actions, now, { delayMs: tick.delayMs, fail: false });
          state = withForecast.state;
        }
      }),
      RUNS,
    );
  });
});
