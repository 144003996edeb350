import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { loopback, quickBurstPolicy, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';
import { ConformingApi } from './support/api-conformance.js';

const TOKENS = { operator: 'openapi-operator', viewer: 'openapi-viewer', webhook: 'openapi-webhook' };

/** echo.demo bursts (its cloud endpoint need not answer: `cloud: {}` only moves the share); who.demo is drilled. */
function config(who: readonly IdentityServer[]): string {
  return spillwayConfigYaml({
    tokens: [
      { name: 'ops', role: 'operator', token: TOKENS.operator },
      { name: 'look', role: 'viewer', token: TOKENS.viewer },
      { name: 'am', role: 'webhook', token: TOKENS.webhook },
    ],
    loadReporting: { enabled: true, intervalSeconds: 1 },
    lab: {
      'echo.demo': [loopback(50051, 'lab-a')],
      'who.demo': [loopback(who[0]!.port, 'lab-a'), loopback(who[1]!.port, 'lab-b')],
    },
    cloud: { 'echo.demo': [loopback(50151, 'us-east-1a')] },
    policies: [quickBurstPolicy('echo.demo')],
  });
}

/** A live drill: probes call who.demo from lab-a while lab-a is drained for a second. */
const DRILL = {
  name: 'drain lab-a',
  mode: 'live',
  target: { service: 'who.demo', clients: [{ region: 'lab', zone: 'lab-a' }] },
  probes: { method: '/spillway.simulator.Identity/Who', ratePerSecond: 20, timeoutMs: 2000 },
  durationSeconds: 3,
  timeline: [{ atSeconds: 0.5, forSeconds: 1.5, action: { kind: 'drain', zone: 'lab-a' } }],
  expect: { errorRatioBelow: 0.5 },
};

const NOTIFICATION = {
  version: '4',
  groupKey: '{}:{alertname="EchoSlow"}',
  status: 'firing',
  receiver: 'spillway',
  alerts: [
    { status: 'firing', labels: { alertname: 'EchoSlow', service: 'echo.demo' }, startsAt: new Date().toISOString() },
  ],
};

const servers: IdentityServer[] = [];
let cli: CliProcess;
let api: ConformingApi;
let xdsPort: number;

beforeAll(async () => {
  for (const zone of ['lab-a', 'lab-b']) {
    servers.push(await startIdentityServer({ identity: { cluster: 'lab', zone, endpoint: zone }, port: 0 }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'spillway-openapi-'));
  await writeFile(join(dir, 'spillway.yaml'), config(servers));
  cli = new CliProcess([
    'up',
    '--config',
    join(dir, 'spillway.yaml'),
    '--listen',
    '127.0.0.1:0',
    '--xds',
    '127.0.0.1:0',
  ]);
  api = new ConformingApi(await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/));
  xdsPort = Number(await cli.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));
});

afterAll(async () => {
  await cli?.stop();
  for (const server of servers.splice(0)) await server.stop();
});

