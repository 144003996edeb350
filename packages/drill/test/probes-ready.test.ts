import { spawn } from 'node:child_process';
import type { ServiceKey } from '@spillway/model';
import type { RunningRouter } from '@spillway/router';
import { startLoopbackRouter } from '@spillway/router/test-support/loopback-router';
import { IDENTITY_PATH, type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { hasExited, killChild, trackChild } from '@spillway/test/support/child-processes';
import { waitFor } from '@spillway/test/support/wait';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProbeFleet, type ProbeFleetOptions } from '../src/probes/probe-fleet.js';

/** Readiness, UNIMPLEMENTED as a success, and a bounded stop, against the real router. */
const SERVICE: ServiceKey = 'echo.demo';
const LOCATION = { region: 'dc1', zone: 'a' };

const PROBE_FLEET_MODULE = new URL('../src/probes/probe-fleet.ts', import.meta.url).href;
/** A drill process in miniature: start, wait for ready and 20 samples (or fail), stop, end. */
const PROBE_PROCESS = `
import { ProbeFleet } from ${JSON.stringify(PROBE_FLEET_MODULE)};
const options = JSON.parse(process.env.PROBE_OPTIONS);
try {
  const fleet = await ProbeFleet.startReady(options, Number(process.env.READY_TIMEOUT_MS));
  await new Promise((resolve) => fleet.onSample(() => fleet.samples().length >= 20 && resolve()));
  await fleet.stop();
  console.log('stopped ' + Math.min(fleet.samples().length, 20));
} catch (error) {
  console.log('stopped, not ready: ' + error.message);
}
`;

/** Runs PROBE_PROCESS and measures how long the process lives on after stop() resolved. */
async function runProbeProcess(
  options: ProbeFleetOptions,
  readyTimeoutMs: number,
): Promise<{ output: string; exitCode: number | null; exitAfterStopMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE_PROCESS], {
    env: { ...process.env, PROBE_OPTIONS: JSON.stringify(options), READY_TIMEOUT_MS: String(readyTimeoutMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  let stoppedAt: number | undefined;
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (stoppedAt === undefined && output.includes('stopped')) stoppedAt = performance.now();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  try {
    await waitFor(() => hasExited(child), {
      timeoutMs: 60_000,
      message: `the probe process to exit (output: ${output})`,
    });
  } finally {
    await killChild(child);
  }
  return { output, exitCode: child.exitCode, exitAfterStopMs: performance.now() - (stoppedAt ?? 0) };
}

describe('ProbeFleet readiness and stop', () => {
  const catalog = new InMemoryCatalog();
  const fleets: ProbeFleet[] = [];
  let server: IdentityServer;
  let router: RunningRouter;
  let delayMs = 0;

  const options = (overrides: Partial<ProbeFleetOptions> = {}): ProbeFleetOptions => ({
    xdsAddress: `127.0.0.1:${router.xdsPort}`,
    service: SERVICE,
    locations: [LOCATION],
    ratePerSecond: 50,
    method: IDENTITY_PATH,
    timeoutMs: 2_000,
    ...overrides,
  });
  const start = (overrides: Partial<ProbeFleetOptions> = {}) => {
    const fleet = ProbeFleet.start(options(overrides));
    fleets.push(fleet);
    return fleet;
  };

  beforeAll(async () => {
    server = await startIdentityServer({
      identity: { cluster: 'k8s', zone: 'a', endpoint: 'a-1' },
      port: 0,
      delayMs: () => delayMs,
    });
    catalog.setService({ name: 'echo', namespace: 'demo', endpoints: [endpoint('127.0.0.1', server.port, LOCATION)] });
    router = await startLoopbackRouter({ catalog, http: false });
  });

  afterEach(async () => {
    delayMs = 0;
    await Promise.all(fleets.splice(0).map((fleet) => fleet.stop()));
  });

  afterAll(async () => {
    await router?.stop();
    await server?.stop();
  });

  it('counts UNIMPLEMENTED as reaching a server', async () => {
    // The identity servers do not implement the health service: a live drill's default probe.
    const fleet = await ProbeFleet.startReady(options({ method: '/grpc.health.v1.Health/Check' }), 30_000);
    fleets.push(fleet);
    const sample = await waitFor(() => fleet.samples()[0], { message: 'a health-check sample' });
    expect(sample).toMatchObject({ ok: true, code: 12, client: 0, peer: `127.0.0.1:${server.port}` });
  });

  it('rejects ready() with the service, the xDS address and the last failure', async () => {
    const fleet = start({ service: 'missing.demo', timeoutMs: 300 });
    const error = await fleet.ready(1_500).then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(error?.message).toContain('xds:///missing.demo');
    expect(error?.message).toContain(`127.0.0.1:${router.xdsPort}`);
    expect(error?.message).toContain('client 0 (dc1/a');
    expect(error?.message).toMatch(/last failure DEADLINE_EXCEEDED: .*name resolution/);
    expect(fleet.readyAtMs).toBeUndefined();
    expect(fleet.samples()).toEqual([]);
    await fleet.stop();
    await expect(fleet.ready(100)).rejects.toThrow(/stopped before they were ready/);
  });

  // grpc-js-xds alone would keep an unreachable xDS server's ADS stream queued, with a
  // referenced timer, forever, and a missing listener's 15 s timer running after stop().
  it.each([
    { when: 'the service is served', reachable: true, service: SERVICE, readyMs: 30_000, expected: 'stopped 20' },
    {
      when: 'the service does not exist',
      reachable: true,
      service: 'missing.demo',
      readyMs: 1_000,
      expected: 'not ready',
    },
    {
      when: 'the xDS server is unreachable',
      reachable: false,
      service: SERVICE,
      readyMs: 1_000,
      expected: 'not ready',
    },
  ])(
    'lets a drill process exit by itself after stop() when $when',
    async ({ reachable, service, readyMs, expected }) => {
      const xdsAddress = reachable ? `127.0.0.1:${router.xdsPort}` : '127.0.0.1:1';
      const run = await runProbeProcess(options({ xdsAddress, service, timeoutMs: reachable ? 2_000 : 300 }), readyMs);
      expect(run.output).toContain(expected);
      expect(run.exitCode).toBe(0);
      expect(run.exitAfterStopMs).toBeLessThan(5_000);
    },
  );

  it('skips sends beyond maxInFlight and stops within the RPC deadline', async () => {
    const fleet = start({ maxInFlight: 2, timeoutMs: 800, ratePerSecond: 100 });
    await fleet.ready(30_000);
    delayMs = 3_000;
    await waitFor(() => fleet.skipped >= 5, { message: 'sends to be skipped while RPCs hang' });
    const stopStarted = performance.now();
    await fleet.stop();
    const stopMs = performance.now() - stopStarted;
    expect(stopMs).toBeLessThan(800 + 1_000);
    const hung = fleet.samples().filter((sample) => !sample.ok);
    expect(hung.length).toBeGreaterThan(0);
    expect(hung.every((sample) => sample.code === 4)).toBe(true);
  });

  it('validates its options', () => {
    expect(() => start({ ratePerSecond: 0 })).toThrow(/ratePerSecond 0/);
    expect(() => start({ locations: [] })).toThrow(/locations is empty/);
    expect(() => start({ method: 'Who' })).toThrow(/not a full path/);
    expect(() => start({ maxInFlight: 0 })).toThrow(/maxInFlight 0/);
  });
});
