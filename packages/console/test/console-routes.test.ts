import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { installProblemHandlers } from '@spillway/observability';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsoleAsset, registerConsole } from '../src/index.js';

const VIEWER = 'viewer-secret';
const ASSETS = new Map<string, ConsoleAsset>([
  ['app.js', { contentType: 'text/javascript; charset=utf-8', body: 'console.log(1)', etag: '"abc"' }],
]);

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(options: { openReads: boolean; assets?: ReadonlyMap<string, ConsoleAsset> }): FastifyInstance {
  app = Fastify();
  installProblemHandlers(app);
  registerAuth(app, {
    openReads: options.openReads,
    authenticator: new TokenAuthenticator([{ name: 'viewer', role: 'viewer', sha256: sha256Hex(VIEWER) }]),
  });
  app.get('/v1/bursts', async () => ({ bursts: [] }));
  registerConsole(app, { pages: ['bursts', 'drills'], ...(options.assets ? { assets: options.assets } : {}) });
  return app;
}

describe('the console routes', () => {
  it('serve the page and its files to anyone, while the data behind them still needs a token', async () => {
    const server = serve({ openReads: false, assets: ASSETS });
    const page = await server.inject({ url: '/ui', headers: { host: 'spillway.example' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('data-pages="bursts drills"');
    // No inline script or style anywhere, so the policy can forbid both.
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.body).not.toMatch(/<script>|<style|style="/);
    expect((await server.inject({ url: '/v1/bursts' })).statusCode).toBe(401);
    const withToken = await server.inject({ url: '/v1/bursts', headers: { authorization: `Bearer ${VIEWER}` } });
    expect(withToken.statusCode).toBe(200);

    const script = await server.inject({ url: '/ui/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect((await server.inject({ url: '/ui/assets/app.js', headers: { 'if-none-match': '"abc"' } })).statusCode).toBe(
      304,
    );
    // A file the build did not make is not served.
    const missing = await server.inject({ url: '/ui/assets/app.css' });
    expect(missing.statusCode).toBe(503);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    // Only the files the console has are open: any other path under /ui is not.
    expect((await server.inject({ url: '/ui/assets/other.js' })).statusCode).toBe(401);
    // Open means readable, not writable: a mutation on the console's paths is still an admin's.
    expect((await server.inject({ method: 'POST', url: '/ui' })).statusCode).toBe(401);
  });

  it('keep the loopback Host check where reads are open (DNS rebinding)', async () => {
    const server = serve({ openReads: true, assets: ASSETS });
    expect((await server.inject({ url: '/ui', headers: { host: '127.0.0.1:7070' } })).statusCode).toBe(200);
    expect((await server.inject({ url: '/ui', headers: { host: 'evil.example' } })).statusCode).toBe(421);
  });

  it('say so when run from sources, where the build has not put the console in', async () => {
    const server = serve({ openReads: true });
    const page = await server.inject({ url: '/ui' });
    expect(page.statusCode).toBe(503);
    expect(page.json().detail).toMatch(/npm run build/);
  });
});
