import { describe, expect, it } from 'vitest';
import {
  budgetShare,
  capacityForShare,
  type DecideInput,
  decide,
  dnsWeights,
  initialBurstState,
  planPath,
  replicasForShare,
} from '../src/index.js';
import { storyPolicy } from './support/policy.js';
import { T0 } from './support/run.js';
import { FIRING, RESOLVED, Scenario } from './support/scenario.js';

const policy = storyPolicy();
const budget = policy.capacity;

describe('capacity maths', () => {
  it('asks ceil(share × replicasAtFullShare) replicas without floating-point noise', () => {
    const hundred = { ...budget, replicasAtFullShare: 100 };
    expect(0.07 * 100).toBeGreaterThan(7); // 7.000000000000001
    expect(replicasForShare(hundred, 0.07)).toBe(7);
    expect(replicasForShare(hundred, 0.071)).toBe(8);
  });

  it('clamps replicas and nodes to the floor and the budget, the budget winning', () => {
    expect(capacityForShare(budget, 0)).toEqual({ replicas: 0, nodes: 0 });
    expect(capacityForShare(budget, 1)).toEqual({ replicas: 20, nodes: 2 });
    const warm = { ...budget, minReplicas: 2, minNodes: 1 };
    expect(capacityForShare(warm, 0)).toEqual({ replicas: 2, nodes: 1 });
    expect(capacityForShare({ ...budget, minReplicas: 99 }, 0).replicas).toBe(20);
  });

  it('caps steps to what maxShare and the budget carry, and says why', () => {
    expect(budgetShare(budget)).toBe(0.5);
    const tight = storyPolicy({ capacity: { ...budget, maxReplicas: 8 } });
    expect(planPath(tight, tight.steps)).toEqual({
      path: [0.1, 0.2],
      notes: [
        'step 0.25 capped to 0.20: the budget carries 8 replicas (maxReplicas 8, maxNodes 2 × podsPerNode 10) of 40 at full share',
        'step 0.50 capped to 0.20: the budget carries 8 replicas (maxReplicas 8, maxNodes 2 × podsPerNode 10) of 40 at full share',
      ],
    });
    const byNodes = storyPolicy({ capacity: { ...budget, maxNodes: 1 } });
    expect(planPath(byNodes, byNodes.steps).path).toEqual([0.1, 0.25]);
  });

  it('realises a share as Route 53 weights that sum to 255', () => {
    expect(dnsWeights(0)).toEqual({ cloudWeight: 0, onpremWeight: 255 });
    expect(dnsWeights(0.1)).toEqual({ cloudWeight: 26, onpremWeight: 229 });
    expect(dnsWeights(1)).toEqual({ cloudWeight: 255, onpremWeight: 0 });
  });
});

