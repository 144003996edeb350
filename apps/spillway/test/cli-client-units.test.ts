import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { InMemoryBurstRecords } from '@spillway/state';
import { closeServer, listenOnLoopback } from '@spillway/test/support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiClient, ApiError, checkedBaseUrl } from '../src/client/api-client.js';
import { listBursts } from '../src/client/burst-commands.js';
import { forecastText, warmText } from '../src/client/burst-view.js';
import { endpointsTable, parseServiceArgument } from '../src/client/catalog-command.js';
import { resolveApiUrl, resolveToken } from '../src/client/connection.js';
import { formatAge, formatDuration, parseDuration, parseShare, parseSteps } from '../src/client/format.js';
import { createOutput } from '../src/client/output.js';
import { formatFields, formatTable, visibleWidth } from '../src/client/table.js';
import { CliError } from '../src/load-config.js';

describe('formatTable', () => {
  it('aligns every column to its widest cell, right-aligns numbers, leaves no trailing spaces', () => {
    const table = formatTable(
      [{ header: 'SERVICE' }, { header: 'ENDPOINTS', align: 'right' }, { header: 'CLUSTERS' }],
      [
        ['echo.demo', '3', 'cloud,lab'],
        ['checkout.shop', '12', ''],
      ],
    );
    expect(table.split('\n')).toEqual([
      'SERVICE        ENDPOINTS  CLUSTERS',
      'echo.demo              3  cloud,lab',
      'checkout.shop         12',
    ]);
  });

  it('measures escape sequences as zero width and multi-byte characters as one column', () => {
    expect(visibleWidth('\u001b[1mPHASE\u001b[22m')).toBe(5);
    expect(visibleWidth('0.10 → 0.30')).toBe(11);
    const table = formatTable([{ header: 'SHARE → TARGET' }, { header: 'ID' }], [['0.10 → 0.30', 'a']], {
      indent: '  ',
      styleHeader: (text) => `\u001b[1m${text}\u001b[22m`,
    });
    const [header, row] = table.split('\n');
    expect(row).toBe('  0.10 → 0.30     a');
    expect(visibleWidth(header!)).toBe('  SHARE → TARGET  ID'.length);
  });

  it('keeps one row per line when a cell holds a newline or tab', () => {
    const table = formatTable([{ header: 'A' }, { header: 'B' }], [['x\ny', 'z\tw']]);
    expect(table.split('\n')).toEqual(['A    B', 'x y  z w']);
  });

  it('formats key/value fields with the keys padded to one width', () => {
    expect(
      formatFields(
        [
          ['id', 'b-1'],
          ['waiting on', '-'],
        ],
        '  ',
      ),
    ).toBe('  id          b-1\n  waiting on  -');
  });
});

