/**
 * GET /openapi.json of `spillway federation`, `router` and `controller` as separate processes on a
 * real Redis: each documents exactly the routes it serves, and real answers of each — success and
 * the main errors, 503 while Redis is frozen included — validate against its document.
 */
import { type BurstWorld, startBurstWorld } from '@spillway/test/support/burst-world';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConformingApi } from './support/api-conformance.js';
import { K8S_TOKEN, SERVICE, spawnCli, THREE_PROCESS_FILES, TOKENS } from './support/three-process-world.js';

let world: BurstWorld | undefined;
let federation: ConformingApi;
let router: ConformingApi;
let controller: ConformingApi;

beforeAll(async () => {
  world = await startBurstWorld({
    spawn: spawnCli,
    cloud: { kubernetesToken: K8S_TOKEN, readyStep: 10, nodegroupUpdates: 0 },
    files: THREE_PROCESS_FILES,
  });
  const { url: federationUrl } = await world.startFederation();
  const [started, routed] = await Promise.all([world.startController(federationUrl), world.startRouter(federationUrl)]);
  federation = new ConformingApi(federationUrl);
  controller = new ConformingApi(started.url.replace(/\/v1\/bursts$/, ''));
  router = new ConformingApi(routed.url);
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

const [name, namespace] = SERVICE.split('.') as [string, string];

describe('GET /openapi.json of each process', () => {
  it('federation: its catalog routes, nothing else', async () => {
    const document = await federation.loadDocument(/federation/);
    expect(Object.keys(document.paths as object)).not.toContain('/v1/bursts');
    await waitFor(async () => (await federation.call('GET', '/readyz')).status === 200, {
      message: 'ready',
      intervalMs: 100,
    });
    await federation.call('GET', '/healthz');
    await federation.call('GET', '/metrics');
    await federation.call('GET', '/v1/clusters');
    await federation.call('GET', '/v1/services');
    expect((await federation.call('GET', `/v1/services/${namespace}/${name}`)).status).toBe(200);
    expect((await federation.call('GET', '/v1/services/shop/nothing')).status).toBe(404);
    expect((await federation.call('GET', '/v1/catalog/changes?index=0&wait=100ms')).status).toBe(200);
    expect((await federation.call('GET', '/v1/catalog/changes?index=-1')).status).toBe(400);
    federation.expectConformance();
  });

  it('router: xDS clients, overrides, load and its drill API', async () => {
    const document = await router.loadDocument(/router/);
    expect(Object.keys(document.paths as object)).toEqual(expect.arrayContaining(['/v1/xds/clients', '/v1/drills']));
    await waitFor(async () => (await router.call('GET', '/readyz')).status === 200, {
      message: 'ready',
      intervalMs: 100,
    });
    await router.call('GET', '/healthz');
    await router.call('GET', '/metrics');
    await router.call('GET', '/v1/xds/clients');
    await router.call('GET', '/v1/router/overrides');
    expect((await router.call('GET', `/v1/load?service=${SERVICE}`)).status).toBe(200);
    expect((await router.call('GET', '/v1/load?windowSeconds=0')).status).toBe(400);
    expect((await router.call('GET', `/v1/services/${namespace}/${name}/eds`)).status).toBe(200);
    expect((await router.call('GET', '/v1/services/shop/nothing/eds')).status).toBe(404);
    await consoleFiles(router);
    expect((await router.call('GET', '/v1/drills')).status).toBe(200);
    expect((await router.call('GET', '/v1/drills/drill-00000000')).status).toBe(404);
    expect((await router.call('POST', '/v1/drills', { body: { name: 'x' } })).status).toBe(401);
    // Running drills is covered against spillway up (openapi-up.test.ts); the routes are the same.
    router.expectConformance({ notRun: ['POST /v1/drills', 'GET /v1/drills/{id}', 'POST /v1/drills/{id}/abort'] });
  });

  it('controller: bursts, audit, webhook; 503 problem+json while Redis is frozen', async () => {
    const document = await controller.loadDocument(/controller/);
    expect(Object.keys(document.paths as object)).not.toContain('/v1/services');
    const { operator, webhook } = TOKENS;
    await waitFor(async () => (await controller.call('GET', '/readyz')).status === 200, {
      message: 'ready',
      intervalMs: 100,
    });
    await controller.call('GET', '/healthz');
    await controller.call('GET', '/metrics');
    await controller.call('GET', '/v1/controller');
    const start = { service: SERVICE, share: 0.1, reason: 'openapi test' };
    expect((await controller.call('POST', '/v1/bursts', { body: start })).status).toBe(401);
    expect((await controller.call('POST', '/v1/bursts', { token: webhook, body: start })).status).toBe(403);
    const started = await controller.call('POST', '/v1/bursts', { token: operator, body: start });
    expect(started.status).toBe(202);
    const id = (started.body as { id: string }).id;
    await waitFor(async () => (await controller.call('GET', `/v1/bursts/${id}`)).status === 200, {
      message: 'burst recorded',
      intervalMs: 100,
    });
    await controller.call('GET', '/v1/bursts');
    expect((await controller.call('GET', `/v1/bursts/${id}/timeline`)).status).toBe(200);
    expect((await controller.call('GET', '/v1/burst-policies')).status).toBe(200);
    await consoleFiles(controller);
    expect((await controller.call('GET', '/v1/bursts?cursor=not-a-cursor')).status).toBe(400);
    expect((await controller.call('POST', `/v1/bursts/${id}/abort`, { token: operator })).status).toBe(202);
    expect((await controller.call('GET', '/v1/audit?class=operator')).status).toBe(200);
    const notification = {
      version: '4',
      groupKey: '{}:{alertname="Quiet"}',
      status: 'resolved',
      alerts: [{ status: 'resolved', labels: { alertname: 'Quiet' }, startsAt: new Date().toISOString() }],
    };
    expect(
      (await controller.call('POST', '/v1/alerts/alertmanager', { token: webhook, body: notification })).status,
    ).toBe(200);

    world!.redis.pause();
    try {
      const refused = await controller.call('POST', '/v1/bursts', { token: operator, body: start });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      await waitFor(async () => (await controller.call('GET', '/readyz')).status === 503, {
        message: '/readyz 503 while Redis is frozen',
        intervalMs: 200,
      });
    } finally {
      world!.redis.resume();
    }
    controller.expectConformance();
  });
});

/** The console's page and files: open, no token. */
async function consoleFiles(api: ConformingApi): Promise<void> {
  for (const path of ['/ui', '/ui/assets/app.js', '/ui/assets/app.css', '/ui/assets/shipped-drills.json']) {
    expect((await api.call('GET', path)).status, path).toBe(200);
  }
}
