import type { BurstPolicy } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BurstAction, type BurstSignals, committedShare, decide, planPath, signalLevel } from '../src/index.js';
import { policyArb, ticksArb } from './support/arbitraries.js';
import { runTicks, type Step, type Tick } from './support/run.js';

/** Fixed seeds: the suite is deterministic; change a seed to explore further. */
const RUNS = { numRuns: 500, seed: 6 };

/** An independent oracle for the capacity a share needs (not the code under test). */
function needs(policy: BurstPolicy, share: number): { replicas: number; nodes: number } {
  const c = policy.capacity;
  const carried = Math.min(c.maxReplicas, c.maxNodes * c.podsPerNode);
  const wanted = Math.ceil(Math.round(share * c.replicasAtFullShare * 1e6) / 1e6);
  const replicas = Math.min(Math.max(wanted, c.minReplicas), carried);
  const nodes = Math.min(Math.max(Math.ceil(replicas / c.podsPerNode), c.minNodes), c.maxNodes);
  return { replicas, nodes };
}

function shares(step: Step): number[] {
  return step.decision.actions.flatMap((a) => (a.kind === 'set-traffic-share' ? [a.share] : []));
}

/** A scale action asking for less than is observed ready. */
function isCapacityDecrease(step: Step, action: BurstAction): boolean {
  const { replicasReady, nodesReady } = step.input.observed;
  if (action.kind === 'scale-deployment') return action.replicas < replicasReady;
  if (action.kind === 'scale-nodegroup') return action.desiredSize < nodesReady;
  return false;
}

interface ShareChange {
  at: number;
  from: number;
  to: number;
  /** A safety drop or an abort: allowed to skip minDwell. */
  forced: boolean;
}

function shareChanges(steps: readonly Step[]): ShareChange[] {
  const changes: ShareChange[] = [];
  let previous = 0;
  for (const step of steps) {
    const share = committedShare(step.decision.state);
    if (share !== previous) {
      const forced = step.decision.audit.some((e) => e.decision === 'safety' || e.decision === 'abort');
      changes.push({ at: step.input.now, from: previous, to: share, forced });
    }
    previous = share;
  }
  return changes;
}

/** Rising edges into "hot": each is one signal episode. */
function hotEpisodes(policy: BurstPolicy, ticks: readonly Tick[]): number {
  let episodes = 0;
  let wasHot = false;
  for (const tick of ticks) {
    const hot = signalLevel(policy, tick.signals) === 'hot';
    if (hot && !wasHot) episodes += 1;
    wasHot = hot;
  }
  return episodes;
}

function pathLength(policy: BurstPolicy): number {
  return planPath(policy, policy.steps).path.length;
}

