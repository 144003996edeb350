import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback } from '@spillway/test/support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

/**
 * An old record (written before the API refused control characters) or another source can
 * still hold them: whatever the server says, the CLI must not hand a terminal a raw escape.
 */
const HOSTILE = 'surge \u001b]0;pwned\u0007\u001b[2J\u009b31m \ud83d end';
const SHOWN = 'surge \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m \\ud83d end';

const burst = {
  id: 'manual-0001',
  service: 'echo.demo',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  active: true,
  phase: 'holding',
  origin: 'manual',
  share: 0.3,
  targetShare: 0.3,
  step: 0,
  path: [0.3],
  reason: HOSTILE,
  actor: `ops${HOSTILE}`,
  expiresAt: null,
  waitingOn: null,
  abort: null,
};

let server: Server;
let api: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const send = (status: number, type: string, body: unknown) => {
      response.writeHead(status, { 'content-type': type });
      response.end(JSON.stringify(body));
    };
    if (request.url?.startsWith('/v1/bursts?'))
      return send(200, 'application/json', { bursts: [burst], next: null, degraded: null });
    if (request.url === '/v1/bursts/manual-0001') {
      return send(200, 'application/json', {
        ...burst,
        history: [{ at: burst.createdAt, actor: 'api', kind: 'api', message: HOSTILE }],
        degraded: null,
      });
    }
    send(409, 'application/problem+json', { title: 'Conflict', status: 409, detail: HOSTILE });
  });
  api = await listenOnLoopback(server);
});

afterAll(async () => {
  await closeServer(server);
});

/** Every character a terminal would act on, other than the newlines that end lines. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]|[\ud800-\udfff]/;

describe('the CLI shows control characters from the server escaped', { timeout: 120_000 }, () => {
  it('in a table (burst list)', async () => {
    const run = await runCli(['burst', 'list', '--api', api]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain(SHOWN);
  });

  it('in fields and the history table (burst show)', async () => {
    const run = await runCli(['burst', 'show', 'manual-0001', '--api', api]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toMatch(new RegExp(`^reason\\s+${SHOWN.replace(/[\\[\]]/g, '\\$&')}$`, 'm'));
  });

  it("in an error line (the problem's detail)", async () => {
    const run = await runCli(['burst', 'abort', 'manual-0001', '--api', api, '--token', 'x']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stderr).toBe(`spillway: 409 ${SHOWN}\n`);
  });
});
