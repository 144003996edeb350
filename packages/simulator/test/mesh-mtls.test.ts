import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { askIdentity } from '../src/identity-server.js';
import type { MeshPki } from '../src/mesh-pki.js';
import { simIdentity } from '../src/mesh-pki.js';
import { startFleet } from './support/fleet.js';

/** A fleet with mesh mTLS: every endpoint a TLS server with its service's SPIFFE identity. */
function probeCredentials(pki: MeshPki, expectedIdentity: string): grpc.ChannelCredentials {
  const files = pki.probeFiles;
  return grpc.credentials.createSsl(
    readFileSync(files.caFile),
    readFileSync(files.keyFile),
    readFileSync(files.certFile),
    {
      checkServerIdentity: (_host, certificate) =>
        certificate.subjectaltname === `URI:${expectedIdentity}` ? undefined : new Error(`not ${expectedIdentity}`),
    },
  );
}

describe('simulated fleet with mesh mTLS', () => {
  it('serves mTLS with each service identity, refuses plaintext, and a wrong trust bundle refuses the mesh', async () => {
    const fleet = await startFleet(defaultScenario(), { mtls: true });
    const pki = fleet.pki;
    if (!pki) throw new Error('expected a PKI');
    const endpoints = fleet.status().endpoints.filter((endpoint) => endpoint.service === 'search.catalog');
    const ask = (endpoint: (typeof endpoints)[number]) =>
      askIdentity(endpoint.address, endpoint.port, 3_000, probeCredentials(pki, simIdentity('search.catalog')));
    for (const endpoint of endpoints) expect(await ask(endpoint)).toBe(endpoint.identity);
    const [first] = endpoints;
    if (!first) throw new Error('no search endpoint');
    await expect(askIdentity(first.address, first.port, 2_000)).rejects.toThrow();

    fleet.inject({ kind: 'wrong-trust-bundle', region: 'us-east-1' });
    const cloud = fleet
      .status()
      .endpoints.filter((endpoint) => endpoint.service === 'search.catalog' && endpoint.environment === 'cloud');
    const onprem = endpoints.filter((endpoint) => endpoint.environment === 'onprem');
    expect(cloud.length).toBeGreaterThan(0);
    await waitFor(
      async () => {
        const answers = await Promise.allSettled(cloud.map(ask));
        return answers.every((answer) => answer.status === 'rejected');
      },
      { message: 'the cloud endpoints refuse the mesh client' },
    );
    for (const endpoint of onprem) expect(await ask(endpoint)).toBe(endpoint.identity);

    fleet.recover({ kind: 'wrong-trust-bundle', region: 'us-east-1' });
    await waitFor(
      async () => (await Promise.allSettled(cloud.map(ask))).every((answer) => answer.status === 'fulfilled'),
      {
        message: 'the cloud endpoints serve the mesh again',
      },
    );
  });

  it('refuses the fault on a fleet without mesh mTLS', async () => {
    const fleet = await startFleet(defaultScenario());
    expect(() => fleet.inject({ kind: 'wrong-trust-bundle', region: 'us-east-1' })).toThrow(
      /needs a fleet with mesh mTLS/,
    );
  });
});
