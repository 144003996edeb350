import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_PATH, type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { freePort } from '@spillway/test/support/free-port';
import { loopback, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_TYPE_URL, type DiscoveryResponseMessage, envoyProtos, LISTENER_TYPE_URL } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { xdsClient } from '@spillway/xds/test-support/grpc-xds-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliProcess } from './cli-process.js';
import { spawnSpillway, stopSpillway } from './support/three-process-world.js';

/**
 * Issue 9: a router restarted while the federation is down must not answer xDS with 0
 * Clusters and 0 Listeners (which tells every client to delete everything). It holds requests
 * until it has a catalog, or serves the snapshot a previous run saved.
 */

const processes: CliProcess[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(processes.splice(0).map((cli) => stopSpillway(cli)));
});

async function startFederation(port: number, config?: string): Promise<CliProcess> {
  const cli = spawnSpillway(['federation', '--listen', `127.0.0.1:${port}`, ...(config ? ['--config', config] : [])]);
  processes.push(cli);
  await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
  return cli;
}

async function startRouter(
  federation: string,
  options: { config?: string; xdsPort?: number } = {},
): Promise<{ cli: CliProcess; xdsPort: number; api: string }> {
  const cli = spawnSpillway([
    'router',
    '--federation',
    federation,
    '--xds',
    `127.0.0.1:${options.xdsPort ?? 0}`,
    '--listen',
    '127.0.0.1:0',
    ...(options.config ? ['--config', options.config] : []),
  ]);
  processes.push(cli);
  const xdsPort = Number(await cli.waitForOutput(/xDS\s+port (\d+)/));
  const api = await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
  return { cli, xdsPort, api };
}

/** Ends a process as a crash would: no shutdown work. */
async function crash(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGKILL');
  await cli.exited;
}

async function readiness(api: string): Promise<{ status: number; detail: string }> {
  const response = await fetch(`${api}/readyz`);
  const body = (await response.json()) as { checks: { name: string; detail?: string }[] };
  const detail = body.checks.find((check) => check.name === 'catalog')?.detail ?? '';
  return { status: response.status, detail };
}

async function metric(api: string, name: string): Promise<string> {
  const text = await (await fetch(`${api}/metrics`)).text();
  return text.split('\n').find((line) => line.startsWith(name)) ?? '';
}

const heldRequests = async (api: string) => Number((await metric(api, 'spillway_xds_requests_held')).split(' ')[1]);

function resourceNames(response: DiscoveryResponseMessage): string[] {
  const protos = envoyProtos();
  return response.resources
    .map((any) =>
      any.type_url === CLUSTER_TYPE_URL
        ? (protos.Cluster.decode(any.value).toJSON().name as string)
        : (protos.Listener.decode(any.value).toJSON().name as string),
    )
    .sort();
}

/** A raw SotW ADS client that asked for every Cluster and every Listener (wildcard). */
function askWildcardCdsAndLds(xdsPort: number): AdsTestClient<unknown, DiscoveryResponseMessage> {
  const ads = AdsTestClient.sotw(xdsPort);
  cleanups.push(() => ads.close());
  const node = { id: `restart-${Math.random()}`, locality: { region: 'lab', zone: 'lab-a', sub_zone: '' } };
  ads.send({ node, type_url: CLUSTER_TYPE_URL, resource_names: [] });
  ads.send({ type_url: LISTENER_TYPE_URL, resource_names: [] });
  return ads as AdsTestClient<unknown, DiscoveryResponseMessage>;
}

/** The Cluster and Listener names the router's first answers carry. */
async function wildcardAnswers(
  xdsPort: number,
  timeoutMs = 20_000,
): Promise<{ clusters: string[]; listeners: string[] }> {
  const ads = askWildcardCdsAndLds(xdsPort);
  const answers = [await ads.next(timeoutMs), await ads.next(timeoutMs)];
  const of = (typeUrl: string) => resourceNames(answers.find((answer) => answer.type_url === typeUrl)!);
  return { clusters: of(CLUSTER_TYPE_URL), listeners: of(LISTENER_TYPE_URL) };
}

async function federationServices(federation: string): Promise<string[]> {
  const body = (await (await fetch(`${federation}/v1/services`)).json()) as { services: { key: string }[] };
  return body.services.map((service) => service.key).sort();
}

async function snapshotConfig(extra = ''): Promise<{ config: string; snapshot: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-router-restart-'));
  const snapshot = join(dir, 'state', 'catalog.json');
  const config = join(dir, 'spillway.yaml');
  await writeFile(config, `${extra}router:\n  snapshotFile: ${snapshot}\n  snapshotIntervalSeconds: 0.2\n`);
  return { config, snapshot, dir };
}

async function savedServices(snapshot: string): Promise<string[]> {
  const file = JSON.parse(await readFile(snapshot, 'utf8')) as { services: { name: string; namespace: string }[] };
  return file.services.map((service) => `${service.name}.${service.namespace}`).sort();
}

