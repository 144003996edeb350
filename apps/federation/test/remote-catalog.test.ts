import { createServer } from 'node:http';
import { RemoteCatalog } from '@spillway/catalog';
import { buildConfig } from '@spillway/config';
import { silentLogger } from '@spillway/observability';
import { closeServer, listenOnLoopback } from '@spillway/test/support/http';
import { ManualSource } from '@spillway/test/support/manual-source';
import { createTestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { ClientTlsAgent, HttpsServing } from '@spillway/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type Federation, startFederation } from '../src/federation-service.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function federationWith(
  source: ManualSource | ManualSource[],
  address = '127.0.0.1:0',
  https?: HttpsServing,
  settings: Record<string, unknown> = {},
): Promise<Federation> {
  const federation = await startFederation({
    config: buildConfig({ federation: settings }),
    logger: silentLogger(),
    sources: Array.isArray(source) ? source : [source],
    httpAddress: address,
    ...(https ? { https } : {}),
  });
  cleanups.push(() => federation.stop());
  return federation;
}

function follow(url: string, httpsAgent?: ClientTlsAgent): RemoteCatalog {
  const remote = new RemoteCatalog({
    url,
    waitSeconds: 5,
    backoff: { minMs: 10, maxMs: 50 },
    ...(httpsAgent ? { httpsAgent } : {}),
  });
  remote.start();
  cleanups.push(() => remote.stop());
  return remote;
}

const addresses = (remote: RemoteCatalog, key: string) =>
  remote
    .current()
    .services.get(key)
    ?.endpoints.map((e) => `${e.address} ${e.health}`);

describe('RemoteCatalog (the router following a federation process)', () => {
  it('follows changes, keeps serving through an outage, and resyncs after the federation restarts', async () => {
    const dc1 = new ManualSource('dc1');
    const federation = await federationWith(dc1);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')], 'cart.shop': [dc1.endpoint('10.0.0.2')] });
    const remote = follow(federation.url);
    await waitFor(() => remote.current().services.size === 2, { message: 'initial sync' });

    const changes: { changed: readonly string[]; removed: readonly string[] }[] = [];
    remote.subscribe((change) => changes.push(change));
    dc1.sink.replaceServices(new Map([['echo.demo', [dc1.endpoint('10.0.0.1', { health: 'unhealthy' })]]]));
    await waitFor(() => addresses(remote, 'echo.demo')?.[0] === '10.0.0.1 unhealthy', { message: 'change' });
    expect(changes).toEqual([expect.objectContaining({ changed: ['echo.demo'], removed: [] })]);

    const port = new URL(federation.url).port;
    await federation.stop();
    await waitFor(() => !remote.connected, { message: 'outage noticed' });
    expect(remote.lastError).toBeTruthy();
    expect(remote.current().services.size).toBe(2); // last good catalog kept

    const restarted = new ManualSource('dc1');
    await federationWith(restarted, `127.0.0.1:${port}`);
    restarted.report({ 'echo.demo': [restarted.endpoint('10.0.0.7')] });
    await waitFor(() => addresses(remote, 'echo.demo')?.[0] === '10.0.0.7 healthy', { message: 'resync' });
    expect(remote.connected).toBe(true);
    expect(remote.current().services.has('cart.shop')).toBe(false); // removed by the full resync
  });

  it('keeps its catalog when a restarted federation has none yet, instead of emptying it', async () => {
    const dc1 = new ManualSource('dc1');
    const federation = await federationWith(dc1);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')], 'cart.shop': [dc1.endpoint('10.0.0.2')] });
    const remote = follow(federation.url);
    await waitFor(() => remote.current().services.size === 2, { message: 'initial sync' });
    const removals: string[] = [];
    remote.subscribe((change) => removals.push(...change.removed));

    const port = new URL(federation.url).port;
    await federation.stop();
    await waitFor(() => !remote.connected, { message: 'outage noticed' });
    // Back on the same port, but its source has not reported: its catalog is at index 0.
    const restarted = new ManualSource('dc1');
    await federationWith(restarted, `127.0.0.1:${port}`);
    await waitFor(() => remote.connected, { message: 'the restarted federation answered' });
    await waitFor(() => remote.remoteIndex === 0, { message: 'the answer at index 0 handled' });
    expect(removals).toEqual([]);
    expect([...remote.current().services.keys()].sort()).toEqual(['cart.shop', 'echo.demo']);

    restarted.report({ 'echo.demo': [restarted.endpoint('10.0.0.7')] });
    await waitFor(() => addresses(remote, 'echo.demo')?.[0] === '10.0.0.7 healthy', { message: 'resync' });
    expect(removals).toEqual(['cart.shop']);
  });

  it('after a restart, the first catalog waits for every source: followers never lose a slow source’s services', async () => {
    const sources = [new ManualSource('dc1'), new ManualSource('dc2')];
    const federation = await federationWith(sources);
    sources[0]!.report({ 'echo.demo': [sources[0]!.endpoint('10.0.0.1')] });
    sources[1]!.report({ 'cart.shop': [sources[1]!.endpoint('10.0.2.1')] });
    const remote = follow(federation.url);
    await waitFor(() => remote.current().services.size === 2, { message: 'initial sync' });
    const removals: string[] = [];
    remote.subscribe((change) => removals.push(...change.removed));

    const port = new URL(federation.url).port;
    await federation.stop();
    await waitFor(() => !remote.connected, { message: 'outage noticed' });
    const [dc1, dc2] = [new ManualSource('dc1'), new ManualSource('dc2')];
    const restarted = await federationWith([dc1, dc2], `127.0.0.1:${port}`);
    await waitFor(() => remote.connected && remote.remoteIndex === 0, { message: 'the restarted federation answered' });

    // dc1 reports at once; dc2 is slow. The federation has dc1's view, but no catalog to give.
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.7')] });
    await waitFor(() => restarted.store.sourceStatuses().find((s) => s.name === 'dc1')?.state === 'live', {
      message: 'dc1 reported to the restarted federation',
    });
    const changes = (await (await fetch(`${restarted.url}/v1/catalog/changes?index=0&wait=0s`)).json()) as {
      index: number;
    };
    expect(changes.index).toBe(0);
    expect(removals).toEqual([]);
    expect([...remote.current().services.keys()].sort()).toEqual(['cart.shop', 'echo.demo']);

    // dc2 reports: one reset with both sources, nothing ever removed.
    dc2.report({ 'cart.shop': [dc2.endpoint('10.0.2.7')] });
    await waitFor(() => addresses(remote, 'cart.shop')?.[0] === '10.0.2.7 healthy', { message: 'resync' });
    expect(addresses(remote, 'echo.demo')).toEqual(['10.0.0.7 healthy']);
    expect(removals).toEqual([]);
  });

  it('resyncs fully when its index was counted by another run of the federation, even one already past it', async () => {
    // The follower reaches the federation through one address (a restart behind a Service, or
    // a failover between replicas); while it is cut off, the old run stops and a new one, whose
    // index starts again at 0, moves past the follower's index before the follower asks again.
    let upstream: string | null = null;
    const proxy = createServer(async (request, response) => {
      const answer = upstream ? await fetch(`${upstream}${request.url}`).catch(() => undefined) : undefined;
      if (!answer) return void response.writeHead(502).end();
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
    });
    const url = await listenOnLoopback(proxy);
    cleanups.push(() => closeServer(proxy));

    const dc1 = new ManualSource('dc1');
    const first = await federationWith(dc1);
    upstream = first.url;
    const remote = follow(url);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')], 'cart.shop': [dc1.endpoint('10.0.0.2')] });
    await waitFor(() => remote.current().services.size === 2, { message: 'initial sync' });
    dc1.sink.replaceServices(new Map([['echo.demo', [dc1.endpoint('10.0.0.1', { health: 'unhealthy' })]]]));
    await waitFor(() => remote.remoteIndex === 2, { message: 'the follower at index 2 of the first run' });

    upstream = null;
    await first.stop();
    await waitFor(() => !remote.connected, { message: 'outage noticed' });
    const again = new ManualSource('dc1');
    const second = await federationWith(again);
    again.report({ 'echo.demo': [again.endpoint('10.0.0.7')] });
    await waitFor(() => second.store.current().version === 1, { message: 'second run at 1' });
    again.sink.replaceServices(new Map([['late.demo', [again.endpoint('10.0.0.8')]]]));
    await waitFor(() => second.store.current().version === 2, { message: 'second run at 2' });
    again.sink.replaceServices(new Map([['other.demo', [again.endpoint('10.0.0.9')]]]));
    await waitFor(() => second.store.current().version === 3, { message: 'second run past the follower' });

    upstream = second.url;
    await waitFor(() => remote.connected && remote.remoteIndex === 3, { message: 'the follower caught up' });
    // A delta "since 2" of the second run would bring only other.demo: cart.shop kept, echo stale.
    expect([...remote.current().services.keys()].sort()).toEqual(['echo.demo', 'late.demo', 'other.demo']);
    expect(addresses(remote, 'echo.demo')).toEqual(['10.0.0.7 healthy']);
  });

  it('publishes without a source still silent at the initial-sync deadline, and says so in /v1/clusters', async () => {
    const [dc1, dc2] = [new ManualSource('dc1'), new ManualSource('dc2')];
    const federation = await federationWith([dc1, dc2], '127.0.0.1:0', undefined, { initialSyncSeconds: 0.5 });
    const remote = follow(federation.url);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')] });
    await waitFor(() => remote.current().services.has('echo.demo'), { message: 'the catalog after the deadline' });
    const { clusters } = (await (await fetch(`${federation.url}/v1/clusters`)).json()) as {
      clusters: { name: string; state: string; lastError: string | null }[];
    };
    expect(clusters.find((cluster) => cluster.name === 'dc2')).toMatchObject({
      state: 'failing',
      lastError: 'no complete report within the initial-sync deadline (0.5 s)',
    });
  });

  it('serves a seeded catalog until the federation answers with its own, which replaces it', async () => {
    const dc1 = new ManualSource('dc1');
    const federation = await federationWith(dc1);
    const remote = new RemoteCatalog({ url: federation.url, waitSeconds: 1, backoff: { minMs: 10, maxMs: 50 } });
    cleanups.push(() => remote.stop());
    const savedAt = new Date(Date.now() - 60_000);
    expect(remote.seed([{ name: 'old', namespace: 'demo', endpoints: [dc1.endpoint('10.0.0.9')] }], savedAt)).toBe(
      true,
    );
    expect(remote.current().version).toBe(1);
    expect(remote.freshness()).toEqual({ origin: 'snapshot', syncedAt: savedAt, live: false });
    remote.start();
    // The federation has no catalog yet (index 0): the seed stays.
    await waitFor(() => remote.connected, { message: 'the federation answered' });
    expect([...remote.current().services.keys()]).toEqual(['old.demo']);

    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')] });
    await waitFor(() => remote.current().services.has('echo.demo'), { message: 'first sync' });
    expect([...remote.current().services.keys()]).toEqual(['echo.demo']);
    expect(remote.freshness()).toMatchObject({ origin: 'federation', live: true });
    expect(remote.seed([], new Date())).toBe(false);
  });

  it('rejects a garbage change feed and keeps its last good catalog', async () => {
    const dc1 = new ManualSource('dc1');
    const federation = await federationWith(dc1);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')] });
    let garbage = false;
    // Forwards the long poll, and once `garbage` is set answers it with a malformed body.
    const proxy = createServer(async (request, response) => {
      const upstream = await fetch(`${federation.url}${request.url}`);
      const body = await upstream.text();
      response.setHeader('content-type', 'application/json');
      response.end(garbage ? JSON.stringify({ index: 'many', services: [{ name: 'UPPER CASE' }] }) : body);
    });
    const url = await listenOnLoopback(proxy);
    cleanups.push(() => closeServer(proxy));
    const remote = follow(url);
    await waitFor(() => remote.current().services.size === 1, { message: 'initial sync' });
    garbage = true;
    dc1.sink.replaceServices(new Map([['echo.demo', [dc1.endpoint('10.0.0.1', { health: 'unhealthy' })]]]));
    await waitFor(() => remote.lastError?.includes('invalid change feed'), { message: 'garbage rejected' });
    expect(addresses(remote, 'echo.demo')).toEqual(['10.0.0.1 healthy']);
  });

  it('follows a federation that serves HTTPS and requires client certificates, and only with the right CA and certificate', async () => {
    const pki = createTestPki();
    cleanups.push(async () => pki.remove());
    const https = new HttpsServing({ ...pki.server('federation'), clientCaFile: pki.ca.certFile }, { name: 'http' });
    const dc1 = new ManualSource('dc1');
    const federation = await federationWith(dc1, '127.0.0.1:0', https);
    dc1.report({ 'echo.demo': [dc1.endpoint('10.0.0.1')] });
    expect(federation.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const agent = (files: ConstructorParameters<typeof ClientTlsAgent>[0]) => {
      const made = new ClientTlsAgent(files, { name: 'client' });
      cleanups.push(async () => made.close());
      return made;
    };

    const router = follow(federation.url, agent({ caFile: pki.ca.certFile, ...pki.ca.issue('router') }));
    const noCertificate = follow(federation.url, agent({ caFile: pki.ca.certFile }));
    const wrongCa = follow(federation.url, agent({ caFile: pki.otherCa.certFile, ...pki.ca.issue('router-2') }));

    await waitFor(() => addresses(router, 'echo.demo')?.[0] === '10.0.0.1 healthy', { message: 'catalog over mTLS' });
    await waitFor(() => noCertificate.lastError !== null && wrongCa.lastError !== null, { message: 'refusals' });
    expect(noCertificate.current().services.size).toBe(0);
    expect(wrongCa.lastError).toMatch(/certificate/i);
    expect(wrongCa.current().services.size).toBe(0);
  });
});