describe('option values', () => {
  it('parses durations and refuses anything else', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    for (const bad of ['', '10', 'ten minutes', '5m junk', '-5s']) expect(() => parseDuration(bad)).toThrow(/duration/);
  });

  it('parses shares in [0.01, 1] and ascending steps', () => {
    expect(parseShare('0.3')).toBe(0.3);
    expect(parseShare('1')).toBe(1);
    for (const bad of ['0', '1.5', 'abc', '', '-0.1', '5e-324', '0.009'])
      expect(() => parseShare(bad)).toThrow(/share/);
    expect(parseSteps('0.1,0.2, 0.3')).toEqual([0.1, 0.2, 0.3]);
    expect(() => parseSteps('0.2,0.1')).toThrow(/ascending/);
  });

  it('reads a service as NAME.NS, or NAME with --namespace', () => {
    expect(parseServiceArgument('echo.demo', undefined)).toEqual({ name: 'echo', ns: 'demo' });
    expect(parseServiceArgument('echo', 'demo')).toEqual({ name: 'echo', ns: 'demo' });
    expect(() => parseServiceArgument('echo', undefined)).toThrow(/expected NAME.NS/);
    expect(() => parseServiceArgument('echo.demo', 'shop')).toThrow(/not in namespace shop/);
    expect(() => parseServiceArgument('.demo', undefined)).toThrow(CliError);
  });

  it('formats durations and ages for people', () => {
    expect(formatDuration(950)).toBe('950ms');
    expect(formatDuration(75_000)).toBe('1m15s');
    expect(formatDuration(7_200_000)).toBe('2h');
    const now = Date.parse('2030-01-01T00:10:00Z');
    expect(formatAge('2030-01-01T00:09:48Z', now)).toBe('12s ago');
    expect(formatAge('2030-01-01T00:15:00Z', now)).toBe('in 5m');
    expect(formatAge(null, now)).toBe('-');
  });

  it('burst show: the forecast the controller acted on and the warm capacity it called for', () => {
    const forecast = {
      at: '2030-01-01T00:10:00.000Z',
      method: 'holt' as const,
      observedRps: 912.4,
      levelRps: 910,
      trendRpsPerSecond: 1.2,
      peakRps: 1380.2,
      capacityRps: 900,
      horizonSeconds: 600,
      leadTimeSeconds: 120,
      leadTimeLearned: false,
      crossingAt: '2030-01-01T00:11:00.000Z',
      warm: { share: 0.5, replicas: 20, nodes: 2 },
      summary: 'forecast …',
    };
    const prewarm = {
      startedAt: '2030-01-01T00:09:00.000Z',
      crossingAt: '2030-01-01T00:11:00.000Z',
      supportedAt: '2030-01-01T00:10:00.000Z',
      shiftedAt: null,
      forecast: 'forecast …',
    };
    expect(forecastText({ forecast } as never)).toBe(
      '912 rps now, peak 1380 rps within 600 s, on-prem 900 rps: crosses at 2030-01-01T00:11:00.000Z (lead time 120 s, default)',
    );
    expect(warmText({ forecast, prewarm } as never)).toBe(
      'share 0.50 (20 replicas, 2 nodes) for the forecast peak; warmed since 2030-01-01T00:09:00.000Z, no traffic moved',
    );
    expect(warmText({ forecast: { ...forecast, warm: null }, prewarm: null } as never)).toBe(
      'none: the forecast peak fits on-prem',
    );
    expect(forecastText({ forecast: null } as never)).toBe('-');
    expect(warmText({ forecast: null, prewarm: null } as never)).toBe('-');
  });

  it('prints an endpoint address as address:port, IPv6 in brackets', () => {
    const table = endpointsTable({
      version: 1,
      key: 'echo.demo',
      name: 'echo',
      namespace: 'demo',
      endpoints: [
        {
          address: '::1',
          port: 80,
          cluster: 'lab',
          environment: 'onprem',
          locality: { region: 'lab', zone: 'lab-a', subZone: '' },
          health: 'healthy',
          weight: 3,
          labels: {},
        },
      ],
    });
    expect(table.split('\n')[1]).toBe('[::1]:80  lab      onprem  lab/lab-a    healthy       3');
  });
});

describe('connection settings', () => {
  it('takes the API URL from the flag, then SPILLWAY_API, then the default, and checks it', () => {
    expect(resolveApiUrl({ api: 'http://a:1' }, { SPILLWAY_API: 'http://b:2' })).toBe('http://a:1');
    expect(resolveApiUrl({}, { SPILLWAY_API: 'http://b:2' })).toBe('http://b:2');
    expect(resolveApiUrl({}, {})).toBe('http://127.0.0.1:7070');
    expect(checkedBaseUrl('http://127.0.0.1:7070/')).toBe('http://127.0.0.1:7070');
    expect(() => checkedBaseUrl('127.0.0.1:7070')).toThrow(/invalid API URL/);
  });

  it('takes the token from the flag, then SPILLWAY_TOKEN, then the token file, else none', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(await mkdtemp(join(tmpdir(), 'spillway-cli-units-')), 'admin-token');
    await writeFile(file, 'from-file\n');
    expect(resolveToken({ token: 'flag' }, { SPILLWAY_TOKEN: 'env', SPILLWAY_TOKEN_FILE: file })).toBe('flag');
    expect(resolveToken({}, { SPILLWAY_TOKEN: 'env', SPILLWAY_TOKEN_FILE: file })).toBe('env');
    expect(resolveToken({}, { SPILLWAY_TOKEN_FILE: file })).toBe('from-file');
    expect(resolveToken({}, { SPILLWAY_TOKEN_FILE: `${file}.missing` })).toBeUndefined();
  });
});

describe('output', () => {
  function capture(isTTY: boolean, env: NodeJS.ProcessEnv = {}) {
    const stdout = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.WriteStream;
    const stderr = new PassThrough() as unknown as NodeJS.WriteStream;
    return createOutput(false, { stdout, stderr, env });
  }

  it('uses no colour when stdout is not a terminal or NO_COLOR is set', () => {
    expect(capture(false).bold('x')).toBe('x');
    expect(capture(true, { NO_COLOR: '1' }).bold('x')).toBe('x');
    expect(capture(true).bold('x')).toBe('\u001b[1mx\u001b[22m');
  });
});

