import { describe, expect, it } from 'vitest';
import { burstPolicyStatus } from '../src/custom-resources/burst-policy-status.js';

const holding = {
  kind: 'in-force' as const,
  service: 'checkout.shop',
  burst: { phase: 'holding', share: 0.3, targetShare: 0.3 },
};

describe('BurstPolicy status (pure)', () => {
  it('an unchanged standing gives an equal status, so nothing is written again', () => {
    const first = burstPolicyStatus({
      generation: 1,
      standing: holding,
      previous: undefined,
      now: '2026-12-04T10:00:00Z',
    });
    const again = burstPolicyStatus({ generation: 1, standing: holding, previous: first, now: '2026-12-04T10:05:00Z' });
    expect(again).toEqual(first);
  });

  it('keeps each condition’s transition time until its status flips, and the phase’s until the phase changes', () => {
    const first = burstPolicyStatus({
      generation: 1,
      standing: holding,
      previous: undefined,
      now: '2026-12-04T10:00:00Z',
    });
    const draining = burstPolicyStatus({
      generation: 2,
      standing: { ...holding, burst: { phase: 'draining', share: 0.1, targetShare: 0.3 } },
      previous: first,
      now: '2026-12-04T10:05:00Z',
    });
    expect(draining).toMatchObject({
      phase: 'draining',
      lastTransitionTime: '2026-12-04T10:05:00Z',
      observedGeneration: 2,
    });
    expect(draining.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: '2026-12-04T10:00:00Z',
      observedGeneration: 2,
    });
    const conflict = burstPolicyStatus({
      generation: 2,
      standing: { kind: 'conflict', reason: 'checkout.shop has a policy in the config file, which wins' },
      previous: draining,
      now: '2026-12-04T10:06:00Z',
    });
    expect(conflict).toMatchObject({ phase: 'Conflict', share: 0, targetShare: 0 });
    expect(conflict.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
      ['Ready', 'False', 'Conflict', '2026-12-04T10:06:00Z'],
      ['Conflict', 'True', 'ServiceTaken', '2026-12-04T10:06:00Z'],
    ]);
  });
});
