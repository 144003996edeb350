import type { BurstWorldOptions } from '@spillway/test/support/burst-world';
import { BURST_CLOUD_REGION, BURST_SERVICE } from '@spillway/test/support/burst-world-files';
import { hasExited, killChild, trackChild } from '@spillway/test/support/child-processes';
import { CliProcess } from '../cli-process.js';

/**
 * The world of the three-process tests: what the config files of `spillway federation`,
 * `controller` and `router` say (@spillway/test/support/burst-world starts the cloud fakes, Redis
 * and the processes), and child processes that are always stopped.
 */

export const SERVICE = BURST_SERVICE;
export const TOKENS = { operator: 'three-process-operator-token', webhook: 'three-process-webhook-token' };
export const K8S_TOKEN = 'three-process-k8s-token';
/** The federation's cloud region (its endpoints are `environment: cloud`). */
export const CLOUD_REGION = BURST_CLOUD_REGION;

/**
 * The controller: an operator and a webhook token, and the policy of
 * apps/controller/test/alert-loop.e2e.test.ts (test-short timings, the infra page alert as its
 * trigger). The router needs only Redis: it reads the traffic policies the controller writes.
 */
export const THREE_PROCESS_FILES: BurstWorldOptions['files'] = {
  tempPrefix: 'spillway-three-',
  tokens: [
    { name: 'ops', role: 'operator', token: TOKENS.operator },
    { name: 'alertmanager', role: 'webhook', token: TOKENS.webhook },
  ],
  policy: { pageAlert: 'SpillwayErrorBudgetBurn', steps: [0.1, 0.25], minDwellSeconds: 2, cooldownSeconds: 3 },
};

/** `spillway ARGS` as the world's processes run. */
export const spawnCli: BurstWorldOptions['spawn'] = (args, env) => new CliProcess(args, env);

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
