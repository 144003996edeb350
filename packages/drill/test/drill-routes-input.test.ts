import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { installProblemHandlers, silentLogger } from '@spillway/observability';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillService } from '../src/drill-service.js';
import { registerDrillRoutes } from '../src/http/drill-routes.js';

const OPERATOR = 'operator-secret';
let app: FastifyInstance | undefined;
let started = 0;
afterEach(async () => {
  await app?.close();
  app = undefined;
  started = 0;
});

/** The drill routes on a real server; the world is never reached unless a drill is admitted. */
async function serve(): Promise<string> {
  app = Fastify();
  installProblemHandlers(app);
  registerAuth(app, {
    openReads: true,
    authenticator: new TokenAuthenticator([{ name: 'ops', role: 'operator', sha256: sha256Hex(OPERATOR) }]),
  });
  const drills = new DrillService({
    logger: silentLogger(),
    world: () => {
      started++;
      throw new Error('no world in this test');
    },
  });
  registerDrillRoutes(app, { drills });
  return await app.listen({ host: '127.0.0.1', port: 0 });
}

async function postDrill(base: string, body: string, type: string) {
  const response = await fetch(`${base}/v1/drills`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': type },
    body,
  });
  const problem = (await response.json()) as { detail?: string; problems?: string[] };
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: problem };
}

const drillYaml = (name: string) => `name: ${name}
target:
  service: cart.shop
  clients:
    - { region: dc1, zone: dc1-a }
durationSeconds: 10
timeline:
  - { atSeconds: 2, action: { kind: zone-down, zone: dc1-a } }
`;

describe('POST /v1/drills refuses input that could hurt whoever reads it back', () => {
  it('a terminal escape in the name (YAML "\\e") is a 400 naming the field, and no drill starts', async () => {
    const base = await serve();
    const answer = await postDrill(base, drillYaml('"owned \\e]0;title\\a"'), 'application/yaml');
    expect(answer.status).toBe(400);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body.detail).toMatch(/request body:1:7: name: must be printable text: a control character U\+001B/);
    expect(started).toBe(0);
  });

  it('a lone surrogate in a JSON zone name is a 400 naming timeline[0].action.zone', async () => {
    const base = await serve();
    const drill = {
      name: 'x',
      target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
      durationSeconds: 10,
      timeline: [{ atSeconds: 1, action: { kind: 'zone-down', zone: 'dc1-\ud800' } }],
    };
    // JSON.stringify writes the lone surrogate as \ud800, which JSON.parse gives back as is.
    const answer = await postDrill(base, JSON.stringify(drill), 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain('timeline[0].action.zone: must be printable text: a lone surrogate U+D800');
    expect(started).toBe(0);
  });

  it('a control character hidden in target.service or a client zone is refused too', async () => {
    const base = await serve();
    const text = drillYaml('x').replace('cart.shop', '"cart\\x9b.shop"').replace('zone: dc1-a }', 'zone: "dc1\\x1b" }');
    const answer = await postDrill(base, text, 'application/yaml');
    expect(answer.status).toBe(400);
    expect(answer.body.problems).toEqual([
      expect.stringMatching(/target\.service: must be printable text/),
      expect.stringMatching(/target\.clients\[0\]\.zone: must be printable text/),
    ]);
  });
});

describe('POST /v1/drills with hostile YAML', () => {
  it('an alias bomb is a 400 problem located at the first alias, not a 500', async () => {
    const base = await serve();
    const lines = ['lol0: &lol0 "lol"'];
    for (let level = 1; level <= 9; level++) {
      lines.push(
        `lol${level}: &lol${level} [${Array(9)
          .fill(`*lol${level - 1}`)
          .join(', ')}]`,
      );
    }
    const answer = await postDrill(base, lines.join('\n'), 'application/yaml');
    expect(answer.status).toBe(400);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.body.problems).toEqual([expect.stringMatching(/^request body:2:14: too many alias expansions/)]);
    expect(started).toBe(0);
  });

  it('deeply nested flow YAML is a 400 found before parsing', async () => {
    const base = await serve();
    const answer = await postDrill(base, `name: ${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'application/yaml');
    expect(answer.status).toBe(400);
    expect(answer.body.problems).toEqual(['request body:1:71: YAML nested deeper than 64 levels']);
  });

  it('a body over the limit is a 413 problem, YAML or JSON', async () => {
    const base = await serve();
    const big = `name: x\n${'# padding\n'.repeat(30_000)}`;
    for (const [body, type] of [
      [big, 'application/yaml'],
      [JSON.stringify({ name: 'x'.repeat(300 * 1024) }), 'application/json'],
    ] as const) {
      const answer = await postDrill(base, body, type);
      expect(answer.status).toBe(413);
      expect(answer.type).toContain('application/problem+json');
    }
  });
});