describe('burst decisions (properties)', () => {
  it('rule 1: never a share above 0 unless cloud endpoints are ready, healthy and carry its capacity', () => {
    fc.assert(
      fc.property(policyArb, ticksArb(), (policy, ticks) => {
        for (const step of runTicks(policy, ticks)) {
          const observed = step.input.observed;
          for (const share of shares(step).filter((s) => s > 0)) {
            expect(observed.cloudReadyEndpoints).toBeGreaterThan(0);
            expect(observed.cloudHealthy).toBe(true);
            const need = needs(policy, share);
            if (policy.cloud.deployment) expect(observed.replicasReady).toBeGreaterThanOrEqual(need.replicas);
            if (policy.cloud.eks) expect(observed.nodesReady).toBeGreaterThanOrEqual(need.nodes);
          }
          // And traffic never stays on a cloud that is observed unready or unhealthy.
          if (observed.cloudReadyEndpoints === 0 || !observed.cloudHealthy) {
            expect(committedShare(step.decision.state)).toBe(0);
            if (observed.appliedShare > 0) expect(shares(step)).toEqual([0]);
          }
        }
      }),
      RUNS,
    );
  });

  it('rule 2: never a share above maxShare, never capacity above the budget', () => {
    fc.assert(
      fc.property(policyArb, ticksArb(), (policy, ticks) => {
        for (const step of runTicks(policy, ticks)) {
          const share = committedShare(step.decision.state);
          expect(share).toBeLessThanOrEqual(policy.maxShare);
          // The share itself is capped to what the budget carries, not only its capacity.
          const c = policy.capacity;
          const carried = Math.min(c.maxReplicas, c.maxNodes * c.podsPerNode);
          expect(Math.ceil(share * c.replicasAtFullShare - 1e-9)).toBeLessThanOrEqual(carried);
          for (const action of step.decision.actions) {
            if (action.kind === 'set-traffic-share') expect(action.share).toBeLessThanOrEqual(policy.maxShare);
            if (action.kind === 'scale-deployment')
              expect(action.replicas).toBeLessThanOrEqual(policy.capacity.maxReplicas);
            if (action.kind === 'scale-nodegroup')
              expect(action.desiredSize).toBeLessThanOrEqual(policy.capacity.maxNodes);
            if (action.kind === 'set-dns-weights') {
              expect(action.cloudWeight + action.onpremWeight).toBe(255);
              expect(action.cloudWeight).toBeLessThanOrEqual(Math.round(policy.maxShare * 255));
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('rule 3: share changes keep minDwell apart, except safety drops and aborts', () => {
    fc.assert(
      fc.property(policyArb, ticksArb(), (policy, ticks) => {
        const changes = shareChanges(runTicks(policy, ticks));
        changes.forEach((change, i) => {
          const previous = changes[i - 1];
          if (previous === undefined || change.forced) return;
          expect(change.at - previous.at).toBeGreaterThanOrEqual(policy.minDwellSeconds * 1000);
        });
      }),
      RUNS,
    );
  });

  it('rule 3: in a healthy cloud, rises are bounded by signal episodes × steps, and falls by rises', () => {
    fc.assert(
      fc.property(policyArb, ticksArb({ chaos: false, commands: false }), (policy, ticks) => {
        const changes = shareChanges(runTicks(policy, ticks));
        const rises = changes.filter((c) => c.to > c.from).length;
        const falls = changes.filter((c) => c.to < c.from).length;
        expect(rises).toBeLessThanOrEqual(hotEpisodes(policy, ticks) * pathLength(policy));
        expect(falls).toBeLessThanOrEqual(rises);
      }),
      RUNS,
    );
  });

  it('rule 3: an alert that fires and resolves within less than the cooldown never lowers the share', () => {
    const pulses = fc.array(
      fc.record({ firing: fc.integer({ min: 1, max: 8 }), resolved: fc.integer({ min: 1, max: 8 }) }),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(policyArb, pulses, fc.integer({ min: 0, max: 90_000 }), (policy, episodes, delayMs) => {
        // Every quiet gap lasts at most 8 ticks, each shorter than cooldown / 9.
        const advanceMs = Math.floor((policy.cooldownSeconds * 1000) / 9);
        const tick = (alertFiring: boolean): Tick => ({
          advanceMs,
          signals: { alertFiring, slo: 'recovered' },
          chaos: 'none',
          delayMs,
          fail: false,
        });
        const ticks = episodes.flatMap((e) => [
          ...Array.from({ length: e.firing }, () => tick(true)),
          ...Array.from({ length: e.resolved }, () => tick(false)),
        ]);
        const changes = shareChanges(runTicks(policy, ticks));
        expect(changes.filter((c) => c.to < c.from)).toEqual([]);
        expect(changes.length).toBeLessThanOrEqual(pathLength(policy));
      }),
      RUNS,
    );
  });

  it('rule 3: an SLO hovering at the threshold (breached, ok, breached, …) never lowers the share', () => {
    const hovering: fc.Arbitrary<BurstSignals> = fc.record({
      alertFiring: fc.constant(false),
      slo: fc.constantFrom('breached', 'ok'),
    });
    const withSlo = policyArb.map((p) => ({
      ...p,
      slo: { latency: { query: 'q', thresholdSeconds: 1 }, recoverBelow: 0.8, evaluationIntervalSeconds: 15 },
    }));
    fc.assert(
      fc.property(withSlo, ticksArb({ signals: hovering, chaos: false, commands: false }), (policy, ticks) => {
        const changes = shareChanges(runTicks(policy, ticks));
        expect(changes.filter((c) => c.to < c.from)).toEqual([]);
        expect(changes.length).toBeLessThanOrEqual(pathLength(policy));
      }),
      RUNS,
    );
  });

  it('rule 4: abort wins — share 0 first, capacity after, no rise until a new start', () => {
    fc.assert(
      fc.property(policyArb, ticksArb(), (policy, ticks) => {
        let frozen = false;
        for (const step of runTicks(policy, ticks)) {
          checkCapacityOrder(step);
          const audit = step.decision.audit;
          const started = audit.some((e) => e.decision === 'start' && e.burstId === step.tick.start?.id);
          const quiet = signalLevel(policy, step.tick.signals) === 'quiet';
          const cleared = started || quiet;
          if (frozen && !cleared) checkFrozen(step);
          if (audit.some((e) => e.decision === 'abort')) {
            checkAbortStep(step);
            frozen = !quiet;
          } else if (cleared) frozen = false;
        }
      }),
      RUNS,
    );
  });

  it('rule 5: deterministic, input untouched, and the state round-trips through JSON', () => {
    fc.assert(
      fc.property(policyArb, ticksArb(), (policy, ticks) => {
        for (const { input, decision } of runTicks(policy, ticks)) {
          const before = JSON.stringify(input);
          expect(decide(input)).toStrictEqual(decision);
          expect(JSON.stringify(input)).toBe(before);
          const revived = JSON.parse(JSON.stringify(input.state));
          expect(decide({ ...input, state: revived })).toStrictEqual(decision);
          expect(JSON.parse(JSON.stringify(decision.state))).toStrictEqual(decision.state);
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('progress: a sustained signal reaches the top step, a sustained quiet returns to idle at the floor', () => {
    const steady = (alertFiring: boolean, count: number, delayMs: number, fail: boolean[]): Tick[] =>
      Array.from({ length: count }, (_, i) => ({
        advanceMs: 30_000,
        signals: { alertFiring, slo: 'recovered' },
        chaos: 'none',
        delayMs,
        // Jobs fail now and then, never forever: the pattern always holds a success.
        fail: [...fail, false][i % (fail.length + 1)] ?? false,
      }));
    fc.assert(
      fc.property(policyArb, fc.integer({ min: 0, max: 60_000 }), fc.array(fc.boolean()), (policy, delayMs, fail) => {
        const up = runTicks(policy, steady(true, 200, delayMs, fail));
        const top = up.at(-1)!.decision.state;
        expect(top.phase).toBe('holding');
        expect(committedShare(top)).toBe(top.burst!.path.at(-1));
        const ticks = [...steady(true, 200, delayMs, fail), ...steady(false, 300, delayMs, fail)];
        const all = runTicks(policy, ticks);
        expect(all.at(-1)!.decision.state.phase).toBe('idle');
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

function checkCapacityOrder(step: Step): void {
  for (const action of step.decision.actions.filter((a) => isCapacityDecrease(step, a))) {
    expect(step.input.observed.appliedShare, `${action.key} shrinks capacity while traffic is in the cloud`).toBe(0);
    expect(committedShare(step.decision.state)).toBe(0);
  }
}

function checkAbortStep(step: Step): void {
  expect(committedShare(step.decision.state)).toBe(0);
  expect(shares(step).filter((s) => s > 0)).toEqual([]);
  if (step.input.observed.appliedShare > 0) {
    expect(step.decision.actions[0]).toMatchObject({ kind: 'set-traffic-share', share: 0 });
    expect(step.decision.actions.filter((a) => isCapacityDecrease(step, a))).toEqual([]);
  }
}

function checkFrozen(step: Step): void {
  expect(committedShare(step.decision.state)).toBe(0);
  expect(shares(step).filter((s) => s > 0)).toEqual([]);
}
