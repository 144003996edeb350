import { installProblemHandlers, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { overriddenCatalog, overriddenPolicies, RouterOverrides, type RunningRouter } from '@spillway/router';
import { startLoopbackRouter } from '@spillway/router/test-support/loopback-router';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillFile } from '../src/drill-file.js';
import { DrillService } from '../src/drill-service.js';
import { DrillWorld } from '../src/drill-world.js';
import { registerDrillRoutes } from '../src/http/drill-routes.js';

/** GET /v1/drills pages with a cursor over the kept drills (the last `keep` finished ones). */
describe('GET /v1/drills pages', () => {
  const catalog = new InMemoryCatalog();
  const overrides = new RouterOverrides();
  const routerCatalog = overriddenCatalog(catalog, overrides);
  const routerPolicies = overriddenPolicies(new InMemoryTrafficPolicyStore(), overrides);
  let router: RunningRouter;
  let app: FastifyInstance;
  let drills: DrillService;

  beforeAll(async () => {
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('127.0.0.1', 1, { region: 'dc1', zone: 'a' })],
    });
    router = await startLoopbackRouter({ catalog: routerCatalog, policies: routerPolicies, http: false });
    drills = new DrillService({
      logger: silentLogger(),
      keep: 5,
      world: (mode) =>
        new DrillWorld(mode, {
          xdsAddress: `127.0.0.1:${router.xdsPort}`,
          catalog: routerCatalog,
          policies: routerPolicies,
          overrides,
        }),
    });
    app = Fastify();
    installProblemHandlers(app);
    registerDrillRoutes(app, { drills });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await drills?.stop();
    await router?.stop();
    overrides.stop();
  });

  const drill = DrillFile.parse({
    name: 'short',
    mode: 'live',
    target: { service: 'echo.demo', clients: [{ region: 'dc1', zone: 'a' }] },
    durationSeconds: 2,
    timeline: [{ atSeconds: 0, action: { kind: 'drain', zone: 'a' } }],
  });

  async function list(
    query: string,
  ): Promise<{ status: number; body: { drills: { id: string }[]; next: string | null } }> {
    const response = await app.inject({ method: 'GET', url: `/v1/drills${query}` });
    return { status: response.statusCode, body: response.json() };
  }

  it('walks every kept drill once, newest first, and refuses a bad cursor', async () => {
    const started: string[] = [];
    for (let i = 0; i < 7; i++) {
      const view = drills.start(drill, 'tester');
      drills.abort(view.id);
      await drills.report(view.id);
      started.push(view.id);
    }
    const kept = started.slice(-5).reverse();
    expect((await list('')).body.drills.map((d) => d.id)).toEqual(kept);
    const walked: string[] = [];
    let query = '?limit=2';
    for (let pages = 0; pages < 10; pages++) {
      const { status, body } = await list(query);
      expect(status).toBe(200);
      walked.push(...body.drills.map((d) => d.id));
      if (body.next === null) break;
      query = `?limit=2&cursor=${body.next}`;
    }
    expect(walked).toEqual(kept);
    expect((await list('?cursor=abc')).status).toBe(400);
    expect((await list('?limit=0')).status).toBe(400);
    expect((await list('?limit=2&extra=1')).status).toBe(400);
  }, 60_000);
});
