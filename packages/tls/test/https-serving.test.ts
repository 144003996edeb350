import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientTlsAgent, HttpsServing, readKeyPair } from '../src/index.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An HTTPS server from `HttpsServing` answering "ok" (what Fastify gets through `serverFactory`). */
async function serve(
  files: { certFile: string; keyFile: string; clientCaFile?: string },
  onServing: (serving: HttpsServing) => void = () => undefined,
): Promise<number> {
  const serving = new HttpsServing(files, { name: 'http', pollIntervalMs: 50 });
  onServing(serving);
  const server: Server = serving.serverFactory((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** The certificate a new TLS connection is served, as its SHA-256 fingerprint. */
async function servedFingerprint(port: number, client: { certFile?: string; keyFile?: string } = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.ca.certFile),
      ...(client.certFile ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile!) } : {}),
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** GET / over HTTPS with the test CA (and a client certificate when given): the body, or the error. */
async function httpsBody(port: number, agent: ClientTlsAgent): Promise<string> {
  return await new Promise((resolve, reject) => {
    const request = httpsGet({ host: '127.0.0.1', port, path: '/', agent: agent.current() }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve(body));
    });
    request.once('error', reject);
  });
}

function clientAgent(files: { caFile?: string; certFile?: string; keyFile?: string }): ClientTlsAgent {
  const agent = new ClientTlsAgent(files, { name: 'client' });
  cleanups.push(() => agent.close());
  return agent;
}

describe('HttpsServing', () => {
  it('serves HTTPS only: plain HTTP to the port gets no HTTP answer', async () => {
    const port = await serve(pki.server('https-only'));
    expect(await httpsBody(port, clientAgent({ caFile: pki.ca.certFile }))).toBe('ok');
    const plain = await new Promise<string>((resolve) => {
      const request = httpRequest({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (response) =>
        resolve(`answered ${response.statusCode}`),
      );
      request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      request.once('timeout', () => request.destroy(new Error('timeout')));
      request.end();
    });
    expect(plain).not.toMatch(/^answered/);
  });

  it('serves a replaced certificate to new connections and keeps the old one when the new file is broken', async () => {
    const first = pki.server('live-1');
    const files = { certFile: join(pki.dir, 'live.crt'), keyFile: join(pki.dir, 'live.key') };
    copyFileSync(first.certFile, files.certFile);
    copyFileSync(first.keyFile, files.keyFile);
    let brokenSeen = 0;
    const port = await serve(files, (serving) => serving.keyPair.onError(() => brokenSeen++));
    expect(await servedFingerprint(port)).toBe(readKeyPair(first).fingerprint256);

    const second = pki.server('live-2');
    for (const [source, target] of [
      [second.keyFile, files.keyFile],
      [second.certFile, files.certFile],
    ] as const) {
      copyFileSync(source, `${target}.tmp`);
      renameSync(`${target}.tmp`, target);
    }
    const rotated = readKeyPair(second).fingerprint256;
    await waitFor(async () => (await servedFingerprint(port)) === rotated, { timeoutMs: 10_000 });

    const before = brokenSeen;
    writeFileSync(files.certFile, '-----BEGIN CERTIFICATE-----\ntruncated');
    await waitFor(() => brokenSeen > before, { timeoutMs: 10_000 });
    expect(await servedFingerprint(port)).toBe(rotated);
  });

  it('with clientCaFile, refuses clients without a certificate or with one from another CA', async () => {
    const port = await serve({ ...pki.server('mtls'), clientCaFile: pki.ca.certFile });
    const good = pki.ca.issue('api-client', { commonName: 'ops' });
    const stranger = pki.otherCa.issue('stranger');

    expect(await httpsBody(port, clientAgent({ caFile: pki.ca.certFile, ...good }))).toBe('ok');
    await expect(httpsBody(port, clientAgent({ caFile: pki.ca.certFile }))).rejects.toThrow();
    await expect(httpsBody(port, clientAgent({ caFile: pki.ca.certFile, ...stranger }))).rejects.toThrow();
  });

  it('a client without the CA refuses the server (no silent trust)', async () => {
    const port = await serve(pki.server('untrusted'));
    await expect(httpsBody(port, clientAgent({ caFile: pki.otherCa.certFile }))).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});
