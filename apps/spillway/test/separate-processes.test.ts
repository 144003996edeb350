import { waitFor } from '@spillway/test/support/wait';
import { fetchAssignment } from '@spillway/xds/test-support/fetch-assignment';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
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
});
