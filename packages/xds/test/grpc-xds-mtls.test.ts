import type * as grpc from '@grpc/grpc-js';
import { type CertFiles, createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cCoreRpcs } from './support/c-core-xds-client.js';
import { ECHO_SITES, type EchoServer, echoEndpoints, sendRpcs, startEchoSites } from './support/echo-servers.js';
import { xdsClient } from './support/grpc-xds-client.js';
import { InMemoryCatalog } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';
import { startTlsOrigination, type TlsOrigination } from './support/tls-origination.js';

/**
 * Real xDS clients (grpc-js-xds, and gRPC C-core from python3-grpcio) reach the router only over
 * mutual TLS with a certificate from its client CA, and learn only the services their identity
 * may watch. Neither client library can present a certificate to its xDS server (see
 * tls-origination.ts), so each reaches the router through a local TLS-originating agent that
 * carries its workload certificate, as proxyless gRPC does under Istio.
 */
describe('real xDS clients over mutual TLS', () => {
  let pki: TestPki;
  let servers: EchoServer[] = [];
  let router: TestXdsServer;
  const agents: TlsOrigination[] = [];
  const clients: grpc.Client[] = [];
  const zoneA = ECHO_SITES['zone-a'];

  const agent = async (certificate: CertFiles | undefined) => {
    const started = await startTlsOrigination(router.port, pki.ca.certFile, certificate);
    agents.push(started);
    return started.address;
  };
  const grpcJs = (target: string, server: string | number) => {
    const client = xdsClient(target, server, { id: `grpc-js-${clients.length}`, locality: zoneA });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pki = createTestPki();
    servers = await startEchoSites(1);
    const catalog = new InMemoryCatalog();
    const endpoints = echoEndpoints(servers);
    catalog.setService({ name: 'cart', namespace: 'shop', endpoints });
    catalog.setService({ name: 'admin', namespace: 'ops', endpoints });
    const tls = { ...pki.server('xds'), clientCaFile: pki.ca.certFile };
    router = await startTestXdsServer({
      catalog,
      tls,
      authorization: [{ identity: 'spiffe://lab/ns/shop/sa/*', localities: [{ region: 'dc1' }], services: ['*.shop'] }],
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(agents.map((started) => started.close()));
    await router?.server.stop();
    await Promise.all(servers.map((server) => server.stop()));
    pki?.remove();
  });

  it('grpc-js-xds: a client with a shop certificate reaches cart.shop and is listed with its identity', async () => {
    const cart = pki.ca.issue('grpc-js-cart', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const client = grpcJs('cart.shop', await agent(cart));
    await waitFor(async () => (await sendRpcs(client, 20)).failures === 0, {
      timeoutMs: 30_000,
      message: 'RPCs via xDS',
    });
    const tally = await sendRpcs(client, 200);
    expect(tally.failures).toBe(0);
    expect([...tally.counts.keys()].every((who) => who.startsWith('zone-a'))).toBe(true);
    expect(router.server.clients().map((info) => info.identity)).toContain('spiffe://lab/ns/shop/sa/cart');
  });

  it('grpc-js-xds: no certificate, another CA, or plaintext learn nothing; a shop identity never gets admin.ops', async () => {
    const foreign = pki.otherCa.issue('grpc-js-foreign', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const shop = pki.ca.issue('grpc-js-shop', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const refused = [
      grpcJs('cart.shop', await agent(undefined)),
      grpcJs('cart.shop', await agent(foreign)),
      grpcJs('cart.shop', router.port),
      grpcJs('admin.ops', await agent(shop)),
    ];
    const tallies = await Promise.all(refused.map((client) => sendRpcs(client, 2, 2)));
    expect(tallies.map((tally) => tally.failures)).toEqual([2, 2, 2, 2]);
    expect(router.server.clients().map((info) => info.identity)).not.toContain(null);
  });

  it('gRPC C-core: RPCs succeed with a shop certificate, fail without one or with another CA, never reach admin.ops', async () => {
    const cart = pki.ca.issue('c-core-cart', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const foreign = pki.otherCa.issue('c-core-foreign', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const refusedRun = (xdsServer: string, target = 'cart.shop') =>
      cCoreRpcs({ target, xdsServer, locality: zoneA, count: 2, deadlineSeconds: 3 });
    const [ok, none, other, admin] = await Promise.all([
      cCoreRpcs({ target: 'cart.shop', xdsServer: await agent(cart), locality: zoneA, count: 50 }),
      refusedRun(await agent(undefined)),
      refusedRun(await agent(foreign)),
      refusedRun(await agent(cart), 'admin.ops'),
    ]);
    expect(ok.failures, ok.errors.join('; ')).toBe(0);
    expect(ok.answers).toEqual({ 'zone-a#1': 50 });
    for (const refused of [none, other]) {
      expect(refused.failures).toBe(2);
      expect(refused.errors[0]).toMatch(/xDS channel .*TRANSIENT_FAILURE/);
    }
    expect(admin.failures).toBe(2);
    expect(admin.answers).toEqual({});
  });
});
