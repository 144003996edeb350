import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BURST_CLOUD_REGION,
  BURST_SERVICE,
  type BurstWorldFiles,
  type BurstWorldOptions,
  writeBurstWorldFiles,
} from '@spillway/test/support/burst-world-files';
import { hasExited, killChild, trackChild } from '@spillway/test/support/child-processes';
import { CliProcess } from '../cli-process.js';

/**
 * The world of the three-process test: config files for `spillway federation`, `controller` and
 * `router`, a kubeconfig for the fake Kubernetes API (@spillway/test/support/burst-world-files),
 * and child processes that are always stopped.
 */

export const SERVICE = BURST_SERVICE;
export const TOKENS = { operator: 'three-process-operator-token', webhook: 'three-process-webhook-token' };
export const K8S_TOKEN = 'three-process-k8s-token';
/** The federation's cloud region (its endpoints are `environment: cloud`). */
export const CLOUD_REGION = BURST_CLOUD_REGION;

export interface WorldFiles extends BurstWorldFiles {
  readonly routerConfig: string;
}

export type WorldTargets = Pick<BurstWorldOptions, 'redisUrl' | 'kubernetesUrl' | 'dns'>;

/** Writes the config files into a fresh temp dir. */
export async function writeWorldFiles(targets: WorldTargets): Promise<WorldFiles> {
  // The controller: an operator and a webhook token, and the policy of
  // apps/controller/test/alert-loop.e2e.test.ts (test-short timings, the infra page alert as its
  // trigger).
  const files = await writeBurstWorldFiles({
    ...targets,
    tempPrefix: 'spillway-three-',
    kubernetesToken: K8S_TOKEN,
    tokens: [
      { name: 'ops', role: 'operator', token: TOKENS.operator },
      { name: 'alertmanager', role: 'webhook', token: TOKENS.webhook },
    ],
    policy: { pageAlert: 'SpillwayErrorBudgetBurn', steps: [0.1, 0.25], minDwellSeconds: 2, cooldownSeconds: 3 },
  });
  // The router needs only Redis: it reads the traffic policies the controller writes.
  const routerConfig = join(files.dir, 'router.yaml');
  await writeFile(routerConfig, `redis: ${targets.redisUrl}\n`);
  return { ...files, routerConfig };
}

/** `spillway ARGS` as a child process, followed so that a dying runner leaves none behind. */
export function spawnSpillway(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const cli = new CliProcess(args, env);
  trackChild(cli.child);
  return cli;
}

/**
 * SIGTERM, then SIGKILL if it is still there after `graceMs` (a controller stopping gracefully
 * waits for its active jobs, and a Route 53 job polls GetChange every 30 s).
 */
export async function stopSpillway(cli: CliProcess, graceMs = 5_000): Promise<void> {
  if (!hasExited(cli.child)) {
    cli.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      cli.exited,
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }
  await killChild(cli.child);
}