describe('GET /openapi.json of spillway up', () => {
  it('documents every route the server registered, and every answer matches it', async () => {
    const document = await api.loadDocument(/embedded/);
    expect(Object.keys(document.paths as object)).toEqual(
      expect.arrayContaining(['/v1/bursts', '/v1/services/{ns}/{name}', '/v1/drills/{id}/abort', '/v1/xds/clients']),
    );
    const { operator, viewer, webhook } = TOKENS;

    // Operations: open, also without a token.
    await waitFor(async () => (await api.call('GET', '/readyz')).status === 200, { message: 'ready' });
    expect((await api.call('GET', '/healthz')).status).toBe(200);
    expect((await api.call('GET', '/metrics')).status).toBe(200);

    // Federation.
    expect((await api.call('GET', '/v1/clusters')).status).toBe(200);
    expect((await api.call('GET', '/v1/services?namespace=demo')).status).toBe(200);
    expect((await api.call('GET', '/v1/services?colour=red')).status).toBe(400);
    expect((await api.call('GET', '/v1/services/demo/echo')).status).toBe(200);
    expect((await api.call('GET', '/v1/services/demo/nothing')).status).toBe(404);
    expect((await api.call('GET', '/v1/catalog/changes?index=0&wait=1s')).status).toBe(200);
    expect((await api.call('GET', '/v1/catalog/changes?wait=forever')).status).toBe(400);
    // Open reads are for loopback names only.
    expect((await api.call('GET', '/v1/services', { headers: { host: 'rebound.example' } })).status).toBe(421);

    // Router: an xDS client is connected while its view is read.
    const ads = AdsTestClient.sotw(xdsPort);
    try {
      ads.send({
        node: { id: 'openapi-client', locality: { region: 'lab', zone: 'lab-a', sub_zone: '' } },
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['echo.demo'],
      });
      await ads.next(20_000);
      const clients = await api.call('GET', '/v1/xds/clients');
      expect((clients.body as { clients: unknown[] }).clients).toHaveLength(1);
    } finally {
      ads.close();
    }

    // The EDS each client locality gets (the console's service page).
    expect((await api.call('GET', '/v1/services/demo/echo/eds')).status).toBe(200);
    expect((await api.call('GET', '/v1/services/demo/echo/eds?region=lab&zone=lab-a')).status).toBe(200);
    expect((await api.call('GET', '/v1/services/demo/nothing/eds')).status).toBe(404);
    expect((await api.call('GET', '/v1/services/demo/echo/eds?environment=mars')).status).toBe(400);

    // The console: its page and files are open, without a token.
    expect((await api.call('GET', '/ui')).status).toBe(200);
    expect((await api.call('GET', '/ui/assets/app.js')).status).toBe(200);
    expect((await api.call('GET', '/ui/assets/app.css')).status).toBe(200);
    expect((await api.call('GET', '/ui/assets/shipped-drills.json')).status).toBe(200);

    expect((await api.call('GET', '/v1/load?service=echo.demo&windowSeconds=30')).status).toBe(200);
    expect((await api.call('GET', '/v1/load?service=gone.demo')).status).toBe(404);
    expect((await api.call('GET', '/v1/load?service=echo')).status).toBe(400);

    // Bursts: the refusals first, then one started, shown, aborted and refused once ended.
    const start = { service: 'echo.demo', share: 0.3, reason: 'openapi test' };
    expect((await api.call('POST', '/v1/bursts', { body: start })).status).toBe(401);
    expect((await api.call('POST', '/v1/bursts', { token: viewer, body: start })).status).toBe(403);
    expect((await api.call('POST', '/v1/bursts', { token: operator, body: { ...start, share: 2 } })).status).toBe(400);
    expect(
      (
        await api.call('POST', '/v1/bursts', {
          token: operator,
          body: '<share>0.3</share>',
          contentType: 'application/xml',
        })
      ).status,
    ).toBe(415);
    const tooLarge = { ...start, reason: 'x'.repeat(1_100_000) };
    expect((await api.call('POST', '/v1/bursts', { token: operator, body: tooLarge })).status).toBe(413);
    expect(
      (await api.call('POST', '/v1/bursts', { token: operator, body: { ...start, service: 'who.demo' } })).status,
    ).toBe(422);
    expect((await api.call('POST', '/v1/bursts', { token: operator, body: { ...start, share: 0.9 } })).status).toBe(
      422,
    );
    const started = await api.call('POST', '/v1/bursts', { token: operator, body: start });
    expect(started.status).toBe(202);
    const id = (started.body as { id: string }).id;
    await waitFor(async () => (await api.call('GET', `/v1/bursts/${id}`)).status === 200, {
      message: 'burst recorded',
    });
    expect((await api.call('GET', '/v1/bursts?active=true')).status).toBe(200);
    expect((await api.call('GET', `/v1/bursts/${id}/timeline`)).status).toBe(200);
    expect((await api.call('GET', '/v1/bursts/burst-nothing/timeline')).status).toBe(404);
    expect((await api.call('GET', '/v1/burst-policies')).status).toBe(200);
    expect((await api.call('GET', '/v1/bursts?limit=0')).status).toBe(400);
    expect((await api.call('GET', '/v1/bursts/burst-nothing')).status).toBe(404);
    expect((await api.call('POST', `/v1/bursts/${id}/abort`, { token: operator, body: {} })).status).toBe(202);
    expect((await api.call('POST', '/v1/bursts/burst-nothing/abort', { token: operator })).status).toBe(404);
    await waitFor(async () => (await api.call('POST', `/v1/bursts/${id}/abort`, { token: operator })).status === 409, {
      message: 'the aborted burst has ended',
    });
    expect((await api.call('GET', `/v1/audit?burstId=${id}`)).status).toBe(200);
    expect((await api.call('GET', '/v1/audit?class=gossip')).status).toBe(400);
    expect((await api.call('GET', '/v1/controller')).status).toBe(200);

    // Alertmanager's webhook.
    const alerts = await api.call('POST', '/v1/alerts/alertmanager', { token: webhook, body: NOTIFICATION });
    expect(alerts.status).toBe(200);
    const bad = await api.call('POST', '/v1/alerts/alertmanager', { token: webhook, body: { version: '3' } });
    expect(bad.status).toBe(400);

    // Drills: refusals, one aborted, one run to its report; the router's overrides while it runs.
    expect((await api.call('POST', '/v1/drills', { token: operator, body: { name: 'no target' } })).status).toBe(400);
    const yaml = 'name: bad\ntarget: [';
    expect(
      (await api.call('POST', '/v1/drills', { token: operator, body: yaml, contentType: 'application/yaml' })).status,
    ).toBe(400);
    const elsewhere = { ...DRILL, target: { ...DRILL.target, service: 'gone.demo' } };
    expect((await api.call('POST', '/v1/drills', { token: operator, body: elsewhere })).status).toBe(422);
    const first = await api.call('POST', '/v1/drills', { token: operator, body: { ...DRILL, durationSeconds: 60 } });
    expect(first.status).toBe(202);
    const firstId = (first.body as { id: string }).id;
    expect((await api.call('POST', '/v1/drills', { token: operator, body: DRILL })).status).toBe(409);
    expect((await api.call('POST', `/v1/drills/${firstId}/abort`, { token: operator })).status).toBe(202);
    await waitFor(
      async () => ((await api.call('GET', `/v1/drills/${firstId}`)).body as { state: string }).state === 'done',
      {
        message: 'the aborted drill is done',
        timeoutMs: 30_000,
      },
    );
    expect((await api.call('POST', `/v1/drills/${firstId}/abort`, { token: operator })).status).toBe(409);
    const second = await api.call('POST', '/v1/drills', { token: operator, body: DRILL });
    expect(second.status).toBe(202);
    const secondId = (second.body as { id: string }).id;
    await waitFor(
      async () =>
        ((await api.call('GET', '/v1/router/overrides')).body as { overrides: unknown[] }).overrides.length > 0,
      { message: 'the drain is in force' },
    );
    const report = await waitFor(
      async () => {
        const view = (await api.call('GET', `/v1/drills/${secondId}`)).body as { state: string; report?: unknown };
        return view.state === 'done' ? view.report : undefined;
      },
      { message: 'the drill report', timeoutMs: 30_000 },
    );
    expect(report).toMatchObject({ end: 'completed' });
    expect((await api.call('GET', '/v1/drills?limit=5')).status).toBe(200);
    expect((await api.call('GET', '/v1/drills?limit=500')).status).toBe(400);
    expect((await api.call('GET', '/v1/drills/drill-00000000')).status).toBe(404);

    api.expectConformance();
  });
});
