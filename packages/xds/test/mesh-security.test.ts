import { copyFileSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import type { MeshSecurity } from '@spillway/model';
import { freePort } from '@spillway/test/support/free-port';
import { type CertFiles, createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint, InMemoryCatalog } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

// grpc-js-xds reads this when it loads; mesh-peers loads it.
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
const { anonymousTlsClient, askWho, callStatus, meshClient, plaintextClient, startMeshServer } = await import(
  './support/mesh-peers.js'
);
type MeshServer = Awaited<ReturnType<typeof startMeshServer>>;

/**
 * Service-to-service mTLS published by the router, with grpc-js-xds on both ends: servers take
 * their TLS and RBAC from the Listener the router publishes for their address, clients take the
 * server identity to check from the Cluster. Certificates are made at test time.
 */
const ONPREM = { region: 'dc1', zone: 'a' };
const CLOUD = { region: 'us-east-1', zone: 'us-east-1a' };
const id = (sa: string, ns = 'demo') => `spiffe://lab/ns/${ns}/sa/${sa}`;

const security: MeshSecurity = {
  trustDomain: 'lab',
  certificateProvider: 'default',
  trustBundleSecret: 'ROOTCA',
  sdsCluster: 'sds-grpc',
  services: [
    { service: 'echo.demo', mtls: 'STRICT', identity: id('echo'), allowedCallers: [id('frontend'), id('*', 'ops')] },
    { service: 'lenient.demo', mtls: 'PERMISSIVE', identity: id('lenient'), allowedCallers: [id('frontend')] },
    { service: 'impostor.demo', mtls: 'STRICT', identity: id('impostor'), allowedCallers: [] },
    { service: 'plain.demo', mtls: 'DISABLE', allowedCallers: [] },
  ],
};

describe('mesh mTLS through xDS (grpc-js-xds clients and xDS-enabled servers)', () => {
  let pki: TestPki;
  let router: TestXdsServer;
  const catalog = new InMemoryCatalog();
  const servers: MeshServer[] = [];
  const clients: grpc.Client[] = [];
  const portOf = (name: string) => servers.find((server) => server.name === name)?.port ?? 0;
  const direct = (made: grpc.Client) => {
    clients.push(made);
    return made;
  };
  let certs: Record<'echo' | 'lenient' | 'liar' | 'frontend' | 'opsTool' | 'intruder', CertFiles>;

  const peer = (nodeId: string, certificate?: CertFiles, locality = ONPREM) => ({
    xdsPort: router.port,
    nodeId,
    locality,
    caFile: pki.ca.certFile,
    ...(certificate ? { certificate } : {}),
  });
  const client = (target: string, nodeId: string, certificate?: CertFiles) => {
    const made = meshClient(target, peer(nodeId, certificate));
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    pki = createTestPki();
    certs = {
      echo: pki.ca.issue('echo', { uris: [id('echo')] }),
      lenient: pki.ca.issue('lenient', { uris: [id('lenient')] }),
      liar: pki.ca.issue('liar', { uris: [id('echo')] }),
      frontend: pki.ca.issue('frontend', { uris: [id('frontend')] }),
      opsTool: pki.ca.issue('ops-tool', { uris: [id('tool', 'ops')] }),
      intruder: pki.ca.issue('intruder', { uris: [id('intruder', 'other')] }),
    };
    router = await startTestXdsServer({ catalog, security });
    // Servers learn their Listener only for an address the catalog knows: publish first, then bind.
    const ports = {
      onprem: await freePort(),
      cloud: await freePort(),
      lenient: await freePort(),
      liar: await freePort(),
    };
    const plainPort = await freePort();
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: [endpoint('127.0.0.1', ports.onprem, ONPREM), endpoint('127.0.0.1', ports.cloud, CLOUD)],
    });
    catalog.setService({
      name: 'lenient',
      namespace: 'demo',
      endpoints: [endpoint('127.0.0.1', ports.lenient, ONPREM)],
    });
    catalog.setService({ name: 'impostor', namespace: 'demo', endpoints: [endpoint('127.0.0.1', ports.liar, ONPREM)] });
    catalog.setService({ name: 'plain', namespace: 'demo', endpoints: [endpoint('127.0.0.1', plainPort, ONPREM)] });
    const start = async (name: string, port: number, cert: CertFiles | undefined, locality = ONPREM) => {
      const server = await startMeshServer(name, port, peer(`server-${name}`, cert, locality));
      servers.push(server);
    };
    await start('echo-onprem', ports.onprem, certs.echo);
    await start('echo-cloud', ports.cloud, certs.echo, CLOUD);
    await start('lenient', ports.lenient, certs.lenient);
    // Presents a valid certificate from the right CA, for the wrong identity.
    await start('liar', ports.liar, certs.liar);
    await start('plain', plainPort, undefined);
  }, 90_000);

  afterAll(async () => {
    for (const made of clients) made.close();
    await Promise.all(servers.map((server) => server.stop()));
    await router?.server.stop();
    pki?.remove();
  });

  it('STRICT: an allowed caller is served, and the server sees its SPIFFE ID', async () => {
    const frontend = client('echo.demo', 'frontend', certs.frontend);
    const answer = await waitFor(() => askWho(frontend), { timeoutMs: 30_000, message: 'a STRICT call' });
    expect(answer.server).toBe('echo-onprem');
    expect(answer.caller).toBe(id('frontend'));
    const tool = client('echo.demo', 'ops-tool', certs.opsTool);
    expect((await waitFor(() => askWho(tool), { timeoutMs: 30_000 })).caller).toBe(id('tool', 'ops'));
  });

  it('STRICT: a caller outside allowedCallers is denied by RBAC (PERMISSION_DENIED)', async () => {
    const intruder = client('echo.demo', 'intruder', certs.intruder);
    const status = await waitFor(
      async () => {
        const code = await callStatus(intruder);
        return code === 7 ? code : undefined; // PERMISSION_DENIED: the handshake passed, RBAC said no
      },
      { timeoutMs: 30_000, message: 'PERMISSION_DENIED for the intruder' },
    );
    expect(status).toBe(7);
  });

  it('STRICT: a plaintext client and a TLS client without a certificate are refused', async () => {
    expect(await callStatus(direct(plaintextClient(portOf('echo-onprem'))))).toBe(14); // UNAVAILABLE
    const anonymous = direct(anonymousTlsClient(portOf('echo-onprem'), pki.ca.certFile, id('echo')));
    expect(await callStatus(anonymous)).toBe(14); // the server asks for a certificate and gets none
  });

  it('refuses a server that presents another identity, even with a certificate from the right CA', async () => {
    const frontend = client('impostor.demo', 'frontend-2', certs.frontend);
    // Give the client time to learn the Cluster, then every attempt must fail.
    await waitFor(async () => (await callStatus(frontend, 3_000)) === 14, { timeoutMs: 30_000 });
    for (let i = 0; i < 5; i++) expect(await callStatus(frontend, 3_000)).toBe(14);
  });

  it('PERMISSIVE: serves a TLS caller without a certificate, still denies a caller outside allowedCallers', async () => {
    const anonymous = direct(anonymousTlsClient(portOf('lenient'), pki.ca.certFile, id('lenient')));
    const answer = await waitFor(() => askWho(anonymous), {
      timeoutMs: 30_000,
      message: 'an anonymous PERMISSIVE call',
    });
    expect(answer).toMatchObject({ server: 'lenient', caller: '-' });
    const frontend = client('lenient.demo', 'frontend-3', certs.frontend);
    expect((await waitFor(() => askWho(frontend), { timeoutMs: 30_000 })).caller).toBe(id('frontend'));
    const intruder = client('lenient.demo', 'intruder-2', certs.intruder);
    await waitFor(async () => (await callStatus(intruder)) === 7, {
      timeoutMs: 30_000,
      message: 'RBAC under PERMISSIVE',
    });
  });

  it('DISABLE: a plaintext client is served', async () => {
    const plain = direct(plaintextClient(portOf('plain')));
    expect((await waitFor(() => askWho(plain), { timeoutMs: 30_000 })).server).toBe('plain');
  });

  it('keeps identity checks on cloud endpoints during a burst', async () => {
    await router.policies.set({
      service: 'echo.demo',
      cloudShare: 1,
      reason: 'test',
      updatedAt: new Date().toISOString(),
    });
    const frontend = client('echo.demo', 'frontend-burst', certs.frontend);
    const answer = await waitFor(
      async () => {
        const who = await askWho(frontend);
        return who.server === 'echo-cloud' ? who : undefined;
      },
      { timeoutMs: 30_000, message: 'a call answered in the cloud' },
    );
    expect(answer.caller).toBe(id('frontend'));
    const intruder = client('echo.demo', 'intruder-burst', certs.intruder);
    await waitFor(async () => (await callStatus(intruder)) === 7, { timeoutMs: 30_000, message: 'RBAC in the cloud' });
    await router.policies.set({
      service: 'echo.demo',
      cloudShare: 0,
      reason: 'test',
      updatedAt: new Date().toISOString(),
    });
  });

  it('rotation: new certificate files on disk are used by new handshakes, with no failed call', async () => {
    const frontend = client('echo.demo', 'frontend-rotation', certs.frontend);
    const before = await waitFor(() => askWho(frontend), { timeoutMs: 30_000 });
    const rotated = pki.ca.issue('frontend-next', { uris: [id('frontend')] });
    let failures = 0;
    let calls = 0;
    const load = (async () => {
      for (; calls < 200; calls++) await askWho(frontend).catch(() => failures++);
    })();
    copyFileSync(rotated.certFile, certs.frontend.certFile);
    copyFileSync(rotated.keyFile, certs.frontend.keyFile);
    await load;
    expect(failures).toBe(0);
    const fresh = client('echo.demo', 'frontend-rotation-2', certs.frontend);
    const after = await waitFor(
      async () => {
        const who = await askWho(fresh);
        return who.serial !== before.serial ? who : undefined;
      },
      { timeoutMs: 30_000, message: 'a new handshake with the rotated certificate' },
    );
    expect(after.caller).toBe(id('frontend'));
  });
});
