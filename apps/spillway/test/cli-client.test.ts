import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@spillway/test/support/free-port';
import { burstPolicy, loopback, quickBurstPolicy, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

const OPERATOR_TOKEN = 'cli-test-operator-token';

/**
 * Static services on-prem and in the cloud, with burst policies without cloud adapters
 * (`cloud: {}`): no capacity actions, only the traffic share. echo.demo moves at once (a 1 s
 * dwell, so one test's burst does not hold up the next); slow.demo has a 600 s dwell and step
 * interval, so a stepped burst sits on its first step for the deadline test.
 */
const CONFIG = spillwayConfigYaml({
  tokens: [{ name: 'ops', role: 'operator', token: OPERATOR_TOKEN }],
  lab: {
    'echo.demo': [loopback(50051, 'lab-a'), loopback(50052, 'lab-b', { health: 'unhealthy' })],
    'slow.demo': [loopback(50061, 'lab-a')],
  },
  cloud: { 'echo.demo': [loopback(50151, 'us-east-1a')], 'slow.demo': [loopback(50161, 'us-east-1a')] },
  policies: [
    // Priced, but no capacity it manages (cloud: {}): a cost line at 0.
    quickBurstPolicy('echo.demo', {
      cost: { nodeHourly: 0.5, currency: 'EUR', perBurstBudget: 12, dailyResetTimeZone: 'Europe/Berlin' },
    }),
    burstPolicy('slow.demo', { maxShare: 0.5, steps: [0.1, 0.3], stepIntervalSeconds: 600, minDwellSeconds: 600 }),
  ],
});

const children: CliProcess[] = [];
let server: CliProcess;
let api: string;
let tokenFile: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `spillway ARGS` against the test's instance, to completion. SPILLWAY_API and SPILLWAY_TOKEN
 * are cleared so the developer's own settings never leak in; a test passes what it means.
 */
async function spillway(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const cli = new CliProcess(args, { SPILLWAY_API: '', SPILLWAY_TOKEN: '', ...env });
  children.push(cli);
  await waitFor(() => cli.child.exitCode !== null || cli.child.signalCode !== null, {
    timeoutMs: 45_000,
    intervalMs: 20,
    message: `spillway ${args.join(' ')} to exit (stdout: ${cli.stdout.slice(-300)} stderr: ${cli.stderr.slice(-300)})`,
  });
  return { code: await cli.exited, stdout: cli.stdout, stderr: cli.stderr };
}

const withApi = (...args: string[]) => [...args, '--api', api];
const asOperator = (...args: string[]) => [...withApi(...args), '--token', OPERATOR_TOKEN];

/** GET from the API itself: for waiting and cleaning up, not for what the tests assert. */
async function apiGet(path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${api}${path}`)).json()) as Record<string, unknown>;
}

/** Aborts every burst still in progress (through the API), so no test holds up the next. */
async function abortAll(): Promise<void> {
  const active = async () => (await apiGet('/v1/bursts?active=true')).bursts as { id: string }[];
  for (const burst of await active()) {
    await fetch(`${api}/v1/bursts/${burst.id}/abort`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test cleanup' }),
    });
  }
  await waitFor(async () => (await active()).length === 0, { timeoutMs: 30_000, message: 'no bursts in progress' });
}

/** Each CLI run is a fresh Node process compiling TypeScript: seconds each on a busy machine. */
const SLOW = { timeout: 240_000 };

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-cli-client-'));
  const config = join(dir, 'spillway.yaml');
  await writeFile(config, CONFIG);
  tokenFile = join(dir, 'admin-token');
  await writeFile(tokenFile, `${OPERATOR_TOKEN}\n`, { mode: 0o600 });
  server = new CliProcess(['up', '--config', config, '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
  children.push(server);
  api = await server.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
  await server.waitForOutput(/catalog v1: 2 service\(s\)/);
});

afterAll(async () => {
  for (const child of children.splice(0)) await child.stop();
});

describe('spillway status', () => {
  it('shows health, the sources, bursts in progress, the controller and the xDS clients', SLOW, async () => {
    const run = await spillway(withApi('status'));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`Spillway at ${api}: healthy, ready`);
    expect(run.stdout).toMatch(/^ {2}NAME {3}KIND {4}ENV {5}REGION {5}STATE {2}SERVICES {2}ENDPOINTS {2}LAST SYNC/m);
    expect(run.stdout).toMatch(/^ {2}lab {4}static {2}onprem {2}lab {8}live {10}2 {10}3 {2}\S+ ago +-$/m);
    expect(run.stdout).toMatch(/^ {2}cloud {2}static {2}cloud {3}us-east-1 {2}live {10}2 {10}2 {2}\S+ ago +-$/m);
    expect(run.stdout).toContain('Bursts in progress\n  (none)');
    expect(run.stdout).toContain('Controller   embedded (leader), ok');
    expect(run.stdout).toContain('xDS clients  0 connected');
  });

  it('--json gives the same as one document', SLOW, async () => {
    const run = await spillway(withApi('status', '--json'));
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.api).toMatchObject({ url: api, healthy: true, ready: true });
    expect(status.sources.clusters.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
      ['lab', 'live'],
      ['cloud', 'live'],
    ]);
    expect(status).toMatchObject({ bursts: [], controller: { owner: 'embedded', leader: true }, xds: { clients: 0 } });
  });
});

describe('spillway catalog', () => {
  it('lists the services with their endpoints, health, environments and clusters', SLOW, async () => {
    const [run, json, none] = await Promise.all([
      spillway(withApi('catalog')),
      spillway(withApi('catalog', '--json')),
      spillway(withApi('catalog', '--namespace', 'shop')),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'SERVICE    ENDPOINTS  HEALTHY  ENVIRONMENTS  CLUSTERS\n' +
        'echo.demo          3        2  cloud,onprem  cloud,lab\n' +
        'slow.demo          2        2  cloud,onprem  cloud,lab\n',
    );
    expect(JSON.parse(json.stdout).services[0]).toMatchObject({ key: 'echo.demo', endpoints: 3, healthy: 2 });
    expect(none.stdout).toBe('no services in namespace shop (catalog v1)\n');
  });

  it('with NAME.NS (or NAME and --namespace) lists the endpoints of one service', SLOW, async () => {
    const expected =
      'ADDRESS          CLUSTER  ENV     REGION/ZONE           HEALTH     WEIGHT\n' +
      '127.0.0.1:50051  lab      onprem  lab/lab-a             healthy         1\n' +
      '127.0.0.1:50052  lab      onprem  lab/lab-b             unhealthy       1\n' +
      '127.0.0.1:50151  cloud    cloud   us-east-1/us-east-1a  healthy         1\n';
    const [run, withNamespace] = await Promise.all([
      spillway(withApi('catalog', 'echo.demo')),
      spillway(withApi('catalog', 'echo', '-n', 'demo')),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(expected);
    expect(withNamespace.stdout).toBe(expected);
  });

  it('an unknown service is the API 404 in one line; a malformed one a usage error', SLOW, async () => {
    const [unknown, malformed] = await Promise.all([
      spillway(withApi('catalog', 'nope.demo')),
      spillway(withApi('catalog', 'nope')),
    ]);
    expect(unknown).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'spillway: 404 no service nope.demo in the catalog\n',
    });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('expected NAME.NS');
  });
});

describe('spillway burst', () => {
  afterEach(abortAll, 120_000);

  it('start prints the id; list, show and status show it; abort --wait follows it to the end', SLOW, async () => {
    const started = await spillway(
      asOperator('burst', 'start', 'echo.demo', '--share', '0.3', '--reason', 'cli test', '--json'),
    );
    expect(started.code).toBe(0);
    const accepted = JSON.parse(started.stdout) as { id: string; service: string; state: string };
    expect(accepted).toMatchObject({ service: 'echo.demo', state: 'requested' });
    const id = accepted.id;
    expect(id).toMatch(/^manual-/);

    // Straight to 0.3 (no steps below it were asked for): the controller holds there.
    await waitFor(async () => (await apiGet(`/v1/bursts/${id}`)).phase === 'holding', {
      timeoutMs: 30_000,
      message: `burst ${id} holding`,
    });
    const shown = await spillway(withApi('burst', 'show', id));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^share\s+0\.30 → 0\.30$/m);
    // Measured from the router in the same process (LRS); no gRPC client reports here.
    expect(shown.stdout).toMatch(/^measured\s+no reports \(published 0\.30, 0 requests in 60 s\): no-data$/m);
    expect(shown.stdout).toMatch(/^cost\s+0\.00 EUR \(0\.00 EUR\/h now, budget 12\.00 EUR\)$/m);
    expect(shown.stdout).toMatch(/^by\s+ops$/m);
    expect(shown.stdout).toMatch(/^reason\s+cli test$/m);
    expect(shown.stdout).toMatch(/^History\n {2}TIME\s+ACTOR\s+KIND\s+MESSAGE$/m);
    expect(shown.stdout).toMatch(/ {2}ops\s+api\s+manual burst requested: share 0\.3$/m);
    expect(shown.stdout).toMatch(/embedded\s+decision\/start\s+manual burst by ops: cli test/);

    const [list, status] = await Promise.all([spillway(withApi('burst', 'list')), spillway(withApi('status'))]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(
      /^ID\s+SERVICE\s+PHASE\s+SHARE → TARGET\s+WAITING ON\s+STARTED\s+BY\s+REASON$/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${id}  echo\\.demo  holding  0\\.30 → 0\\.30\\s+-\\s+\\S+ ago\\s+ops  cli test$`, 'm'),
    );
    expect(status.stdout).toMatch(new RegExp(`^ {2}echo\\.demo  holding  0\\.30 → 0\\.30 .* ${id}$`, 'm'));

    const aborted = await spillway(asOperator('burst', 'abort', id, '--reason', 'cli test done', '--wait'));
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toBe(`burst ${id} ended (aborted): share 0.00 → 0.30\n`);
    expect(aborted.stderr).toContain(`abort requested for burst ${id} (echo.demo); following it:`);
    expect(aborted.stderr).toMatch(/echo\.demo {2}ended \(aborted\) {2}share 0\.00 → 0\.30/);

    const [active, all, again] = await Promise.all([
      spillway(withApi('burst', 'list')),
      spillway(withApi('burst', 'list', '--all', '--service', 'echo.demo')),
      spillway(asOperator('burst', 'abort', id)),
    ]);
    expect(active.stdout).toBe('no bursts in progress (--all shows ended ones)\n');
    expect(all.stdout).toMatch(new RegExp(`^${id}  echo\\.demo  ended \\(aborted\\)`, 'm'));
    expect(again).toMatchObject({ code: 1, stderr: `spillway: 409 burst ${id} has already ended\n` });
  });

  it('start --wait shows progress until it holds; a second start is refused with the reason', SLOW, async () => {
    // The token comes from the token file, as after a local `spillway up` without configured tokens.
    const started = await spillway(
      withApi('burst', 'start', 'echo.demo', '--share', '0.3', '--reason', 'wait test', '--wait', '--timeout', '60s'),
      { SPILLWAY_TOKEN_FILE: tokenFile },
    );
    expect(started.code).toBe(0);
    const [id, summary] = started.stdout.trimEnd().split('\n');
    expect(id).toMatch(/^manual-/);
    expect(summary).toBe(`echo.demo holding at share 0.30 (burst ${id})`);
    expect(started.stderr).toContain(`burst ${id} requested for echo.demo (share 0.30); following it:`);
    expect(started.stderr).toMatch(/^ +\S+ {2}echo\.demo {2}holding {2}share 0\.30 → 0\.30$/m);

    const refused = await spillway(
      asOperator('burst', 'start', 'echo.demo', '--share', '0.2', '--reason', 'second', '--wait', '--timeout', '60s'),
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`spillway: manual burst manual-\\S+ by ops refused: burst ${id} is holding; abort it first\\n$`),
    );

    const aborted = await spillway(asOperator('burst', 'abort', id!, '--wait', '--json'));
    expect(aborted.code).toBe(0);
    expect(JSON.parse(aborted.stdout)).toMatchObject({ id, active: false, phase: 'ended', abort: { actor: 'ops' } });
  });

  it('--wait gives up at its deadline with exit 3 and says where the burst is', SLOW, async () => {
    // Steps 0.1 then 0.3 with a 600 s dwell: the burst sits at 0.1 long past a 3 s deadline.
    const run = await spillway(
      asOperator(
        'burst',
        'start',
        'slow.demo',
        '--share',
        '0.3',
        '--steps',
        '0.1',
        '--reason',
        'deadline',
        '--wait',
        '--timeout',
        '3s',
      ),
    );
    const id = run.stdout.split('\n')[0];
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/ {2}slow\.demo {2}shifting {2}share 0\.10 → 0\.30 {2}waiting on: /);
    expect(run.stderr).toMatch(
      new RegExp(
        `spillway: burst ${id} not holding at its share after 3s: shifting at share 0\\.10 → 0\\.30, waiting on .+; ` +
          `it goes on: spillway burst abort ${id} stops it\\n$`,
      ),
    );
  });

  it('API errors are one line with exit 1: no token, wrong token, unknown service, share, burst', SLOW, async () => {
    const start = ['burst', 'start', 'echo.demo', '--share', '0.3', '--reason', 'x'];
    const [noToken, wrongFlag, wrongEnv, unknown, tooMuch, noBurst] = await Promise.all([
      spillway(withApi(...start)),
      spillway(withApi(...start, '--token', 'wrong')),
      spillway(withApi(...start), { SPILLWAY_TOKEN: 'wrong-from-env' }),
      spillway(asOperator('burst', 'start', 'nope.demo', '--share', '0.3', '--reason', 'x')),
      spillway(asOperator('burst', 'start', 'echo.demo', '--share', '0.8', '--reason', 'x')),
      spillway(withApi('burst', 'show', 'no-such-burst')),
    ]);
    expect(noToken).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'spillway: 401 this request needs a bearer token (pass --token or set SPILLWAY_TOKEN)\n',
    });
    expect(wrongFlag).toMatchObject({ code: 1, stdout: '', stderr: 'spillway: 401 the bearer token is not known\n' });
    expect(wrongEnv).toMatchObject({ code: 1, stderr: 'spillway: 401 the bearer token is not known\n' });
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'spillway: 422 no burst policy for nope.demo; add one under policies: in the config\n',
    });
    expect(tooMuch).toMatchObject({
      code: 1,
      stderr: "spillway: 422 share 0.8 is above the policy's maxShare 0.5 for echo.demo\n",
    });
    expect(noBurst).toMatchObject({ code: 1, stderr: 'spillway: 404 no burst no-such-burst\n' });
    // None of them started anything.
    expect(JSON.parse((await spillway(withApi('burst', 'list', '--json'))).stdout)).toEqual([]);
  });

  it('usage errors exit 2 before anything is sent; --help exits 0', SLOW, async () => {
    const [missing, badShare, badUrl, help] = await Promise.all([
      spillway(asOperator('burst', 'start', 'echo.demo', '--reason', 'x')),
      spillway(asOperator('burst', 'start', 'echo.demo', '--share', '1.5', '--reason', 'x')),
      spillway(['status', '--api', 'localhost:7070']),
      spillway(['burst', 'list', '--help']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: required option '--share <share>' not specified");
    expect(badShare.code).toBe(2);
    expect(badShare.stderr).toContain('expected a share in [0.01, 1]');
    expect(badUrl).toMatchObject({
      code: 2,
      stderr: 'spillway: invalid API URL "localhost:7070": expected e.g. http://127.0.0.1:7070\n',
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: spillway burst list [options]');
  });
});

describe('when the API is down', () => {
  it('every command says it cannot reach the API, with a hint, and exits 1', SLOW, async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const commands = [['status'], ['catalog'], ['burst', 'list'], ['burst', 'abort', 'x', '--token', 't']];
    const runs = await Promise.all([
      ...commands.map((args) => spillway([...args, '--api', down])),
      // SPILLWAY_API is the default for --api.
      spillway(['status'], { SPILLWAY_API: down }),
    ]);
    for (const run of runs) {
      expect(run).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `spillway: cannot reach ${down} (is spillway up running?)\n`,
      });
    }
  });
});
