import { silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { overriddenCatalog, overriddenPolicies, RouterOverrides, type RunningRouter } from '@spillway/router';
import { startLoopbackRouter } from '@spillway/router/test-support/loopback-router';
import { type Fault, type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { InMemoryBurstRecords } from '@spillway/state';
import { ManualClock } from '@spillway/test/support/manual-clock';
import { waitFor } from '@spillway/test/support/wait';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOfBursts } from '../src/burst-cost.js';
import { DrillFile } from '../src/drill-file.js';
import { runDrill } from '../src/drill-runner.js';
import { DrillWorld, type DrillWorldParts } from '../src/drill-world.js';

/**
 * The runner against a real router and real probe clients: whatever an entry does, nothing it
 * set outlives the run — at its end, at the deadline when something hangs, and on abort.
 */
describe('runDrill rolls everything back', () => {
  const catalog = new InMemoryCatalog();
  const traffic = new InMemoryTrafficPolicyStore();
  const overrides = new RouterOverrides();
  const routerCatalog = overriddenCatalog(catalog, overrides);
  const routerPolicies = overriddenPolicies(traffic, overrides);
  const servers: IdentityServer[] = [];
  let router: RunningRouter;
  /** Since when zone b has answered every probe alone (undefined: zone a answered last). */
  const answers = { bAloneSince: undefined as number | undefined };
  const answered = (zone: string) => {
    if (zone === 'a') answers.bAloneSince = undefined;
    else answers.bAloneSince ??= performance.now();
  };

  beforeAll(async () => {
    for (const zone of ['a', 'b']) {
      // delayMs is read on every call: here it only notes which zone answered.
      const delayMs = () => {
        answered(zone);
        return 0;
      };
      servers.push(await startIdentityServer({ identity: { cluster: 'k8s', zone, endpoint: zone }, port: 0, delayMs }));
    }
    catalog.setService({
      name: 'echo',
      namespace: 'demo',
      endpoints: servers.map((server, i) =>
        endpoint('127.0.0.1', server.port, { region: 'dc1', zone: i === 0 ? 'a' : 'b' }),
      ),
    });
    router = await startLoopbackRouter({ catalog: routerCatalog, policies: routerPolicies, http: false });
  });

  afterAll(async () => {
    await router?.stop();
    for (const server of servers) await server.stop();
    overrides.stop();
  });

  /** A simulated world whose faults are recorded and whose router restart never comes back. */
  function hangingWorld() {
    const active: Fault[] = [];
    const restarts = { asked: 0 };
    const world = new DrillWorld('simulated', {
      xdsAddress: `127.0.0.1:${router.xdsPort}`,
      catalog: routerCatalog,
      policies: routerPolicies,
      overrides,
      fleet: {
        inject: (fault) => active.push(fault),
        recover: (fault) =>
          active.splice(
            active.findIndex((f) => f.kind === fault.kind),
            1,
          ),
      },
      restartRouter: () => {
        restarts.asked++;
        return new Promise(() => undefined);
      },
    });
    return { world, active, restarts };
  }

  const drill = (extra: object = {}) =>
    DrillFile.parse({
      name: 'hang',
      target: { service: 'echo.demo', clients: [{ region: 'dc1', zone: 'a' }] },
      probes: { ratePerSecond: 40 },
      durationSeconds: 3,
      deadlineSeconds: 4,
      timeline: [
        { atSeconds: 0.2, action: { kind: 'drain', zone: 'a' } },
        { atSeconds: 0.4, action: { kind: 'registry-down', site: 'k8s' } },
        { atSeconds: 0.6, action: { kind: 'router-restart' } },
      ],
      ...extra,
    });

  it('at the deadline a hung entry stops the run: overrides removed, faults recovered, outcome rolled-back', async () => {
    const { world, active, restarts } = hangingWorld();
    // The deadline is moved by hand once the run is where the test needs it: on a busy machine a
    // real 4 s deadline (probe start-up included) can pass before the drain, or before probes
    // have settled in zone b. The timeline and the measurements stay on the real clock.
    const clock = new ManualClock();
    const settleSeconds = 2;
    const hung = drill({ deadlineSeconds: 30, settleSeconds, probes: { ratePerSecond: 40, timeoutMs: 10_000 } });
    let sawDrain = false;
    answers.bAloneSince = undefined;
    const run = runDrill(hung, {
      id: 'drill-deadline',
      world,
      logger: silentLogger(),
      deadlineClock: clock,
      onProgress: () => {
        if (overrides.list().some((o) => o.override.kind === 'drain')) sawDrain = true;
      },
    });
    let finished = false;
    void run.then(() => {
      finished = true;
    });
    // The router restart hangs; only zone b has answered for the settle time (plus 1 s, which
    // covers probes in flight while the client switched zones).
    await waitFor(
      () =>
        restarts.asked === 1 &&
        answers.bAloneSince !== undefined &&
        performance.now() - answers.bAloneSince > (settleSeconds + 1) * 1000,
      { timeoutMs: 20_000, message: 'the restart hanging, with probes settled in zone b' },
    );
    expect(finished).toBe(false); // held by the hung entry, nothing else
    clock.advance(30_000);
    const report = await run;
    expect(sawDrain).toBe(true);
    expect(report.outcome).toBe('rolled-back');
    expect(report.end).toBe('deadline');
    expect(overrides.list()).toEqual([]);
    expect(active).toEqual([]);
    expect(report.entries[2]?.error).toMatch(/stopped before it was applied/);
    // The drain took zone a away from the client: probes ended up in zone b, none failed.
    expect(report.entries[0]?.failoverSeconds).not.toBeNull();
    expect(report.requests.failed).toBe(0);
  }, 30_000);

  it('router overrides carry the deadline themselves', async () => {
    const { world } = hangingWorld();
    const expiries: number[] = [];
    const unsubscribe = overrides.subscribe(() => {
      for (const o of overrides.list()) expiries.push(Date.parse(o.expiresAt));
    });
    const abort = new AbortController();
    const run = runDrill(drill({ timeline: [{ atSeconds: 0, action: { kind: 'drain', zone: 'a' } }] }), {
      id: 'drill-ttl',
      world,
      logger: silentLogger(),
      signal: abort.signal,
      onProgress: (progress) => {
        if (progress.last.includes('applied')) abort.abort();
      },
    });
    const report = await run;
    unsubscribe();
    expect(report.outcome).toBe('aborted');
    expect(overrides.list()).toEqual([]);
    expect(expiries.length).toBeGreaterThan(0);
    // Never beyond the drill's 4 s deadline, even if nobody removed them.
    for (const expiry of expiries) expect(expiry - Date.now()).toBeLessThanOrEqual(4_000);
  }, 30_000);
});

/**
 * One identity server in dc1 zone a behind a loopback router: a live world for quiet drills on
 * echo.demo (no timeline), with what the test adds to it (measured load, burst cost).
 */
async function startOneZone(loadReporting?: { intervalSeconds: number }) {
  const server = await startIdentityServer({ identity: { cluster: 'k8s', zone: 'a', endpoint: 'a' }, port: 0 });
  const catalog = new InMemoryCatalog();
  catalog.setService({
    name: 'echo',
    namespace: 'demo',
    endpoints: [endpoint('127.0.0.1', server.port, { region: 'dc1', zone: 'a' })],
  });
  const overrides = new RouterOverrides();
  const traffic = new InMemoryTrafficPolicyStore();
  const router = await startLoopbackRouter({
    catalog,
    policies: traffic,
    http: false,
    ...(loadReporting ? { loadReporting } : {}),
  });
  return {
    router,
    world: (extra: Pick<DrillWorldParts, 'measuredLoad' | 'burstCost'>) =>
      new DrillWorld('live', {
        xdsAddress: `127.0.0.1:${router.xdsPort}`,
        catalog,
        policies: traffic,
        overrides,
        ...extra,
      }),
    stop: async () => {
      await router.stop();
      overrides.stop();
      await server.stop();
    },
  };
}

/** A live drill on echo.demo from dc1 zone a that only probes. */
const quietDrill = (name: string, ratePerSecond: number, durationSeconds: number) =>
  DrillFile.parse({
    name,
    mode: 'live',
    target: { service: 'echo.demo', clients: [{ region: 'dc1', zone: 'a' }] },
    probes: { ratePerSecond, method: '/spillway.simulator.Identity/Who' },
    durationSeconds,
    timeline: [],
  });

describe('runDrill with load reporting', () => {
  it('reports what the clients (here the probes) reported over LRS during the run', async () => {
    const zone = await startOneZone({ intervalSeconds: 1 });
    try {
      const world = zone.world({
        measuredLoad: (service, windowSeconds) => zone.router.measuredLoad(service, windowSeconds),
      });
      const report = await runDrill(quietDrill('quiet', 40, 3), { id: 'drill-lrs', world, logger: silentLogger() });
      const load = report.reportedLoad;
      expect(load?.service).toBe('echo.demo');
      expect(load?.windowSeconds).toBeGreaterThanOrEqual(3);
      // Every reported request went on-prem; the last second before the probes stopped is not reported.
      expect(load?.cloudShare).toBe(0);
      // (Errors are probe timeouts, which a busy machine may have.)
      expect(load?.localities).toEqual([
        { region: 'dc1', zone: 'a', environment: 'onprem', requests: expect.any(Number), errors: expect.any(Number) },
      ]);
      const [locality] = load?.localities ?? [];
      expect(locality?.requests).toBeGreaterThan(0);
      expect(locality?.errors).toBeLessThanOrEqual(locality?.requests ?? 0);
    } finally {
      await zone.stop();
    }
  }, 30_000);
});

describe('runDrill with a controller whose policy has prices', () => {
  it("reports what the target's bursts during the run cost, from the burst records", async () => {
    const zone = await startOneZone();
    // The controller's records (apps/controller/src/burst-record.ts writes them): one burst that
    // ended an hour before the drill, one that runs through it.
    const bursts = new InMemoryBurstRecords();
    const record = (id: string, createdAt: number, updatedAt: number, total: number, active: boolean) => ({
      id,
      service: 'echo.demo',
      createdAt: new Date(createdAt).toISOString(),
      updatedAt: new Date(updatedAt).toISOString(),
      active,
      cost: { total, hourly: active ? 2.4 : 0, currency: 'EUR', perBurstBudget: null },
    });
    const before = Date.now();
    await bursts.put(record('old', before - 7_200_000, before - 3_600_000, 9, false));
    let asked: { sinceMs: number; untilMs: number } | undefined;
    try {
      const world = zone.world({
        burstCost: async (service, sinceMs, untilMs) => {
          asked = { sinceMs, untilMs };
          // The burst's controller keeps writing its record while the drill runs.
          await bursts.put(record('running', before, untilMs, 1.25, true));
          return costOfBursts((await bursts.page({ service, limit: 100 })).bursts, sinceMs, untilMs);
        },
      });
      const report = await runDrill(quietDrill('priced', 20, 1), { id: 'drill-cost', world, logger: silentLogger() });
      expect(report.cost).toEqual({ total: 1.25, currency: 'EUR', bursts: [{ id: 'running', total: 1.25 }] });
      expect(asked?.sinceMs).toBeGreaterThanOrEqual(before);
      expect(asked?.untilMs).toBeGreaterThan(asked?.sinceMs ?? Number.POSITIVE_INFINITY);
    } finally {
      await zone.stop();
    }
  }, 30_000);
});
