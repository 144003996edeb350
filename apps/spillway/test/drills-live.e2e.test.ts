import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DrillReport } from '@spillway/drill';
import { waitFor } from '@spillway/test/support/wait';
import { fetchAssignment } from '@spillway/xds/test-support/fetch-assignment';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli, TOKEN_FILE } from './cli-process.js';

const LIVE_DRAIN = fileURLToPath(new URL('../../../infra/drills/live-drain.yaml', import.meta.url));

let up: CliProcess;
let api: string;
let xdsPort: number;
let token: string;

beforeAll(async () => {
  up = new CliProcess(['up', '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
  api = await up.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
  xdsPort = Number(await up.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  await waitFor(async () => (await fetch(`${api}/v1/services/shop/cart`)).ok, { message: 'cart.shop in the catalog' });
}, 60_000);

afterAll(async () => {
  await up?.stop();
});

function post(path: string, body: string, contentType = 'application/yaml', auth = true): Promise<Response> {
  return fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(auth ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

async function overrides(): Promise<{ override: { kind: string; zone?: string } }[]> {
  const body = (await (await fetch(`${api}/v1/router/overrides`)).json()) as {
    overrides: { override: { kind: string; zone?: string } }[];
  };
  return body.overrides;
}

/** Health of cart.shop's dc1-a endpoints in the assignment a fresh dc1-a client receives. */
async function dc1aHealth(): Promise<string[]> {
  const cla = await fetchAssignment(xdsPort, 'cart.shop', { region: 'dc1', zone: 'dc1-a' });
  return (cla.endpoints ?? [])
    .filter((locality) => locality.locality.zone === 'dc1-a')
    .flatMap((locality) => locality.lb_endpoints.map((endpoint) => endpoint.health_status ?? 'UNKNOWN'));
}

const longDrain = (service = 'cart.shop', extra = '') => `name: long drain
mode: live
target: { service: ${service}, clients: [{ region: dc1, zone: dc1-a }] }
probes: { method: /spillway.simulator.Identity/Who, ratePerSecond: 20 }
durationSeconds: 300
timeline:
  - { atSeconds: 0, action: { kind: drain, zone: dc1-a } }
${extra}`;

interface PricedBurst {
  id: string;
  active: boolean;
  cost: { total: number; currency: string } | null;
}

/** The report of drill `id` once it is done. */
async function finishedReport(id: string): Promise<DrillReport> {
  return waitFor(
    async () => {
      const view = (await (await fetch(`${api}/v1/drills/${id}`)).json()) as { state: string; report?: DrillReport };
      return view.state === 'done' ? view.report : undefined;
    },
    { timeoutMs: 30_000, message: `drill ${id} done, with its report` },
  );
}

async function burst(id: string): Promise<PricedBurst> {
  return (await (await fetch(`${api}/v1/bursts/${id}`)).json()) as PricedBurst;
}

describe('a drill during a burst of a priced policy, through the API of spillway up', () => {
  it("reports what the burst cost while it ran: the controller's running total at the drill's end", async () => {
    // The demo's surge bursts checkout.shop, whose policy prices the simulated nodegroup.
    const running = await waitFor(
      async () => {
        const { bursts } = (await (await fetch(`${api}/v1/bursts?service=checkout.shop&active=true`)).json()) as {
          bursts: PricedBurst[];
        };
        return bursts.find((b) => (b.cost?.total ?? 0) > 0);
      },
      { timeoutMs: 60_000, message: 'a burst of checkout.shop that has cost something' },
    );
    const before = running.cost?.total ?? 0;
    const drill = `name: watch the burst
mode: live
target: { service: checkout.shop, clients: [{ region: dc1, zone: dc1-a }] }
probes: { method: /spillway.simulator.Identity/Who, ratePerSecond: 20 }
durationSeconds: 2
timeline: []
`;
    const started = await post('/v1/drills', drill);
    expect(started.status).toBe(202);
    const report = await finishedReport(((await started.json()) as { id: string }).id);
    const after = (await burst(running.id)).cost?.total ?? 0;
    expect(report.end).toBe('completed');
    const cost = report.cost;
    expect(cost?.currency).toBe('USD');
    const charged = cost?.bursts.find((b) => b.id === running.id);
    // Read when the drill ended: at least what it had cost when the drill began, at most what it costs now.
    expect(charged?.total).toBeGreaterThan(before);
    expect(charged?.total).toBeLessThanOrEqual(after);
    expect(cost?.total).toBeCloseTo(cost?.bursts.reduce((sum, b) => sum + b.total, 0) ?? Number.NaN, 9);
    // A service without a policy has nothing to price.
    const cart = await post('/v1/drills', drill.replace('checkout.shop', 'cart.shop'));
    expect(cart.status).toBe(202);
    expect((await finishedReport(((await cart.json()) as { id: string }).id)).cost).toBeNull();
  }, 120_000);
});

describe('live drills on a running spillway up: router overrides only', () => {
  it('spillway drill run FILE --api: drains dc1-a in the router, clients fail over, everything rolls back', async () => {
    const result = await runCli(['drill', 'run', LIVE_DRAIN, '--api', api, '--json']);
    const report = JSON.parse(result.stdout) as DrillReport;
    expect(report.outcome, `${JSON.stringify(report.expectations)}\n${result.stderr}`).toBe('passed');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/started on http/);
    const [drain] = report.entries;
    expect(drain?.detectSeconds).not.toBeNull();
    expect(drain?.failoverSeconds).not.toBeNull();
    // Nothing real was touched: the registry still reports dc1-a healthy, and no override is left.
    const cart = (await (await fetch(`${api}/v1/services/shop/cart`)).json()) as {
      endpoints: { locality: { zone: string }; health: string }[];
    };
    expect(cart.endpoints.filter((e) => e.locality.zone === 'dc1-a').map((e) => e.health)).toEqual([
      'healthy',
      'healthy',
    ]);
    expect(await overrides()).toEqual([]);
  }, 120_000);

  it('refuses bad drills with the reason, one drill at a time, and an abort rolls back at once', async () => {
    expect((await post('/v1/drills', longDrain(), 'application/yaml', false)).status).toBe(401);
    const broken = await post('/v1/drills', 'name: x\nmode: live\ntarget: { service: cart }\n');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toMatch(/request body:3:\d+: target\.service/);
    const unknown = await post('/v1/drills', longDrain('nope.shop'));
    expect(unknown.status).toBe(422);
    const tooMuch = await post(
      '/v1/drills',
      longDrain('checkout.shop', '  - { atSeconds: 1, action: { kind: force-share, share: 0.9 } }\n'),
    );
    expect(tooMuch.status).toBe(422);
    expect(((await tooMuch.json()) as { detail: string }).detail).toMatch(/maxShare 0\.5/);
    // This `up` runs its simulated fleet without mesh mTLS: a drill that needs it is refused, not half-run.
    const meshDrill = await post(
      '/v1/drills',
      'name: m\nmode: simulated\nmtls: true\ntarget: { service: cart.shop, clients: [ { region: dc1, zone: dc1-a } ] }\n' +
        'durationSeconds: 10\ntimeline:\n  - { atSeconds: 1, action: { kind: wrong-trust-bundle, region: us-east-1 } }\n',
    );
    expect(meshDrill.status).toBe(422);
    expect(((await meshDrill.json()) as { detail: string }).detail).toMatch(/needs a simulated fleet with mesh mTLS/);
    expect(await overrides()).toEqual([]);

    const started = await post('/v1/drills', longDrain());
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    await waitFor(async () => (await overrides()).length === 1, { timeoutMs: 40_000, message: 'the drain override' });
    expect((await overrides())[0]?.override).toMatchObject({ kind: 'drain', zone: 'dc1-a' });
    await waitFor(async () => (await dc1aHealth()).every((health) => health === 'DRAINING'), {
      message: 'dc1-a draining in the EDS',
    });
    expect((await post('/v1/drills', longDrain())).status).toBe(409);

    expect((await post(`/v1/drills/${id}/abort`, '{}', 'application/json')).status).toBe(202);
    expect((await finishedReport(id)).outcome).toBe('aborted');
    expect(await overrides()).toEqual([]);
    expect(await dc1aHealth()).toEqual(['HEALTHY', 'HEALTHY']);
    expect((await fetch(`${api}/v1/drills/drill-00000000`)).status).toBe(404);
  }, 120_000);
});
