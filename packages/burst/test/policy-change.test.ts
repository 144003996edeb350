import { describe, expect, it } from 'vitest';
import { storyPolicy } from './support/policy.js';
import { FIRING, Scenario } from './support/scenario.js';

describe('a policy edited while its burst runs', () => {
  it('a lower maxShare brings the committed share down to it on the next decision, without a dwell', () => {
    const scenario = new Scenario(storyPolicy());
    scenario.until((s) => s.share === 0.5 && s.state.phase === 'holding', FIRING);
    scenario.policy = storyPolicy({ steps: [0.1, 0.2], maxShare: 0.2 });
    const decision = scenario.tick(1, FIRING);
    expect(decision.state.burst?.share).toBe(0.2);
    expect(decision.state.burst?.path).toEqual([0.1, 0.2]);
    expect(decision.state.phase).toBe('holding');
    expect(decision.actions.find((a) => a.kind === 'set-traffic-share')).toMatchObject({ share: 0.2 });
    expect(decision.audit.map((e) => [e.decision, e.reason])).toEqual([
      ['capacity', 'policy changed: path [0.10, 0.25, 0.50] → [0.10, 0.20]'],
      ['safety', 'the policy now allows at most share 0.20: share 0.50 → 0.20 at once'],
    ]);
    // Capacity is not taken away while traffic is in the cloud: no scale-down was asked for.
    expect(decision.actions.some((a) => a.kind === 'scale-deployment' || a.kind === 'scale-nodegroup')).toBe(false);
    // Steady afterwards: the same policy changes nothing more.
    expect(scenario.tick(1, FIRING).audit).toEqual([]);
  });

  it('caps a manual burst the same way, and never raises it when maxShare goes up', () => {
    const scenario = new Scenario(storyPolicy());
    const quiet = { alertFiring: false, slo: 'unknown' as const, detail: 'quiet' };
    scenario.tick(1, quiet, { start: { id: 'm1', share: 0.4, reason: 'game day', actor: 'alice' } });
    scenario.until((s) => s.share === 0.4, quiet);
    scenario.policy = storyPolicy({ steps: [0.1, 0.25], maxShare: 0.25 });
    expect(scenario.tick(1, quiet).state.burst?.share).toBe(0.25);
    scenario.policy = storyPolicy({ maxShare: 0.9, steps: [0.1, 0.9] });
    const raised = scenario.tick(1, quiet);
    expect(raised.state.burst?.path).toEqual([0.25]);
    expect(raised.state.burst?.share).toBe(0.25);
  });

  it('a higher maxShare lets an automatic burst climb the new steps', () => {
    const scenario = new Scenario(storyPolicy({ steps: [0.1, 0.25], maxShare: 0.25 }));
    scenario.until((s) => s.state.phase === 'holding', FIRING);
    scenario.policy = storyPolicy();
    scenario.until((s) => s.share === 0.5, FIRING);
    expect(scenario.state.phase).toBe('holding');
  });
});
