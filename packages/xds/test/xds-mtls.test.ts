import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Registry } from '@spillway/observability';
import { type CertFiles, createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  type DiscoveryResponseMessage,
  envoyProtos,
  LISTENER_TYPE_URL,
  type XdsTlsOptions,
} from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint } from './support/in-memory-catalog.js';
import { mtlsCredentials, servedFingerprint } from './support/mtls.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

const zoneA = { region: 'dc1', zone: 'a' };
const nodeIn = (zone: string) => ({
  id: `node-${zone}`,
  cluster: 'test',
  locality: { region: 'dc1', zone, sub_zone: '' },
});

let pki: TestPki;
let cart: CertFiles;
let admin: CertFiles;
let stranger: CertFiles;
let foreign: CertFiles;
beforeAll(() => {
  pki = createTestPki();
  cart = pki.ca.issue('cart', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
  admin = pki.ca.issue('admin', { commonName: 'ops-admin' });
  stranger = pki.ca.issue('stranger', { uris: ['spiffe://lab/ns/evil/sa/x'] });
  foreign = pki.otherCa.issue('foreign', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
});
afterAll(() => pki.remove());

let router: TestXdsServer | undefined;
const clients: { close(): void }[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await router?.server.stop();
  router = undefined;
});

/** Certificate and key at fixed paths a test can rotate, starting as a fresh server certificate. */
function liveServerFiles(name: string): XdsTlsOptions & { pollIntervalMs: number } {
  const first = pki.server(`${name}-1`);
  const files = { certFile: join(pki.dir, `${name}.crt`), keyFile: join(pki.dir, `${name}.key`) };
  copyFileSync(first.certFile, files.certFile);
  copyFileSync(first.keyFile, files.keyFile);
  return { ...files, clientCaFile: pki.ca.certFile, pollIntervalMs: 50 };
}

/** Replaces a file the way secret mounts do: write beside it, then rename over it. */
function replace(target: string, content: Buffer | string): void {
  writeFileSync(`${target}.tmp`, content);
  renameSync(`${target}.tmp`, target);
}

async function startRouter(options: Parameters<typeof startTestXdsServer>[0] = {}): Promise<TestXdsServer> {
  router = await startTestXdsServer({ tls: liveServerFiles('xds'), ...options });
  for (const name of ['cart', 'pay']) {
    router.catalog.setService({ name, namespace: 'shop', endpoints: [endpoint('10.0.0.1', 8080, zoneA)] });
  }
  router.catalog.setService({ name: 'admin', namespace: 'ops', endpoints: [endpoint('10.0.9.1', 8080, zoneA)] });
  return router;
}

function sotw(port: number, credentials: grpc.ChannelCredentials) {
  const client = AdsTestClient.sotw(port, credentials);
  clients.push(client);
  return client;
}

function delta(port: number, credentials: grpc.ChannelCredentials) {
  const client = AdsTestClient.delta(port, credentials);
  clients.push(client);
  return client;
}

function clusterNames(response: DiscoveryResponseMessage): string[] {
  const protos = envoyProtos();
  return response.resources.map((any) =>
    any.type_url === CLUSTER_TYPE_URL
      ? (protos.Cluster.decode(any.value).toJSON().name as string)
      : (protos.ClusterLoadAssignment.decode(any.value).toJSON().cluster_name as string),
  );
}

async function metric(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((row) => row.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('xDS over mutual TLS', () => {
  it('serves a client with a certificate from the client CA and shows its SPIFFE identity', async () => {
    const { port, server } = await startRouter();
    const client = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    client.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    expect(clusterNames(await client.next()).sort()).toEqual(['admin.ops', 'cart.shop', 'pay.shop']);
    expect(server.clients().map((info) => info.identity)).toEqual(['spiffe://lab/ns/shop/sa/cart']);

    const byName = sotw(port, mtlsCredentials(pki.ca.certFile, admin));
    byName.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    await byName.next();
    expect(
      server
        .clients()
        .map((info) => info.identity)
        .sort(),
    ).toEqual(['ops-admin', 'spiffe://lab/ns/shop/sa/cart']);
  });

  it('refuses plaintext, a client without a certificate, and one from another CA', async () => {
    const { port, server } = await startRouter();
    const refused = [
      sotw(port, grpc.credentials.createInsecure()),
      sotw(port, mtlsCredentials(pki.ca.certFile)),
      sotw(port, mtlsCredentials(pki.ca.certFile, foreign)),
    ];
    for (const client of refused) client.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    const statuses = await Promise.all(refused.map((client) => client.ended));
    expect(statuses.map((status) => status.code)).toEqual([
      grpc.status.UNAVAILABLE,
      grpc.status.UNAVAILABLE,
      grpc.status.UNAVAILABLE,
    ]);
    expect(refused.map((client) => client.queued)).toEqual([0, 0, 0]);
    expect(server.clients()).toEqual([]);
  });

  it('rotates its certificate: open streams stay up, new handshakes see the new one, a broken file keeps it', async () => {
    const tls = liveServerFiles('rotating');
    const { port, catalog, registry } = await startRouter({ tls });
    const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    const before = await servedFingerprint(port, pki.ca.certFile, cart);
    expect(before).toBe(fingerprintOf(tls.certFile));
    const open = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    open.send({ node: nodeIn('a'), type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, resource_names: ['cart.shop'] });
    const first = await open.next();
    open.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['cart.shop'],
      response_nonce: first.nonce,
      version_info: first.version_info,
    });

    const next = pki.server('rotating-2');
    replace(tls.keyFile, readFileSync(next.keyFile));
    replace(tls.certFile, readFileSync(next.certFile));
    const after = fingerprintOf(next.certFile);
    await waitFor(async () => (await servedFingerprint(port, pki.ca.certFile, cart)) === after, {
      message: 'a new handshake to see the rotated certificate',
    });
    expect(await metric(registry, 'spillway_tls_reloads_total', 'listener="xds"')).toBeGreaterThanOrEqual(1);

    // The stream opened before the rotation still carries updates.
    catalog.setService({ name: 'cart', namespace: 'shop', endpoints: [endpoint('10.0.0.2', 8080, zoneA)] });
    expect(clusterNames(await open.next())).toEqual(['cart.shop']);

    replace(tls.certFile, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    await waitFor(async () => (await metric(registry, 'spillway_tls_reload_errors_total', 'listener="xds"')) === 1, {
      message: 'the broken certificate file to be reported',
    });
    expect(await servedFingerprint(port, pki.ca.certFile, cart)).toBe(after);
    const fresh = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    fresh.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: ['cart.shop'] });
    expect(clusterNames(await fresh.next())).toEqual(['cart.shop']);
  });
});

