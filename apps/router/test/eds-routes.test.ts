import { ServiceEdsViews } from '@spillway/api';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/index.js';
import { startLoopbackRouter } from './support/loopback-router.js';

let router: RunningRouter | undefined;
afterEach(async () => {
  await router?.stop();
  router = undefined;
});

async function start() {
  const catalog = new InMemoryCatalog();
  catalog.setService({
    name: 'echo',
    namespace: 'demo',
    endpoints: [
      endpoint('10.0.0.1', 8080, { region: 'dc1', zone: 'a' }),
      endpoint('10.0.0.2', 8080, { region: 'dc1', zone: 'b' }),
      endpoint('10.0.0.3', 8080, { region: 'dc1', zone: 'b' }, { health: 'unhealthy' }),
      endpoint('10.1.0.1', 8080, { region: 'us-east-1', zone: 'us-east-1a' }),
    ],
  });
  const policies = new InMemoryTrafficPolicyStore();
  router = await startLoopbackRouter({ catalog, policies });
  return { policies, base: `http://127.0.0.1:${router.httpPort}/v1/services/demo/echo/eds` };
}

const place = (view: { locality: { region: string; zone: string } }) => `${view.locality.region}/${view.locality.zone}`;

describe('GET /v1/services/{ns}/{name}/eds: what each client locality is served', () => {
  it('shows one view per locality the service runs in: own zone first, then the region, then the cloud', async () => {
    const { base } = await start();
    const answer = ServiceEdsViews.parse(await (await fetch(base)).json());
    expect(answer.views.map((view) => place(view.client))).toEqual(['dc1/a', 'dc1/b', 'us-east-1/us-east-1a']);
    const zoneA = answer.views[0]!;
    expect(zoneA.client.environment).toBe('onprem');
    expect(zoneA.priorities.map((level) => level.localities.map(place))).toEqual([
      ['dc1/a'],
      ['dc1/b'],
      ['us-east-1/us-east-1a'],
    ]);
    // Endpoints keep their health: the unhealthy one is listed, marked so.
    const zoneB = zoneA.priorities[1]!.localities[0]!;
    expect(zoneB.endpoints.map((e) => `${e.address} ${e.health}`)).toEqual(['10.0.0.2 HEALTHY', '10.0.0.3 UNHEALTHY']);
  });

  it('realises a burst share with locality weights in priority 0, and answers for a given client locality', async () => {
    const { base, policies } = await start();
    await policies.set({ service: 'echo.demo', cloudShare: 0.3, reason: 'test', updatedAt: new Date().toISOString() });
    const answer = ServiceEdsViews.parse(await (await fetch(`${base}?region=dc1&zone=a`)).json());
    expect(answer.policyShare).toBe(0.3);
    expect(answer.views).toHaveLength(1);
    const [view] = answer.views;
    expect(view!.cloudShare).toBe(0.3);
    const first = view!.priorities[0]!.localities;
    const total = first.reduce((sum, locality) => sum + locality.weight, 0);
    const cloud = first.filter((locality) => locality.environment === 'cloud');
    expect(cloud.reduce((sum, locality) => sum + locality.weight, 0) / total).toBeCloseTo(0.3, 2);
  });

  it('answers problem+json for an unknown service and a bad query', async () => {
    const { base } = await start();
    const missing = await fetch(base.replace('/echo/', '/nothing/'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const bad = await fetch(`${base}?environment=mars`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/^environment: /);
  });
});
