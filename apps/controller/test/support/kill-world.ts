import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  type BurstWorldFiles,
  type BurstWorldOptions,
  writeBurstWorldFiles,
} from '@spillway/test/support/burst-world-files';

/**
 * Files and processes for the kill -9 test: the federation's and the controller's config files
 * and a kubeconfig for the fake Kubernetes API (see @spillway/test/support/burst-world-files,
 * which also has the AWS environment that points the SDK at the fakes), and a bounded stop for
 * child processes.
 */

export const OPERATOR_TOKEN = 'kill-test-operator-token';
export const K8S_TOKEN = 'kill-test-k8s-token';

export type KillWorldFiles = BurstWorldFiles;

export type KillWorldTargets = Pick<BurstWorldOptions, 'redisUrl' | 'kubernetesUrl' | 'dns'>;

/**
 * Writes the three files into a fresh temp dir: an operator token, and a policy without
 * triggers (the test starts bursts through the API) with short dwell and cooldown.
 */
export function writeKillWorldFiles(targets: KillWorldTargets): Promise<KillWorldFiles> {
  return writeBurstWorldFiles({
    ...targets,
    tempPrefix: 'spillway-kill-',
    kubernetesToken: K8S_TOKEN,
    tokens: [{ name: 'ops', role: 'operator', token: OPERATOR_TOKEN }],
    policy: { steps: [0.1, 0.3], minDwellSeconds: 1, cooldownSeconds: 1 },
  });
}

function exited(child: ChildProcessWithoutNullStreams): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited (at once if it already has). */
export async function childExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (exited(child)) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/**
 * SIGTERM, then SIGKILL if the child is still there after `graceMs`: a controller stopping
 * gracefully waits for its active jobs, and a Route 53 job polls GetChange every 30 s.
 */
export async function stopChild(child: ChildProcessWithoutNullStreams, graceMs = 5_000): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const result = await Promise.race([childExit(child).then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (result === 'timeout' && !exited(child)) {
    child.kill('SIGKILL');
    await childExit(child);
  }
}