describe('decide', () => {
  const quietInput = (): DecideInput => ({
    policy,
    state: initialBurstState(),
    now: T0,
    signals: RESOLVED,
    observed: { cloudReadyEndpoints: 0, cloudHealthy: true, replicasReady: 0, nodesReady: 0, appliedShare: 0 },
  });

  it('does nothing while idle and quiet', () => {
    expect(decide(quietInput())).toEqual({
      state: initialBurstState(),
      actions: [],
      audit: [],
      nextDecisionAt: null,
      costAccrued: 0,
    });
  });

  it('audits a budget cap when a burst starts', () => {
    const tight = storyPolicy({ capacity: { ...budget, maxReplicas: 8 } });
    const decision = decide({ ...quietInput(), policy: tight, signals: FIRING });
    expect(decision.state.burst?.path).toEqual([0.1, 0.2]);
    expect(decision.audit.filter((e) => e.decision === 'capacity').map((e) => e.reason)).toContain(
      'step 0.25 capped to 0.20: the budget carries 8 replicas (maxReplicas 8, maxNodes 2 × podsPerNode 10) of 40 at full share',
    );
  });

  it('keeps the key of a pending action, and takes a new one to repair drift', () => {
    const scenario = new Scenario(policy);
    scenario.world.submit = () => {}; // a stuck job layer: nothing happens
    const first = scenario.tick(10, FIRING).actions[0]!;
    const again = scenario.tick(10, FIRING).actions[0]!;
    expect(again).toEqual(first);
    expect(scenario.tick(10, FIRING).audit).toEqual([]);

    const healthy = new Scenario(policy);
    healthy.until((s) => s.share === 0.1, FIRING);
    healthy.tick(10, FIRING);
    healthy.world.lostPods = 10;
    const repair = healthy.tick(10, FIRING);
    const scale = repair.actions.find((a) => a.kind === 'scale-deployment');
    expect(scale?.key).not.toBe(healthy.decisions.at(-3)?.actions.find((a) => a.kind === 'scale-deployment')?.key);
    expect(repair.audit.map((e) => e.reason)).toContain(
      '0 replicas ready, drifted from the 10 replicas requested; requesting again',
    );
  });

  it('re-applies a share the router lost, with a new key, once the cloud is ready for it', () => {
    const scenario = new Scenario(policy);
    scenario.until((s) => s.share === 0.1, FIRING);
    const firstKey = scenario.last.actions.find((a) => a.kind === 'set-traffic-share')?.key;
    scenario.tick(10, FIRING);
    scenario.world.routerShare = 0;
    const repaired = scenario.tick(10, FIRING);
    const action = repaired.actions.find((a) => a.kind === 'set-traffic-share');
    expect(action).toMatchObject({ share: 0.1 });
    expect(action?.key).not.toBe(firstKey);
    expect(repaired.audit.map((e) => e.reason)).toContain('the router drifted to share 0; applying 0.10 again');
  });

  it('puts a stray share back to 0 while idle', () => {
    const input = quietInput();
    const decision = decide({ ...input, observed: { ...input.observed, appliedShare: 0.2 } });
    expect(decision.actions.map((a) => a.kind)).toEqual(['set-traffic-share', 'set-dns-weights']);
    expect(decision.actions[0]).toMatchObject({ share: 0, burstId: 'checkout.shop-idle' });
  });

  it('refuses bad manual requests and a second burst, ignores a re-delivered one, refuses an abort of nothing', () => {
    const start = { id: 'm1', share: 0.3, reason: 'r', actor: 'alice' };
    const bad = decide({ ...quietInput(), commands: { start: { ...start, share: 1.5 } } });
    expect(bad.state.phase).toBe('idle');
    expect(bad.audit[0]).toMatchObject({
      decision: 'refusal',
      burstId: 'm1',
      reason: 'manual burst m1 by alice refused: share 1.5 is not in [0.01, 1]',
    });
    // "> 0" is not enough: 5e-324 would scale out and then hold at share 0 for good.
    const denormal = decide({ ...quietInput(), commands: { start: { ...start, share: 5e-324 } } });
    expect(denormal.state.phase).toBe('idle');
    expect(denormal.audit[0]?.reason).toContain('share 5e-324 is not in [0.01, 1]');
    const tinyStep = decide({ ...quietInput(), commands: { start: { ...start, steps: [0.001] } } });
    expect(tinyStep.state.phase).toBe('idle');
    const unordered = decide({ ...quietInput(), commands: { start: { ...start, steps: [0.2, 0.1] } } });
    expect(unordered.audit[0]?.reason).toContain('steps must be strictly ascending');

    const running = decide({ ...quietInput(), commands: { start } });
    expect(running.state.phase).toBe('scaling-out');
    const redelivered = decide({ ...quietInput(), now: T0 + 1000, state: running.state, commands: { start } });
    expect(redelivered.audit).toEqual([]);
    const second = decide({ ...quietInput(), state: running.state, commands: { start: { ...start, id: 'm2' } } });
    expect(second.audit[0]?.reason).toBe('manual burst m2 by alice refused: burst m1 is scaling-out; abort it first');

    const nothing = decide({ ...quietInput(), commands: { abort: { reason: 'x', actor: 'bob' } } });
    expect(nothing.audit[0]?.reason).toBe('abort by bob refused: no burst is running');
    const wrongId = decide({
      ...quietInput(),
      state: running.state,
      commands: { abort: { reason: 'x', actor: 'bob', burstId: 'zz' } },
    });
    expect(wrongId.state.phase).toBe('scaling-out');
    expect(wrongId.audit[0]?.reason).toBe('abort by bob refused: burst zz is not the running one');
  });

  it('an abort in the same decision as a start wins', () => {
    const start = { id: 'm1', share: 0.3, reason: 'r', actor: 'alice' };
    const commands = { start, abort: { reason: 'no', actor: 'bob' } };
    const decision = decide({ ...quietInput(), signals: FIRING, commands });
    // Nothing was in the cloud yet, so the abort completes in the same decision.
    expect(decision.state.phase).toBe('idle');
    expect(decision.audit.map((e) => e.decision)).toEqual(['start', 'abort', 'end']);
    expect(decision.state.autoSuppressed).toBe(true);
  });

  it('a manual burst that expires while the alert fires carries on as an automatic one', () => {
    const scenario = new Scenario(policy);
    const start = { id: 'm1', share: 0.3, reason: 'r', actor: 'alice', expiresAt: scenario.now + 120_000 };
    scenario.tick(0, RESOLVED, { start });
    scenario.until((s) => s.now >= start.expiresAt, FIRING);
    expect(scenario.state.burst).toMatchObject({ id: 'm1', origin: 'signal', share: 0.3, path: [0.1, 0.25, 0.5] });
    expect(scenario.audit().map((e) => e.reason)).toContain(
      'manual burst expired at 2025-03-01T12:02:00.000Z while alert SpillwayCheckoutBurn firing; continuing as automatic',
    );
    scenario.until((s) => s.share === 0.5, FIRING);
  });

  it('a signal that returns while draining stops the step-down and climbs again after minDwell', () => {
    const scenario = new Scenario(policy);
    scenario.until((s) => s.state.phase === 'holding', FIRING);
    scenario.until((s) => s.share === 0.25, RESOLVED);
    const fellAt = scenario.now;
    const resumed = scenario.tick(10, FIRING);
    expect(resumed.audit[0]).toMatchObject({ from: 'draining', to: 'shifting' });
    scenario.until((s) => s.share === 0.5, FIRING);
    expect(scenario.now - fellAt).toBeGreaterThanOrEqual(60_000);
    expect(scenario.shareHistory().map((h) => h.share)).toEqual([0.1, 0.25, 0.5, 0.25, 0.5]);
  });

  it('a burst resumed during scale-in supersedes the release in flight before sending traffic again', () => {
    const scenario = new Scenario(policy);
    scenario.until((s) => s.state.phase === 'holding', FIRING);
    scenario.until((s) => s.state.phase === 'scaling-in', RESOLVED);
    const release = scenario.last.actions.find((a) => a.kind === 'scale-deployment');
    expect(release).toMatchObject({ replicas: 0 });
    // The release has not landed: 20 replicas still run when the alert fires again.
    const observed = scenario.world.observe();
    const input = { policy, observed, signals: FIRING };
    const resumed = decide({ ...input, state: scenario.state, now: scenario.now + 60_000 });
    expect(resumed.state.phase).toBe('scaling-out');
    expect(resumed.state.burst?.waitingOn).toBe('a change to 0 replicas is still in flight');
    const keep = resumed.actions.find((a) => a.kind === 'scale-deployment');
    expect(keep).toMatchObject({ replicas: 20 });
    expect(keep?.key).not.toBe(release?.key);
    expect(resumed.actions.some((a) => a.kind === 'set-traffic-share')).toBe(false);
    const shifted = decide({ ...input, state: resumed.state, now: scenario.now + 70_000 });
    expect(shifted.actions).toContainEqual(expect.objectContaining({ kind: 'set-traffic-share', share: 0.1 }));
  });

  it('tells the controller when to decide again: end of dwell, of cooldown, or expiry', () => {
    const scenario = new Scenario(policy);
    scenario.until((s) => s.share === 0.1, FIRING);
    expect(scenario.last.nextDecisionAt).toBe(scenario.now + 60_000);
    scenario.until((s) => s.state.phase === 'holding', FIRING);
    expect(scenario.last.nextDecisionAt).toBeNull();
    scenario.tick(10, RESOLVED);
    expect(scenario.last.nextDecisionAt).toBe(scenario.now + 300_000);
  });
});