describe('a router restarted while the federation is down', () => {
  it('holds CDS and LDS instead of answering 0 resources, and sends the full set once the federation is back', async () => {
    const federationPort = await freePort();
    const federationUrl = `http://127.0.0.1:${federationPort}`;
    const router = await startRouter(federationUrl);
    expect(await readiness(router.api)).toEqual({
      status: 503,
      detail: expect.stringMatching(/no catalog yet: xDS requests are held/),
    });

    const ads = askWildcardCdsAndLds(router.xdsPort);
    // Either (wrong) answers arrive, or the router reports both requests held.
    await waitFor(async () => ads.queued > 0 || (await heldRequests(router.api)) === 2, {
      message: 'answers or two held requests',
    });
    expect(ads.queued).toBe(0);

    await startFederation(federationPort);
    const expected = await federationServices(federationUrl);
    expect(expected.length).toBeGreaterThan(0);
    const answers = [await ads.next(30_000), await ads.next(30_000)];
    const byType = new Map(answers.map((answer) => [answer.type_url, resourceNames(answer)]));
    expect(byType.get(CLUSTER_TYPE_URL)).toEqual(expected);
    expect(byType.get(LISTENER_TYPE_URL)).toEqual(expected);
    await waitFor(async () => (await readiness(router.api)).status === 200, { message: 'router ready' });
    expect((await readiness(router.api)).detail).toBe('following the federation');
  }, 90_000);

  it('serves the snapshot of its previous run at once, with its age, and never a corrupt one', async () => {
    const { config, snapshot } = await snapshotConfig();
    const federationPort = await freePort();
    const federationUrl = `http://127.0.0.1:${federationPort}`;
    const federation = await startFederation(federationPort);
    const first = await startRouter(federationUrl, { config });
    await waitFor(async () => (await readiness(first.api)).status === 200, { message: 'first router ready' });
    const before = await wildcardAnswers(first.xdsPort);
    expect(before.clusters).toEqual(await federationServices(federationUrl));
    await waitFor(
      async () => (await savedServices(snapshot).catch((): string[] => [])).length === before.clusters.length,
      {
        message: 'the catalog saved',
      },
    );

    await crash(federation);
    await crash(first.cli);
    const second = await startRouter(federationUrl, { config });
    const { status, detail } = await readiness(second.api);
    expect(status).toBe(200);
    expect(detail).toMatch(
      new RegExp(
        `serving the saved catalog \\(snapshot ${snapshot}\\), synced .*, age \\d+ s: the federation has not answered yet`,
      ),
    );
    expect(await wildcardAnswers(second.xdsPort)).toEqual(before);
    expect(await metric(second.api, 'spillway_router_catalog_age_seconds')).toMatch(
      /^spillway_router_catalog_age_seconds\{origin="snapshot",spillway_process="router"\} \d+$/,
    );
    // Serving the snapshot does not rewrite it: its age stays the truth.
    const savedAt = JSON.parse(await readFile(snapshot, 'utf8')).savedAt as string;

    await crash(second.cli);
    expect(JSON.parse(await readFile(snapshot, 'utf8')).savedAt).toBe(savedAt);
    await writeFile(snapshot, JSON.stringify({ format: 1, services: [{ name: 'Not A Name' }] }));
    const third = await startRouter(federationUrl, { config });
    expect(await readiness(third.api)).toEqual({
      status: 503,
      detail: expect.stringMatching(new RegExp(`no catalog yet: .*; snapshot ${snapshot} ignored \\(.+\\)`)),
    });
    const ads = askWildcardCdsAndLds(third.xdsPort);
    await waitFor(async () => ads.queued > 0 || (await heldRequests(third.api)) === 2, {
      message: 'answers or two held requests',
    });
    expect(ads.queued).toBe(0);
  }, 120_000);

  it('a grpc-js-xds client keeps calling through a router restart while the federation is down', async () => {
    const servers: IdentityServer[] = [];
    cleanups.push(() => Promise.all(servers.map((server) => server.stop())));
    for (const zone of ['lab-a', 'lab-b']) {
      servers.push(await startIdentityServer({ identity: { cluster: 'lab', zone, endpoint: zone }, port: 0 }));
    }
    const { config, snapshot } = await snapshotConfig(
      spillwayConfigYaml({
        lab: { 'who.demo': [loopback(servers[0]!.port, 'lab-a'), loopback(servers[1]!.port, 'lab-b')] },
      }),
    );
    const federationPort = await freePort();
    const federationUrl = `http://127.0.0.1:${federationPort}`;
    const xdsPort = await freePort();
    const federation = await startFederation(federationPort, config);
    const first = await startRouter(federationUrl, { config, xdsPort });
    const client = xdsClient('who.demo', xdsPort, { id: 'restart-client', locality: { region: 'lab', zone: 'lab-a' } });
    cleanups.push(() => client.close());
    await waitFor(async () => (await who(client)) === 'lab/lab-a/lab-a', { timeoutMs: 30_000, message: 'first call' });
    await waitFor(async () => (await savedServices(snapshot).catch((): string[] => [])).includes('who.demo'), {
      message: 'the catalog saved',
    });

    await crash(federation);
    await crash(first.cli);
    const second = await startRouter(federationUrl, { config, xdsPort });
    // The client is back on the new router and has ACKed what it serves (the saved catalog).
    await waitFor(
      async () => {
        const { clients } = (await (await fetch(`${second.api}/v1/xds/clients`)).json()) as {
          clients: { nodeId: string; resources: Record<string, { ackedVersion: string | null }> }[];
        };
        const mine = clients.find((info) => info.nodeId === 'restart-client');
        return ['Listener', 'Cluster', 'ClusterLoadAssignment'].every((type) => mine?.resources[type]?.ackedVersion);
      },
      { timeoutMs: 60_000, message: 'the client re-subscribed on the restarted router and ACKed' },
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => who(client)));
    expect(answers).toEqual(Array.from({ length: 20 }, () => 'lab/lab-a/lab-a'));
  }, 150_000);
});

const passThrough = (bytes: Buffer) => bytes;

/** One call through xDS: who answered, or the error's message. */
function who(client: ReturnType<typeof xdsClient>): Promise<string> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      IDENTITY_PATH,
      passThrough,
      passThrough,
      Buffer.alloc(0),
      { deadline: Date.now() + 5_000 },
      (error, value) => resolve(error ? `error: ${error.message}` : (value?.toString() ?? '')),
    ),
  );
}
