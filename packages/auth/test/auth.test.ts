import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRegistry, installProblemHandlers, registerOperationalRoutes } from '@spillway/observability';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAdminToken, registerAuth, sha256Hex, TokenAuthenticator } from '../src/index.js';

const TOKENS = {
  viewer: 'viewer-secret',
  operator: 'operator-secret',
  webhook: 'alertmanager-secret',
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(openReads: boolean): Promise<string> {
  app = Fastify();
  installProblemHandlers(app);
  registerAuth(app, {
    openReads,
    authenticator: new TokenAuthenticator(
      Object.entries(TOKENS).map(([role, token]) => ({
        name: `${role}-token`,
        role: role as 'viewer' | 'operator' | 'webhook',
        sha256: sha256Hex(token),
      })),
    ),
  });
  registerOperationalRoutes(app, { registry: createMetricsRegistry({ defaultMetrics: false }) });
  app.get('/v1/bursts', async () => ({ bursts: [] }));
  app.post('/v1/bursts', { config: { role: 'operator' } }, async (request) => ({ by: request.principal?.name }));
  app.post('/v1/alerts/alertmanager', { config: { role: 'webhook' } }, async () => ({ ok: true }));
  app.post('/v1/unguarded', async () => ({ ok: true }));
  return await app.listen({ host: '127.0.0.1', port: 0 });
}

interface Answer {
  status: number;
  type: string;
  body: { detail?: string; by?: string };
}

async function call(base: string, method: string, path: string, token?: string): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as Answer['body'],
  };
}

describe('bearer-token auth', () => {
  it('rejects mutations without a token (401) or without the role (403), as problem+json', async () => {
    const base = await serve(true);
    const anonymous = await call(base, 'POST', '/v1/bursts');
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toContain('application/problem+json');
    expect(anonymous.body.detail).toBe('this request needs a bearer token');
    expect((await call(base, 'POST', '/v1/bursts', 'guess')).body.detail).toBe('the bearer token is not known');
    const viewer = await call(base, 'POST', '/v1/bursts', TOKENS.viewer);
    expect(viewer.status).toBe(403);
    expect(viewer.body.detail).toBe('token "viewer-token" has role viewer; this request needs operator');
    expect(await call(base, 'POST', '/v1/bursts', TOKENS.operator)).toMatchObject({
      status: 200,
      body: { by: 'operator-token' },
    });
  });

  it('keeps the webhook credential to the webhook, and unguarded mutations to admins', async () => {
    const base = await serve(true);
    expect((await call(base, 'POST', '/v1/alerts/alertmanager', TOKENS.webhook)).status).toBe(200);
    expect((await call(base, 'POST', '/v1/bursts', TOKENS.webhook)).status).toBe(403);
    expect((await call(base, 'POST', '/v1/alerts/alertmanager', TOKENS.operator)).status).toBe(403);
    expect((await call(base, 'POST', '/v1/unguarded', TOKENS.operator)).status).toBe(403);
  });

  it('serves reads openly on loopback and only to viewers otherwise; probes stay open', async () => {
    const open = await serve(true);
    expect((await call(open, 'GET', '/v1/bursts')).status).toBe(200);
    await app?.close();
    const closed = await serve(false);
    expect((await call(closed, 'GET', '/v1/bursts')).status).toBe(401);
    expect((await call(closed, 'GET', '/v1/bursts', TOKENS.viewer)).status).toBe(200);
    expect((await fetch(`${closed}/healthz`)).status).toBe(200);
  });

  it('generates an admin token once, in a file only the user can read, and reuses it', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'spillway-auth-')), 'nested', 'admin-token');
    const first = await ensureAdminToken(file);
    expect(first.created).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.created);
    const second = await ensureAdminToken(file);
    expect(second.created).toBeUndefined();
    expect(second.entry.sha256).toBe(sha256Hex(first.created!));
    expect(new TokenAuthenticator([second.entry]).authenticate(`Bearer ${first.created}`)?.role).toBe('admin');
  });
});
