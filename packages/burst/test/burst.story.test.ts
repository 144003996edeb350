import { describe, expect, it } from 'vitest';
import type { BurstSignals } from '../src/index.js';
import { storyPolicy } from './support/policy.js';
import { FIRING, RESOLVED, Scenario } from './support/scenario.js';

const MINUTE = 60_000;

function reasons(scenario: Scenario): string[] {
  return scenario.audit().map((entry) => entry.reason);
}

/** Alert fires → 0.1 → 0.25 (shifting, capacity for 0.5 on its way). */
function burstToQuarter(): Scenario {
  const scenario = new Scenario(storyPolicy());
  scenario.until((s) => s.share === 0.25, FIRING);
  return scenario;
}

describe('burst stories', () => {
  it('alert fires, steps 0.10 → 0.25 → 0.50, holds, resolves, steps back after cooldown, scales in, idles', () => {
    const scenario = new Scenario(storyPolicy());
    const first = scenario.tick(10, FIRING);
    expect(first.state.phase).toBe('scaling-out');
    expect(
      first.actions.map((a) => [a.kind, 'replicas' in a ? a.replicas : 'desiredSize' in a ? a.desiredSize : 0]),
    ).toEqual([
      ['scale-deployment', 4],
      ['scale-nodegroup', 1],
    ]);
    expect(reasons(scenario)).toEqual([
      'alert SpillwayCheckoutBurn firing; bursting toward share 0.10',
      'requesting 4 replicas for share 0.10',
      'requesting 1 node for share 0.10',
    ]);

    const shifted = scenario.tick(10, FIRING);
    expect(shifted.state.phase).toBe('shifting');
    expect(shifted.actions).toContainEqual(expect.objectContaining({ kind: 'set-traffic-share', share: 0.1 }));
    expect(shifted.actions).toContainEqual(
      expect.objectContaining({ kind: 'set-dns-weights', cloudWeight: 26, onpremWeight: 229 }),
    );
    // Capacity for the next step is requested while the first one dwells.
    expect(shifted.actions).toContainEqual(expect.objectContaining({ kind: 'scale-deployment', replicas: 10 }));

    scenario.until((s) => s.state.phase === 'holding', FIRING);
    expect(scenario.share).toBe(0.5);
    const resolvedAt = scenario.now + 10_000;
    scenario.until((s) => s.state.phase === 'idle', RESOLVED);

    expect(scenario.phases()).toEqual(['scaling-out', 'shifting', 'holding', 'draining', 'scaling-in', 'idle']);
    const history = scenario.shareHistory();
    expect(history.map((h) => h.share)).toEqual([0.1, 0.25, 0.5, 0.25, 0.1, 0]);
    for (const [i, h] of history.slice(1).entries()) {
      expect(h.at - (history[i]?.at ?? 0)).toBeGreaterThanOrEqual(MINUTE);
    }
    expect(history[3]!.at - resolvedAt).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(scenario.world.deploymentTarget).toBe(0);
    expect(scenario.world.nodegroupTarget).toBe(0);
    expect(reasons(scenario)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^alert SpillwayCheckoutBurn firing; 4 replicas and 4 endpoints ready and healthy; share 0 → 0.10$/,
        ),
        expect.stringMatching(/share 0.25 → 0.50; holding at the top step 0.50 \(maxShare 0.50\)$/),
        expect.stringMatching(/^alert SpillwayCheckoutBurn resolved; cooldown until 2025-03-01T12:\d\d:\d\d.\d{3}Z$/),
        expect.stringMatching(/cooldown over; stepping the share back down$/),
        'alert SpillwayCheckoutBurn resolved; share 0.50 → 0.25',
        'share 0 applied; releasing capacity to the floor (0 replicas, 0 nodes)',
        'share 0 observed; releasing capacity to 0 replicas',
        expect.stringMatching(/ended; capacity at the floor$/),
      ]),
    );
  });

  it('manual burst to 0.30 goes straight there, holds until its expiry, then steps down through the policy steps', () => {
    const scenario = new Scenario(storyPolicy());
    const start = {
      id: 'ops-42',
      share: 0.3,
      reason: 'game day',
      actor: 'alice',
      expiresAt: scenario.now + 10 * MINUTE,
    };
    const started = scenario.tick(0, RESOLVED, { start });
    expect(started.state.burst).toMatchObject({ id: 'ops-42', origin: 'manual', path: [0.3] });
    expect(started.actions).toContainEqual(
      expect.objectContaining({ kind: 'scale-deployment', replicas: 12, burstId: 'ops-42' }),
    );

    scenario.tick(10, RESOLVED);
    expect(scenario.state.phase).toBe('holding');
    expect(scenario.share).toBe(0.3);
    scenario.until((s) => s.state.phase === 'draining', RESOLVED);
    expect(scenario.now).toBeGreaterThanOrEqual(start.expiresAt);
    scenario.until((s) => s.state.phase === 'idle', RESOLVED);

    expect(scenario.shareHistory().map((h) => h.share)).toEqual([0.3, 0.25, 0.1, 0]);
    expect(reasons(scenario)).toContain(
      'manual burst by alice: game day; to share 0.30, until 2025-03-01T12:10:00.000Z',
    );
    expect(reasons(scenario)).toContain(
      'manual burst expired at 2025-03-01T12:10:00.000Z; stepping the share back down',
    );
    expect(scenario.actions().every((a) => a.burstId === 'ops-42')).toBe(true);
  });

  it('abort mid-shift: traffic to 0 first, capacity after, then idle; no new burst until the alert clears', () => {
    const scenario = burstToQuarter();
    const firstId = scenario.state.burst!.id;
    const aborted = scenario.tick(10, FIRING, { abort: { reason: 'bad deploy', actor: 'bob' } });
    expect(aborted.state.phase).toBe('aborted');
    expect(aborted.actions.map((a) => a.kind)).toEqual(['set-traffic-share', 'set-dns-weights']);
    expect(aborted.actions[0]).toMatchObject({ share: 0 });
    expect(aborted.audit[0]?.reason).toBe('aborted by bob: bad deploy; traffic share 0.25 → 0 first, capacity after');

    const released = scenario.tick(10, FIRING);
    expect(released.actions).toEqual([
      expect.objectContaining({ kind: 'scale-deployment', replicas: 0 }),
      expect.objectContaining({ kind: 'scale-nodegroup', desiredSize: 0 }),
    ]);
    scenario.tick(10, FIRING);
    expect(scenario.state.phase).toBe('idle');

    // The alert keeps firing: the operator's abort stands.
    for (let i = 0; i < 20; i++) expect(scenario.tick(30, FIRING).actions).toEqual([]);
    expect(scenario.state.phase).toBe('idle');
    expect(scenario.tick(30, RESOLVED).audit[0]?.reason).toContain('automatic bursts re-armed after the abort');
    scenario.tick(30, FIRING);
    expect(scenario.state.burst?.id).toMatch(/^checkout\.shop-2025/);
    expect(scenario.state.burst?.id).not.toBe(firstId);
  });

  it('cloud endpoints turn unhealthy mid-burst: share back to 0 at once, the audit says why, it climbs again later', () => {
    const scenario = burstToQuarter();
    scenario.world.healthy = false;
    const dropped = scenario.tick(10, FIRING);
    expect(dropped.state.phase).toBe('scaling-out');
    expect(dropped.actions[0]).toMatchObject({ kind: 'set-traffic-share', share: 0 });
    expect(dropped.audit).toContainEqual(
      expect.objectContaining({
        decision: 'safety',
        from: 'shifting',
        to: 'scaling-out',
        reason: 'cloud endpoints are unhealthy; traffic share 0.25 → 0 until the cloud is ready again',
      }),
    );
    const droppedAt = scenario.now;
    for (let i = 0; i < 10; i++) {
      const decision = scenario.tick(30, FIRING);
      expect(decision.actions.filter((a) => a.kind === 'set-traffic-share' && a.share > 0)).toEqual([]);
      // Capacity stays while waiting: the cloud may come back.
      expect(decision.actions.filter((a) => a.kind === 'scale-deployment')).toEqual([]);
    }
    expect(scenario.state.burst?.waitingOn).toBe('cloud endpoints are unhealthy');
    scenario.world.healthy = true;
    scenario.until((s) => s.share > 0, FIRING);
    expect(scenario.share).toBe(0.1);
    expect(scenario.now - droppedAt).toBeGreaterThanOrEqual(MINUTE);
  });

  it('an SLO in the hysteresis band holds the burst; only below the recovery line does the cooldown start', () => {
    const policy = storyPolicy({ slo: { latency: { query: 'p99', thresholdSeconds: 0.5 } } });
    const scenario = new Scenario(policy);
    const slo = (value: BurstSignals['slo']): BurstSignals => ({ alertFiring: false, slo: value });
    scenario.until((s) => s.share === 0.1, slo('breached'));
    for (let i = 0; i < 60; i++) scenario.tick(30, slo(i % 2 === 0 ? 'ok' : 'unknown'));
    expect(scenario.share).toBe(0.1);
    expect(scenario.state.burst?.quietSince).toBeNull();
    scenario.until((s) => s.state.phase === 'idle', slo('recovered'));
    expect(scenario.shareHistory().map((h) => h.share)).toEqual([0.1, 0]);
  });
});
