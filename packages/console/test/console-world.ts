import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killChild, trackChild } from '@spillway/test/support/child-processes';
import { loopback, quickBurstPolicy, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';

/** The `spillway` command as installed: the compiled CLI, with the console in its bundle. */
const BIN = fileURLToPath(new URL('../../../apps/spillway/bin/spillway.js', import.meta.url));

/** A `spillway up` process on free loopback ports, with its own admin token file. */
export interface RunningSpillway {
  /** `http://127.0.0.1:PORT` */
  readonly api: string;
  readonly token: string;
  output(): string;
  stop(): Promise<void>;
}

/** `spillway up` with the given config (YAML text), or the simulated fleet without one. */
export async function startSpillway(configYaml?: string): Promise<RunningSpillway> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-console-'));
  const tokenFile = join(dir, 'admin-token');
  const args = ['up', '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0'];
  if (configYaml) {
    writeFileSync(join(dir, 'spillway.yaml'), configYaml);
    args.push('--config', join(dir, 'spillway.yaml'));
  }
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', SPILLWAY_TOKEN_FILE: tokenFile },
  });
  trackChild(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const api = await waitFor(() => /console\s+(http:\/\/127\.0\.0\.1:\d+)\/ui/.exec(output)?.[1], {
    timeoutMs: 30_000,
    message: `spillway up's banner (output so far: ${output.slice(-500)})`,
  });
  const token = readFileSync(tokenFile, 'utf8').trim();
  return { api, token, output: () => output, stop: () => killChild(child) };
}

/**
 * A lab with one service on-prem and in the cloud, and a burst policy that steps every second.
 * Load reporting is on (no client reports here: the measured share is `no reports`).
 */
export const LAB_CONFIG = spillwayConfigYaml({
  loadReporting: { enabled: true, intervalSeconds: 1 },
  lab: { 'echo.demo': [loopback(50051, 'lab-a'), loopback(50052, 'lab-b', { health: 'unhealthy' })] },
  cloud: { 'echo.demo': [loopback(50051, 'us-east-1a', { address: '127.0.0.2' })] },
  policies: [
    // Priced, with no capacity it manages (static clusters): the page shows a cost of 0.
    quickBurstPolicy('echo.demo', {
      steps: [0.1, 0.2, 0.3],
      cooldownSeconds: 1,
      capacity: { replicasAtFullShare: 4, maxReplicas: 4, maxNodes: 1 },
      cost: { nodeHourly: 0.5, currency: 'EUR', perBurstBudget: 12, dailyResetTimeZone: 'Europe/Berlin' },
    }),
  ],
});
