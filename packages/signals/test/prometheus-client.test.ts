import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Registry } from '@spillway/observability';
import { fixtureJson, fixtureText } from '@spillway/test/fixtures';
import { freePort } from '@spillway/test/support/free-port';
import { closeServer, listenOnLoopback } from '@spillway/test/support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient, PrometheusQueryError } from '../src/index.js';

/**
 * A tiny /api/v1/query that answers with the recorded bodies: the query text picks the answer
 * (`fixture:<file>`, `pint:<case>`, or one of the special cases below).
 */
interface Answer {
  status: number;
  body: string;
  contentType?: string;
}

const pint = new Map(
  fixtureJson<Array<{ case: string; httpStatus: number; body: unknown }>>(
    'prometheus-query.responses.pint-mocks.json',
  ).map((mock) => [mock.case, { status: mock.httpStatus, body: JSON.stringify(mock.body) }]),
);

function answerFor(query: string): Answer | 'hang' {
  if (query === 'hang') return 'hang';
  if (query.startsWith('fixture:')) {
    const name = query.slice('fixture:'.length);
    return { status: name.includes('bad_data') ? 400 : 200, body: fixtureText(name) };
  }
  if (query.startsWith('pint:')) {
    const mock = pint.get(query.slice('pint:'.length));
    if (mock) return mock;
  }
  if (query === 'html') return { status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' };
  if (query === 'not-ready') return { status: 503, body: 'Service Unavailable', contentType: 'text/plain' };
  if (query === 'timeout-503') {
    return {
      status: 503,
      body: '{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}',
    };
  }
  return { status: 400, body: '{"status":"error","errorType":"bad_data","error":"unknown test query"}' };
}

const received: Array<{ method: string; url: string; contentType: string; form: URLSearchParams }> = [];
let baseUrl = '';
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    received.push({
      method: request.method ?? '',
      url: request.url ?? '',
      contentType: request.headers['content-type'] ?? '',
      form,
    });
    const answer = answerFor(form.get('query') ?? '');
    if (answer === 'hang') return; // never answers: the client's deadline must fire
    response.writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'application/json' }).end(answer.body);
  });
});

beforeAll(async () => {
  baseUrl = await listenOnLoopback(server);
});
afterAll(async () => {
  await closeServer(server);
});

async function queryError(client: PrometheusClient, query: string, timeoutMs?: number): Promise<PrometheusQueryError> {
  const error = await client.query(query, timeoutMs === undefined ? {} : { timeoutMs }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof PrometheusQueryError)) throw new Error(`expected PrometheusQueryError, got ${String(error)}`);
  return error;
}

describe('PrometheusClient over HTTP', () => {
  it('POSTs a form to /api/v1/query with the time and a server-side timeout', async () => {
    const client = new PrometheusClient({ baseUrl: `${baseUrl}/`, timeoutMs: 5_000 });
    const response = await client.query('fixture:prometheus-2.42-query.scalar.captured.json', {
      time: new Date(1_795_345_218_295),
    });
    expect(response).toMatchObject({ resultType: 'scalar', result: { timestamp: 1795345218.295, value: 1 } });
    const request = received.at(-1);
    expect(request).toMatchObject({
      method: 'POST',
      url: '/api/v1/query',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(request?.form.get('time')).toBe('1795345218.295');
    expect(request?.form.get('timeout')).toBe('5000ms');
  });

  it('answers every captured and mocked body with its shape or its typed error', async () => {
    const client = new PrometheusClient({ baseUrl });
    await expect(
      client.query('fixture:prometheus-2.42-query.histogram_quantile.vector.captured.json'),
    ).resolves.toMatchObject({
      resultType: 'vector',
      result: [{ value: 0.099 }],
    });
    await expect(client.query('fixture:prometheus-2.42-query.empty_vector.captured.json')).resolves.toMatchObject({
      resultType: 'vector',
      result: [],
    });
    await expect(client.query('pint:three_results')).resolves.toMatchObject({ result: [{}, {}, {}] });
    expect(await queryError(client, 'fixture:prometheus-2.42-query.bad_data.error.captured.json')).toMatchObject({
      errorType: 'bad_data',
      status: 400,
    });
    expect(await queryError(client, 'pint:overload')).toMatchObject({ errorType: 'execution', status: 422 });
    expect(await queryError(client, 'pint:apiError_status_200')).toMatchObject({ errorType: 'bad_data', status: 200 });
    expect(await queryError(client, 'pint:emptyError')).toMatchObject({ errorType: 'bad_data', detail: null });
    expect(await queryError(client, 'timeout-503')).toMatchObject({ errorType: 'timeout', status: 503 });
    expect(await queryError(client, 'not-ready')).toMatchObject({ errorType: 'unavailable', status: 503 });
    expect(await queryError(client, 'html')).toMatchObject({ errorType: 'bad_response', status: 502 });
  });

  it('a server that never answers is a timeout after the deadline', async () => {
    const client = new PrometheusClient({ baseUrl, timeoutMs: 10_000 });
    const started = Date.now();
    const error = await queryError(client, 'hang', 200);
    expect(error).toMatchObject({ errorType: 'timeout', status: null });
    expect(error.message).toMatch(/^Prometheus query "hang" failed: timeout: /);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a refused connection is a connection error', async () => {
    const port = await freePort();
    const client = new PrometheusClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await queryError(client, 'up');
    expect(error).toMatchObject({ errorType: 'connection', status: null });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('\n');
  });

  it('counts queries and errors by errorType in the given registry', async () => {
    const registry = new Registry();
    const client = new PrometheusClient({ baseUrl, registry });
    // A second client on the same registry shares the counters instead of throwing.
    const other = new PrometheusClient({ baseUrl, registry });
    await client.query('pint:single_result');
    await queryError(client, 'pint:error');
    await queryError(other, 'pint:overload');
    await queryError(other, 'pint:overload');
    const text = await registry.metrics();
    expect(text).toContain('spillway_prometheus_queries_total 4');
    expect(text).toContain('spillway_prometheus_query_errors_total{error_type="bad_data"} 1');
    expect(text).toContain('spillway_prometheus_query_errors_total{error_type="execution"} 2');
  });
});