describe('ApiClient against an HTTP server', () => {
  let server: Server;
  let url: string;
  const seenAuth: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seenAuth.push(request.headers.authorization);
      const send = (status: number, type: string, body: string) => {
        response.writeHead(status, { 'content-type': type });
        response.end(body);
      };
      if (request.url === '/good') return send(200, 'application/json', '{"n": 1}');
      if (request.url === '/newer') {
        return send(200, 'application/json', '{"n": 1, "added": true, "rows": [{"n": 2, "note": "x"}]}');
      }
      if (request.url === '/wrong-shape') return send(200, 'application/json', '{"n": "one"}');
      if (request.url === '/problem') {
        return send(
          503,
          'application/problem+json',
          '{"title":"Service Unavailable","status":503,"detail":"redis is down"}',
        );
      }
      if (request.url === '/html') return send(502, 'text/html', '<h1>Bad Gateway</h1>');
      if (request.url === '/forbidden') return send(401, 'application/problem+json', '{"detail":"needs a token"}');
      // /slow: never answers.
    });
    url = await listenOnLoopback(server);
  });
  afterAll(() => closeServer(server));

  const Shape = z.object({ n: z.number() });

  it('validates answers with the schema and sends the bearer token', async () => {
    const api = new ApiClient({ baseUrl: url, token: 't0k', timeoutMs: 2_000 });
    expect(await api.get('/good', Shape)).toEqual({ n: 1 });
    expect(seenAuth.at(-1)).toBe('Bearer t0k');
    await expect(api.get('/wrong-shape', Shape)).rejects.toThrow(
      'unexpected answer to GET /wrong-shape: n: Invalid input: expected number, received string',
    );
  });

  it("keeps the fields a newer server adds (for --json), the schema's values winning", async () => {
    const api = new ApiClient({ baseUrl: url, timeoutMs: 2_000 });
    const Rows = z.object({ n: z.number().transform((n) => n * 10), rows: z.array(z.object({ n: z.number() })) });
    expect(await api.get('/newer', Rows)).toEqual({ n: 10, added: true, rows: [{ n: 2, note: 'x' }] });
  });

  it("turns an error answer into its status and the problem's detail, or the status text", async () => {
    const api = new ApiClient({ baseUrl: url, timeoutMs: 2_000 });
    const problem = await api.get('/problem', Shape).catch((error: unknown) => error);
    expect(problem).toBeInstanceOf(ApiError);
    expect((problem as ApiError).message).toBe('503 redis is down');
    await expect(api.get('/html', Shape)).rejects.toThrow('502 Bad Gateway');
    await expect(api.get('/forbidden', Shape)).rejects.toThrow(
      '401 needs a token (pass --token or set SPILLWAY_TOKEN)',
    );
  });

  it('gives up on a request after its timeout with one line', async () => {
    const api = new ApiClient({ baseUrl: url, timeoutMs: 200 });
    await expect(api.get('/slow', Shape)).rejects.toThrow(`no answer from ${url} to GET /slow within 200ms`);
  });
});

describe('burst list follows the API cursors', () => {
  let server: Server;
  let api: ApiClient;
  const requested: string[] = [];

  beforeAll(async () => {
    // The real store's pages behind a bare HTTP server: 2,300 ended bursts.
    const records = new InMemoryBurstRecords({ retention: { maxEnded: 10_000, maxAgeMs: 3600_000 } });
    const base = Date.now() - 3_000_000;
    for (let i = 0; i < 2_300; i++) {
      const at = new Date(base + i * 1000).toISOString();
      await records.put({
        ...{ id: `b${i}`, service: 'echo.demo', createdAt: at, updatedAt: at, active: false, phase: 'ended' },
        ...{ origin: 'manual', share: 0, targetShare: 0.2, step: 0, path: [0.2], reason: 'test', actor: 'ops' },
        ...{ expiresAt: null, waitingOn: null, abort: null },
      });
    }
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      requested.push(url.search);
      const cursor = url.searchParams.get('cursor');
      void records
        .page({ limit: Number(url.searchParams.get('limit') ?? 100), ...(cursor ? { cursor } : {}) })
        .then((page) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ...page, degraded: null }));
        });
    });
    api = new ApiClient({ baseUrl: await listenOnLoopback(server), timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await closeServer(server);
  });

  it('asks for pages of at most 1,000 until --limit, and says when there are more', async () => {
    requested.length = 0;
    const all = await listBursts(api, { all: true, limit: 5_000 });
    expect(all.bursts).toHaveLength(2_300);
    expect(new Set(all.bursts.map((b) => b.id)).size).toBe(2_300);
    expect(all.bursts[0]?.id).toBe('b2299');
    expect(all.more).toBe(false);
    expect(requested.map((search) => new URLSearchParams(search).get('limit'))).toEqual(['1000', '1000', '1000']);
    const some = await listBursts(api, { all: true, limit: 1_500 });
    expect(some.bursts.map((b) => b.id).slice(-1)).toEqual(['b800']);
    expect(some.more).toBe(true);
  });
});
