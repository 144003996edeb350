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
  });
});
