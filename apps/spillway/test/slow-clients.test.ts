import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { buildConfig } from '@spillway/config';
import { type Federation, startFederation } from '@spillway/federation';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { buildRouterHttpServer } from '@spillway/router';
import { createTestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { HttpsServing } from '@spillway/tls';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const OPERATOR = 'slow-clients-operator-token';
const auth = (app: FastifyInstance) =>
  registerAuth(app, {
    openReads: true,
    authenticator: new TokenAuthenticator([{ name: 'ops', role: 'operator', sha256: sha256Hex(OPERATOR) }]),
  });
const echo = (app: FastifyInstance) =>
  app.post('/v1/echo', { config: { role: 'operator' } }, async (request) => request.body);

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface SlowClient {
  /** What the server wrote before it closed the connection. */
  readonly response: string;
  readonly closedAfterMs: number;
}

/**
 * A raw client that sends `head` (request line and headers), then trickles the body a byte
 * every 100 ms (it promises 100 000 bytes), as a slowloris would; resolves when the server
 * closes the connection, or rejects at the deadline.
 */
async function trickle(server: Started, head: string, deadlineMs = 90_000): Promise<SlowClient> {
  const socket: Socket = server.tls
    ? connectTls({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false })
    : connect(server.port, '127.0.0.1');
  const started = Date.now();
  let response = '';
  let closedAt: number | undefined;
  socket.on('data', (chunk) => {
    response += chunk.toString();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closedAt = Date.now();
  });
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('x');
  }, 100);
  try {
    await waitFor(() => closedAt !== undefined, {
      timeoutMs: deadlineMs,
      intervalMs: 50,
      message: `the server to close a slow client (it answered: ${JSON.stringify(response.slice(0, 80))})`,
    });
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
  return { response, closedAfterMs: (closedAt ?? Date.now()) - started };
}

const post = (port: number, token?: string) =>
  `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n` +
  `${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`;

/** A server under test: its port, and whether it speaks TLS. */
interface Started {
  readonly port: number;
  readonly tls: boolean;
}

async function federation(https?: HttpsServing): Promise<Started> {
  const federation: Federation = await startFederation({
    config: buildConfig({}),
    logger: silentLogger(),
    sources: [],
    httpAddress: '127.0.0.1:0',
    hooks: [auth],
    routes: [echo],
    ...(https ? { https } : {}),
  });
  stops.push(() => federation.stop());
  return { port: Number(new URL(federation.url).port), tls: https !== undefined };
}

/** The federation over HTTPS: its server comes from HttpsServing's serverFactory, not Fastify. */
async function federationOverHttps(): Promise<Started> {
  const pki = createTestPki();
  stops.push(async () => pki.remove());
  return federation(new HttpsServing(pki.server('federation'), { name: 'http' }));
}

async function router(): Promise<Started> {
  const app = buildRouterHttpServer({
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    checks: [],
    clients: () => [],
    plugins: [auth, echo],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  stops.push(() => app.close());
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, tls: false };
}

/** Measured figures, printed at the end; the assertions use generous bounds. */
const measured: Record<string, number> = {};
afterAll(() => {
  console.info(`slow clients closed after (ms): ${JSON.stringify(measured, null, 1)}`);
});

describe.each([
  ['federation (spillway up, spillway federation)', () => federation()],
  ['federation over HTTPS (tls.http)', federationOverHttps],
  ['router (spillway router)', router],
])('slow clients on the %s HTTP server', { timeout: 120_000 }, (name, start) => {
  it('an unauthenticated request is refused before its body is read, and its connection closed', async () => {
    const server = await start();
    const client = await trickle(server, post(server.port));
    measured[`${name}: unauthenticated`] = client.closedAfterMs;
    expect(client.response).toMatch(/^HTTP\/1\.1 401 /);
    expect(client.closedAfterMs).toBeLessThan(5_000);
  });

  it('a body over the default limit (1 MiB) is a 413 problem, even with a token', async () => {
    const server = await start();
    const body = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
    const send = server.tls ? httpsRequest : httpRequest;
    const answer = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const outgoing = send(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/v1/echo',
          rejectUnauthorized: false,
          headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
        },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'] ?? '' });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    expect(answer.status).toBe(413);
    expect(answer.type).toContain('application/problem+json');
  });

  it('a slow body (authenticated) or slow headers are cut off by the request timeout', async () => {
    const server = await start();
    const [body, headers] = await Promise.all([
      trickle(server, post(server.port, OPERATOR)),
      trickle(server, `GET /v1/xds/clients HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: `),
    ]);
    measured[`${name}: slow body`] = body.closedAfterMs;
    measured[`${name}: slow headers`] = headers.closedAfterMs;
    expect(body.response).toMatch(/^HTTP\/1\.1 408 /);
    // The limit is 10 s, checked every second: 30 s is a bound a busy machine keeps.
    expect(body.closedAfterMs).toBeLessThan(30_000);
    expect(headers.closedAfterMs).toBeLessThan(30_000);
  });
});
