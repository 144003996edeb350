import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

const TOKEN = 'reload-test-operator-token';

const config = (maxShare: number | string) => `auth:
  tokens:
    - { name: ops, role: operator, sha256: "${createHash('sha256').update(TOKEN).digest('hex')}" }
clusters:
  - name: lab
    kind: static
    environment: onprem
    region: lab
    services:
      - name: echo
        namespace: demo
        endpoints:
          - { address: 127.0.0.1, port: 50051, zone: lab-a }
policies:
  - service: echo.demo
    cloud: {}
    steps: [0.1]
    maxShare: ${maxShare}
    capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }
`;

let cli: CliProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cli?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  cli = dir = undefined;
});

async function ask(api: string, share: number): Promise<{ status: number; detail: string }> {
  const response = await fetch(`${api}/v1/bursts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'echo.demo', share, reason: 'reload test' }),
  });
  const body = (await response.json()) as { detail?: string };
  return { status: response.status, detail: body.detail ?? '' };
}

describe('spillway up reloads its config file (child process)', () => {
  it('applies a changed policy without a restart, reloads on SIGHUP, and keeps the running policy when the file is invalid', async () => {
    dir = await mkdtemp(join(tmpdir(), 'spillway-up-reload-'));
    const file = join(dir, 'spillway.yaml');
    await writeFile(file, config(0.3));
    cli = new CliProcess(['up', '--config', file, '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0'], {
      LOG_LEVEL: 'info',
    });
    const api = await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    expect((await ask(api, 0.6)).detail).toContain("above the policy's maxShare 0.3");

    await writeFile(file, config(0.5));
    await waitFor(async () => (await ask(api, 0.6)).detail.includes('maxShare 0.5'), {
      message: 'the new maxShare in force',
    });

    cli.child.kill('SIGHUP');
    await cli.waitForLog(/SIGHUP: reloading the config file/);

    await writeFile(file, config('lots'));
    await cli.waitForStderr(/config reload refused, running config kept: (\S+:\d+:\d+: policies\[0\]\.maxShare)/);
    expect(cli.stderr).toContain(`${file}:18:`);
    expect((await ask(api, 0.6)).detail).toContain('maxShare 0.5');
    expect(cli.child.exitCode).toBeNull();
  });
});
