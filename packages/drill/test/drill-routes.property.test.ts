import { registerAuth, sha256Hex, TokenAuthenticator } from '@spillway/auth';
import { installProblemHandlers, silentLogger } from '@spillway/observability';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillService } from '../src/drill-service.js';
import { registerDrillRoutes } from '../src/http/drill-routes.js';

/**
 * The drill routes with ≥1,000 generated requests each (fast-check, fixed seed), through
 * fastify.inject (the same routes, auth hook and parsers as a server; no socket, for speed):
 * never a 5xx, and a refused request leaves the drills as they were. This process has no world
 * to run a drill in (as `spillway router` has no simulated fleet), so even a valid drill is a
 * refusal (422) here: nothing may start.
 */
const SEED = 20_261_204;
const RUNS = 1_000;
const OPERATOR = 'operator-token-123';

let app: FastifyInstance;
let drills: DrillService;

beforeAll(async () => {
  drills = new DrillService({
    logger: silentLogger(),
    world: (mode) => {
      throw new Error(`no ${mode} world in this process`);
    },
  });
  app = Fastify({ bodyLimit: 1024 * 1024 });
  installProblemHandlers(app);
  registerAuth(app, {
    openReads: true,
    authenticator: new TokenAuthenticator([{ name: 'ops', role: 'operator', sha256: sha256Hex(OPERATOR) }]),
  });
  registerDrillRoutes(app, { drills });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

const snapshot = () => JSON.stringify(drills.page({ limit: 100 }));

async function check(request: {
  method: 'GET' | 'POST';
  url: string;
  payload?: string;
  contentType?: string;
  token?: string | undefined;
}): Promise<void> {
  const before = snapshot();
  const response = await app.inject({
    method: request.method,
    url: request.url,
    headers: {
      ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
      ...(request.payload !== undefined ? { 'content-type': request.contentType ?? 'application/json' } : {}),
    },
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
  });
  expect(response.statusCode, `${request.method} ${request.url} ${request.payload?.slice(0, 200) ?? ''}`).toBeLessThan(
    500,
  );
  if (response.statusCode >= 400) expect(snapshot()).toBe(before);
}

const strings = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'echo.demo', 'a', '\ud800'));
const anyJson = fc.oneof(
  fc.jsonValue(),
  strings,
  fc.double(),
  fc.constantFrom(5e-324, -1, 0, 1e308, 2 ** 53 + 1, null, true),
);

const validDrill = {
  name: 'zone down',
  mode: 'live',
  target: { service: 'echo.demo', clients: [{ region: 'dc1', zone: 'a' }] },
  durationSeconds: 10,
  timeline: [{ atSeconds: 1, action: { kind: 'drain', zone: 'a' } }],
  expect: { failoverWithinSeconds: 5 },
};

function mutations(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    fc.record({ key: strings, value: anyJson }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc
      .record({ key: fc.constantFrom('atSeconds', 'action', 'forSeconds'), value: anyJson })
      .map(({ key, value }) => ({ ...valid, timeline: [{ ...validDrill.timeline[0], [key]: value }] })),
    fc.constant(valid),
  );
}

const yamlTexts = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    ':',
    '- - - -',
    'name: [',
    'name: x\nmode: live\ntarget: { service: cart }\n',
    'a: &a [1, 2]\nb: *a\nc: *a\n',
    '!!binary "AAAA"',
    'name: !!js/function "function () {}"',
    `${'- '.repeat(500)}x`,
  ),
  mutations(validDrill).map((value) => JSON.stringify(value) ?? ''),
);

const bodies = fc.oneof(
  { weight: 6, arbitrary: mutations(validDrill).map((value) => ({ payload: JSON.stringify(value) ?? 'null' })) },
  { weight: 3, arbitrary: yamlTexts.map((text) => ({ payload: text, contentType: 'application/yaml' })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ text: fc.string(), contentType: fc.constantFrom('application/json', 'text/plain', 'text/yaml') })
      .map(({ text, contentType }) => ({ payload: text, contentType })),
  },
);
const tokens = fc.oneof({ weight: 8, arbitrary: fc.constant(OPERATOR) }, fc.constantFrom(undefined, 'wrong'));

function encodeAny(text: string): string {
  return Array.from(text, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

describe('drill routes, generated requests (fast-check, fixed seed)', () => {
  const options = { seed: SEED, numRuns: RUNS, endOnFailure: true };

  it('POST /v1/drills', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, tokens, async (body, token) => {
        await check({ method: 'POST', url: '/v1/drills', ...body, token });
      }),
      options,
    );
  });

  it('GET /v1/drills, /v1/drills/{id} and POST /v1/drills/{id}/abort with generated ids and queries', async () => {
    const ids = fc.oneof(fc.constant('drill-0123abcd'), strings.filter((id) => id.length > 0).map(encodeAny));
    const query = fc
      .array(fc.record({ key: fc.constantFrom('limit', 'cursor', 'junk'), value: strings.map(encodeAny) }), {
        maxLength: 3,
      })
      .map((pairs) => (pairs.length ? `?${pairs.map(({ key, value }) => `${key}=${value}`).join('&')}` : ''));
    const requests = fc.oneof(
      query.map((q) => ({ method: 'GET' as const, url: `/v1/drills${q}` })),
      ids.map((id) => ({ method: 'GET' as const, url: `/v1/drills/${id}` })),
      fc
        .tuple(ids, tokens)
        .map(([id, token]) => ({ method: 'POST' as const, url: `/v1/drills/${id}/abort`, payload: '{}', token })),
    );
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        await check(request);
      }),
      options,
    );
  });
});
