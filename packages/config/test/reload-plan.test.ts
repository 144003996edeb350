import { describe, expect, it } from 'vitest';
import { buildConfig } from '../src/index.js';
import { planReload } from '../src/reload-plan.js';

const policy = { service: 'checkout.shop', capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 } };

describe('planReload', () => {
  it('takes the policies live and keeps the running values of fields that need a restart', () => {
    const running = buildConfig({ policies: [policy] });
    const file = buildConfig({
      listen: { http: '127.0.0.1:9999' },
      redis: 'redis://127.0.0.1:6380',
      policies: [{ ...policy, maxShare: 0.3, steps: [0.1, 0.3] }],
    });
    const plan = planReload(running, file);
    expect(plan.live).toEqual(['policies']);
    expect(plan.restart).toEqual(['listen', 'redis']);
    expect(plan.next.policies[0]?.maxShare).toBe(0.3);
    expect(plan.next.listen.http).toBe('127.0.0.1:7070');
    expect(plan.next.redis).toBeUndefined();
  });

  it('an identical file changes nothing', () => {
    const running = buildConfig({ policies: [policy] });
    expect(planReload(running, buildConfig({ policies: [policy] }))).toMatchObject({ live: [], restart: [] });
  });
});
