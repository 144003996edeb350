import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import * as Api from '../src/index.js';
import { registerOpenApi, routeOptions } from '../src/index.js';
import { openApiProblems, undocumentedRoutes } from './support/openapi-check.js';

const contracts = Object.values(Api as Record<string, unknown>).filter(Api.isRouteContract);

describe('the OpenAPI document', () => {
  it('of every contract is valid OpenAPI 3.1 (open and closed responses alike)', async () => {
    expect(contracts.length).toBeGreaterThanOrEqual(20);
    for (const closedResponses of [false, true]) {
      const document = Api.buildOpenApiDocument(contracts, { title: 't', version: '1', closedResponses });
      expect(await openApiProblems(document)).toEqual([]);
    }
  });

  it('names every operation once and documents every path parameter', () => {
    const ids = contracts.map((contract) => contract.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const contract of contracts) {
      const names = [...contract.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]);
      expect(Object.keys(contract.params?.shape ?? {}).sort(), contract.url).toEqual(names.sort());
    }
  });

  it('says who may call a route, and its problem+json errors', () => {
    const document = Api.buildOpenApiDocument([Api.StartBurstRoute, Api.ListBurstsRoute, Api.HealthRoute], {
      title: 't',
      version: '1',
    }) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    type Responses = Record<string, { content: Record<string, unknown> }>;
    const start = document.paths['/v1/bursts']?.post;
    expect(start?.['x-spillway-role']).toBe('operator');
    expect(start?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(start?.responses as object)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '413', '422', '503', 'default']),
    );
    const problem = ((start?.responses ?? {}) as Responses)['422'];
    expect(problem?.content['application/problem+json']).toEqual({ schema: { $ref: '#/components/schemas/Problem' } });
    expect(document.paths['/v1/bursts']?.get?.security).toEqual([{}, { bearer: [] }]);
    expect(document.paths['/healthz']?.get?.security).toEqual([]);
    const limit = ((document.paths['/v1/bursts']?.get?.parameters ?? []) as { name: string }[]).find(
      (parameter) => parameter.name === 'limit',
    );
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { default: 100, maximum: 1000 } });
  });

  it('served by a server lists the routes registered without a contract', async () => {
    const app = Fastify();
    const openApi = registerOpenApi(app, { title: 't', version: '1' });
    app.get(Api.HealthRoute.url, routeOptions(Api.HealthRoute), async () => ({ status: 'ok' }));
    app.post('/v1/undocumented', async () => ({}));
    // A contract under another URL documents nothing.
    app.get('/v1/elsewhere', routeOptions(Api.ListClustersRoute), async () => ({}));
    try {
      const served = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      expect(undocumentedRoutes(served)).toEqual(['POST /v1/undocumented', 'GET /v1/elsewhere']);
      expect(Object.keys(served.paths)).toEqual(['/healthz', '/openapi.json']);
      expect(openApi.undocumented().map((route) => route.url)).toEqual(['/v1/undocumented', '/v1/elsewhere']);
      expect(await openApiProblems(served)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
