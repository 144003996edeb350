import { decide, initialBurstState } from '@spillway/burst';
import { BurstPolicy } from '@spillway/model';
import { describe, expect, it } from 'vitest';
import { StoredBurstState } from '../src/burst-state-schema.js';

describe('StoredBurstState', () => {
  it('round-trips a mid-burst state exactly: nothing the core wrote is lost at the door', () => {
    const policy = BurstPolicy.parse({
      service: 'checkout.shop',
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 3 },
      cloud: { deployment: { cluster: 'eks', namespace: 'shop', name: 'checkout' } },
    });
    const { state } = decide({
      policy,
      state: initialBurstState(),
      now: 1_000,
      signals: { alertFiring: false, slo: 'unknown' },
      observed: { cloudReadyEndpoints: 2, cloudHealthy: true, replicasReady: 0, nodesReady: 0, appliedShare: 0 },
      commands: { start: { id: 'b-1', share: 0.3, reason: 'test', actor: 'me' } },
    });
    expect(state.intents.replicas).not.toBeNull();
    const stored = JSON.parse(JSON.stringify(state));
    expect(StoredBurstState.parse(stored)).toEqual(state);
  });

  it('rejects a state the core could not decide on', () => {
    expect(StoredBurstState.safeParse({ ...initialBurstState(), phase: 'exploding' }).success).toBe(false);
    const spending = { day: '2026-06-01', timeZone: 'UTC', spent: '12' };
    const badSpending = StoredBurstState.safeParse({ ...initialBurstState(), dailySpending: spending });
    expect(badSpending.error?.issues[0]?.path).toEqual(['dailySpending', 'spent']);
  });

  it("round-trips a priced burst's cost meter and the day's spending", () => {
    const policy = BurstPolicy.parse({
      service: 'checkout.shop',
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 3 },
      cloud: { deployment: { cluster: 'eks', namespace: 'shop', name: 'checkout' } },
      cost: { nodeHourly: 1, replicaHourly: 0.5, dailyBudget: 100, dailyResetTimeZone: 'Europe/Berlin' },
    });
    const observed = { cloudReadyEndpoints: 2, cloudHealthy: true, replicasReady: 3, nodesReady: 0, appliedShare: 0 };
    const signals = { alertFiring: false, slo: 'unknown' as const };
    const started = decide({
      policy,
      state: initialBurstState(),
      now: 1_000,
      signals,
      observed,
      commands: { start: { id: 'b-1', share: 0.3, reason: 'test', actor: 'me' } },
    });
    const { state } = decide({ policy, state: started.state, now: 3_601_000, signals, observed });
    expect(state.burst?.cost?.total).toBeCloseTo(1.5, 9);
    expect(state.dailySpending?.spent).toBeCloseTo(1.5, 9);
    expect(StoredBurstState.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
    const corrupt = { ...state, burst: { ...state.burst, cost: { ...state.burst?.cost, total: null } } };
    expect(StoredBurstState.safeParse(corrupt).success).toBe(false);
  });

  it("round-trips a burst's flap damping, and rejects one whose cooldown is not a number", () => {
    const policy = BurstPolicy.parse({
      service: 'checkout.shop',
      triggers: { alerts: [{ alertname: 'Burn' }] },
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 3 },
      cloud: { deployment: { cluster: 'eks', namespace: 'shop', name: 'checkout' } },
      steps: [0.5],
      maxShare: 0.5,
    });
    // Sustained overload: up to 0.5, quiet for the cooldown, down, and the alert fires again.
    let state = initialBurstState();
    let applied = 0;
    const firing = (now: number) => now < 120_000 || now >= 660_000;
    for (let now = 15_000; now <= 720_000; now += 15_000) {
      const observed = {
        cloudReadyEndpoints: 5,
        cloudHealthy: true,
        replicasReady: 5,
        nodesReady: 0,
        appliedShare: applied,
      };
      const decision = decide({ policy, state, now, signals: { alertFiring: firing(now), slo: 'unknown' }, observed });
      state = decision.state;
      applied = state.burst?.share ?? 0;
    }
    expect(state.burst?.damping?.cooldownSeconds).toBe(600);
    expect(StoredBurstState.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
    const corrupt = {
      ...state,
      burst: { ...state.burst, damping: { ...state.burst?.damping, cooldownSeconds: '600' } },
    };
    expect(StoredBurstState.safeParse(corrupt).error?.issues[0]?.path).toEqual(['burst', 'damping', 'cooldownSeconds']);
  });
});
