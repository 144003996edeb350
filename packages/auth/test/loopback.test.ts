import { request } from 'node:http';
import { createMetricsRegistry, installProblemHandlers, registerOperationalRoutes } from '@spillway/observability';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, registerAuth, resolvesToLoopback, sha256Hex, TokenAuthenticator } from '../src/index.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(openReads: boolean): Promise<number> {
  app = Fastify();
  installProblemHandlers(app);
  registerAuth(app, {
    openReads,
    authenticator: new TokenAuthenticator([{ name: 'viewer', role: 'viewer', sha256: sha256Hex('viewer-secret') }]),
  });
  registerOperationalRoutes(app, { registry: createMetricsRegistry({ defaultMetrics: false }) });
  app.get('/v1/services', async () => ({ services: ['secret.internal'] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** A GET to 127.0.0.1 with the Host header a browser would send for `host` (fetch may not set it). */
function getWithHost(port: number, path: string, host: string, token?: string) {
  return new Promise<{ status: number; type: string; body: string; connection: string }>((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        agent: false,
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: response.headers['content-type'] ?? '',
            body,
            connection: response.headers.connection ?? '',
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('DNS rebinding: open loopback reads answer loopback Host names only', () => {
  it('refuses a page that rebound its own name to 127.0.0.1 (421 problem+json), on every route', async () => {
    const port = await serve(true);
    for (const host of [`evil.example:${port}`, `127.evil:${port}`, `127.0.0.1.evil.example:${port}`, '0.0.0.0']) {
      for (const path of ['/v1/services', '/metrics']) {
        const answer = await getWithHost(port, path, host);
        expect(answer.status, `${host} ${path}`).toBe(421);
        expect(answer.type).toContain('application/problem+json');
        expect(answer.body).not.toContain('secret.internal');
        expect(answer.connection).toBe('close');
      }
    }
  });

  it('answers localhost, 127.x and [::1], with or without the port', async () => {
    const port = await serve(true);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`, 'localhost']) {
      const answer = await getWithHost(port, '/v1/services', host);
      expect(answer.status, host).toBe(200);
      expect(answer.body).toContain('secret.internal');
    }
  });

  it('does not look at Host when reads need a token (a proxy may use any name)', async () => {
    const port = await serve(false);
    expect((await getWithHost(port, '/v1/services', 'spillway.example.com', 'viewer-secret')).status).toBe(200);
    expect((await getWithHost(port, '/v1/services', 'spillway.example.com')).status).toBe(401);
  });
});

describe('loopback-ness of a listen address', () => {
  it('by text (Host headers): only loopback literals and localhost', () => {
    expect(['127.0.0.1', '127.9.9.9', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(
      ['0.0.0.0', '10.0.0.1', '::', 'example.com', '127.evil', '127.0.0.1.nip.io', '1270.0.0.1'].some(isLoopback),
    ).toBe(false);
  });

  it('by resolution (listen addresses): every address must be 127/8 or ::1', async () => {
    expect(await resolvesToLoopback('localhost')).toBe(true);
    expect(await resolvesToLoopback('127.0.0.1')).toBe(true);
    expect(await resolvesToLoopback('[::1]')).toBe(true);
    expect(await resolvesToLoopback('0.0.0.0')).toBe(false);
    expect(await resolvesToLoopback('::')).toBe(false);
    // A name that looks loopback but is not: does not resolve here, so it is not loopback.
    expect(await resolvesToLoopback('127.evil')).toBe(false);
  });
});
