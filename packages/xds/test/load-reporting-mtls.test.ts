import * as grpc from '@grpc/grpc-js';
import type { MeasuredLoad } from '@spillway/model';
import { type CertFiles, createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint } from './support/in-memory-catalog.js';
import { LrsTestClient, localityStats } from './support/lrs-test-client.js';
import { mtlsCredentials } from './support/mtls.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

/** LRS shares the xDS port, so it shares its mutual TLS and its authorization rules. */
const zoneA = { region: 'dc1', zone: 'a' };

describe('load reporting over mutual TLS with xDS authorization', () => {
  let pki: TestPki;
  let cart: CertFiles;
  let stranger: CertFiles;
  let router: TestXdsServer;
  const clients: LrsTestClient[] = [];
  const open = (credentials: grpc.ChannelCredentials) => {
    const client = new LrsTestClient(router.port, credentials);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    pki = createTestPki();
    cart = pki.ca.issue('cart', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    stranger = pki.ca.issue('stranger', { uris: ['spiffe://lab/ns/evil/sa/x'] });
    const server = pki.server('xds');
    router = await startTestXdsServer({
      tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.ca.certFile },
      authorization: [{ identity: 'spiffe://lab/ns/shop/sa/*', localities: [zoneA], services: ['*.shop'] }],
      loadReporting: { intervalSeconds: 10 },
    });
    for (const [name, namespace] of [
      ['cart', 'shop'],
      ['admin', 'ops'],
    ] as const) {
      router.catalog.setService({ name, namespace, endpoints: [endpoint('10.0.0.1', 8080, zoneA)] });
    }
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await router?.server.stop();
    pki?.remove();
  });

  it('refuses plaintext, an identity no rule matches, and a locality the identity may not claim', async () => {
    const node = (zone: string) => ({ node: { id: 'n', locality: { region: 'dc1', zone } }, cluster_stats: [] });
    const plaintext = open(grpc.credentials.createInsecure());
    const strangerClient = open(mtlsCredentials(pki.ca.certFile, stranger));
    const wrongZone = open(mtlsCredentials(pki.ca.certFile, cart));
    plaintext.send(node('a'));
    strangerClient.send(node('a'));
    wrongZone.send(node('b'));
    const codes = await Promise.all([plaintext, strangerClient, wrongZone].map(async (c) => (await c.ended).code));
    expect(codes).toEqual([grpc.status.UNAVAILABLE, grpc.status.PERMISSION_DENIED, grpc.status.PERMISSION_DENIED]);
    expect([plaintext, strangerClient, wrongZone].map((client) => client.responses.length)).toEqual([0, 0, 0]);
  });

  it('names only the services the identity may watch, and drops reports for the others', async () => {
    const client = open(mtlsCredentials(pki.ca.certFile, cart));
    client.send({ node: { id: 'cart-1', locality: zoneA }, cluster_stats: [] });
    const first = await waitFor(() => client.responses[0], { message: 'the LoadStatsResponse' });
    expect(first.clusters).toEqual(['cart.shop']);
    expect(first.load_reporting_interval.seconds).toBe('10');
    client.send({
      cluster_stats: [
        { cluster_name: 'admin.ops', upstream_locality_stats: [localityStats(zoneA, 50)] },
        { cluster_name: 'cart.shop', upstream_locality_stats: [localityStats(zoneA, 7)] },
      ],
    });
    const load = (service: string) => router.server.measuredLoad(service, 60) as MeasuredLoad;
    await waitFor(() => load('cart.shop').localities.length === 1, { message: 'the cart report' });
    expect(load('cart.shop').localities[0]).toMatchObject({ requests: 7, environment: 'onprem' });
    expect(load('admin.ops').localities).toEqual([]);
  });
});
