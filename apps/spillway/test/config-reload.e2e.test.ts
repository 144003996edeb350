import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { burstPolicy, loopback, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

const TOKEN = 'reload-test-operator-token';

const config = (maxShare: number) =>
  spillwayConfigYaml({
    tokens: [{ name: 'ops', role: 'operator', token: TOKEN }],
    lab: { 'echo.demo': [loopback(50051, 'lab-a')] },
    policies: [burstPolicy('echo.demo', { steps: [0.1], maxShare })],
  });

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

    const invalid = config(0.5).replace('maxShare: 0.5', 'maxShare: lots');
    await writeFile(file, invalid);
    await cli.waitForStderr(/config reload refused, running config kept: (\S+:\d+:\d+: policies\[0\]\.maxShare)/);
    const line = invalid.split('\n').findIndex((text) => text.includes('maxShare: lots')) + 1;
    expect(cli.stderr).toContain(`${file}:${line}:`);
    expect((await ask(api, 0.6)).detail).toContain('maxShare 0.5');
    expect(cli.child.exitCode).toBeNull();
  });
});