describe('xDS authorization rules', () => {
  const rules = [
    { identity: 'spiffe://lab/ns/shop/sa/*', localities: [{ region: 'dc1', zone: 'a' }], services: ['*.shop'] },
    { identity: 'ops-admin' },
  ];

  it('refuses a node claiming a zone its identity may not claim (PERMISSION_DENIED), and an unknown identity', async () => {
    const { port, registry, server } = await startRouter({ authorization: rules });
    const zoneB = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    zoneB.send({ node: nodeIn('b'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    const unknown = sotw(port, mtlsCredentials(pki.ca.certFile, stranger));
    unknown.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    const [claim, identity] = await Promise.all([zoneB.ended, unknown.ended]);
    expect(claim.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(claim.details).toContain('may not claim locality dc1/b');
    expect(identity.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(zoneB.queued + unknown.queued).toBe(0);
    expect(await metric(registry, 'spillway_xds_authorization_denials_total', 'kind="locality"')).toBe(1);
    expect(await metric(registry, 'spillway_xds_authorization_denials_total', 'kind="identity"')).toBe(1);

    const zoneA = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    zoneA.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: ['cart.shop'] });
    expect(clusterNames(await zoneA.next())).toEqual(['cart.shop']);
    const unrestricted = sotw(port, mtlsCredentials(pki.ca.certFile, admin));
    unrestricted.send({ node: nodeIn('b'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    expect(clusterNames(await unrestricted.next()).sort()).toEqual(['admin.ops', 'cart.shop', 'pay.shop']);
    expect(server.clients()).toHaveLength(2);
  });

  it('never sends a restricted client the services it may not watch, and counts the denial', async () => {
    const { port, registry, catalog } = await startRouter({ authorization: rules });
    const client = sotw(port, mtlsCredentials(pki.ca.certFile, cart));
    client.send({ node: nodeIn('a'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
    expect(clusterNames(await client.next()).sort()).toEqual(['cart.shop', 'pay.shop']);
    client.send({
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['admin.ops', 'cart.shop'],
    });
    const assignments = await client.next();
    expect(clusterNames(assignments)).toEqual(['cart.shop']);
    expect(assignments.resources.map((any) => Buffer.from(any.value).toString('latin1')).join('')).not.toContain(
      '10.0.9.1',
    );

    // A change to the denied service reaches nobody on this stream; the allowed one still does.
    catalog.setService({ name: 'admin', namespace: 'ops', endpoints: [endpoint('10.0.9.2', 8080, zoneA)] });
    catalog.setService({ name: 'cart', namespace: 'shop', endpoints: [endpoint('10.0.0.3', 8080, zoneA)] });
    const responses: DiscoveryResponseMessage[] = [];
    await waitFor(async () => {
      const response = await client.next();
      responses.push(response);
      return response.type_url === CLUSTER_LOAD_ASSIGNMENT_TYPE_URL && clusterNames(response).includes('cart.shop');
    });
    expect(responses.flatMap(clusterNames)).not.toContain('admin.ops');
    expect(await metric(registry, 'spillway_xds_authorization_denials_total', 'kind="service"')).toBe(1);

    const deltaClient = delta(port, mtlsCredentials(pki.ca.certFile, cart));
    deltaClient.send({
      node: nodeIn('a'),
      type_url: CLUSTER_TYPE_URL,
      resource_names_subscribe: ['admin.ops', 'pay.shop'],
    });
    const answer = await deltaClient.next();
    expect(answer.resources.map((resource) => resource.name)).toEqual(['pay.shop']);
    expect(answer.removed_resources).toEqual(['admin.ops']);

    // The rules govern services: the Listener a gRPC server asks for by its own address passes.
    const serverListener = 'grpc/server?xds.resource.listening_address=10.0.0.3:8080';
    deltaClient.send({ type_url: LISTENER_TYPE_URL, resource_names_subscribe: [serverListener] });
    expect((await deltaClient.next()).resources.map((resource) => resource.name)).toEqual([serverListener]);
  });
});
