import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrillReport } from '@spillway/drill';
import { type IdentityServer, startIdentityServer } from '@spillway/simulator';
import { loopback, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { fetchAssignment } from '@spillway/xds/test-support/fetch-assignment';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from './cli-process.js';

const running: CliProcess[] = [];
const servers: IdentityServer[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
  for (const server of servers.splice(0)) await server.stop();
});

/** The endpoint ports a fresh ADS client in lab-a receives for echo.demo. */
async function echoPorts(xdsPort: number): Promise<number[]> {
  const cla = await fetchAssignment(xdsPort, 'echo.demo', { region: 'lab', zone: 'lab-a' });
  return (cla.endpoints ?? []).flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value));
}

describe('federation and router as separate processes', () => {
  it('the router follows the federation and keeps serving its last catalog when the federation dies', async () => {
    const federation = new CliProcess(['federation', '--listen', '127.0.0.1:0']);
    running.push(federation);
    const api = await federation.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const router = new CliProcess(['router', '--federation', api, '--xds', '127.0.0.1:0', '--listen', '127.0.0.1:0']);
    running.push(router);
    const xdsPort = Number(await router.waitForOutput(/xDS\s+port (\d+)/));
    const routerApi = await router.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    // Ready once the router has the federation's catalog: it has no config of its own.
    await waitFor(async () => (await fetch(`${routerApi}/readyz`)).status === 200, { message: 'router ready' });
    expect((await echoPorts(xdsPort)).sort()).toEqual([50051, 50052, 50151]);

    expect(await federation.stop()).toBe(0);
    expect((await echoPorts(xdsPort)).sort()).toEqual([50051, 50052, 50151]);
  });

  it('a live drill on the router process drains a zone through its overrides and rolls back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-live-drill-'));
    for (const zone of ['lab-a', 'lab-b']) {
      servers.push(await startIdentityServer({ identity: { cluster: 'lab', zone, endpoint: zone }, port: 0 }));
    }
    const config = join(dir, 'spillway.yaml');
    await writeFile(
      config,
      spillwayConfigYaml({
        lab: { 'who.demo': [loopback(servers[0]!.port, 'lab-a'), loopback(servers[1]!.port, 'lab-b')] },
      }),
    );
    const drill = join(dir, 'drain.yaml');
    await writeFile(
      drill,
      `name: drain lab-a
mode: live
target: { service: who.demo, clients: [{ region: lab, zone: lab-a }] }
probes: { method: /spillway.simulator.Identity/Who, ratePerSecond: 40, timeoutMs: 2000 }
durationSeconds: 8
timeline:
  - { atSeconds: 2, forSeconds: 4, action: { kind: drain, zone: lab-a } }
expect: { failoverWithinSeconds: 3, detectWithinSeconds: 2, errorRatioBelow: 0.1 }
`,
    );
    const federation = new CliProcess(['federation', '--config', config, '--listen', '127.0.0.1:0']);
    running.push(federation);
    const api = await federation.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const router = new CliProcess(['router', '--federation', api, '--xds', '127.0.0.1:0', '--listen', '127.0.0.1:0']);
    running.push(router);
    const routerApi = await router.waitForOutput(/drills\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\/drills/);
    await waitFor(async () => (await fetch(`${routerApi}/readyz`)).status === 200, { message: 'router ready' });

    const result = await runCli(['drill', 'run', drill, '--api', routerApi, '--json']);
    const report = JSON.parse(result.stdout) as DrillReport;
    expect(report.outcome, `${JSON.stringify(report.entries)}\n${result.stderr}`).toBe('passed');
    expect(report.requests.total).toBeGreaterThan(100);
    // The drain moved the lab-a client to lab-b, then the override was gone.
    const [drain] = report.entries;
    expect(drain?.failoverSeconds).not.toBeNull();
    const left = (await (await fetch(`${routerApi}/v1/router/overrides`)).json()) as { overrides: unknown[] };
    expect(left.overrides).toEqual([]);
    // A simulated drill has no simulator here: refused with the reason.
    const simulated = join(dir, 'simulated.yaml');
    await writeFile(
      simulated,
      `name: zone down
target: { service: who.demo, clients: [{ region: lab, zone: lab-a }] }
durationSeconds: 5
timeline: [{ atSeconds: 1, action: { kind: zone-down, zone: lab-a } }]
`,
    );
    const refused = await runCli(['drill', 'run', simulated, '--api', routerApi]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/422 simulated drills need the simulated fleet/);
  }, 90_000);
});
