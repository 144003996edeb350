import type { BurstWorldOptions } from '@spillway/test/support/burst-world';
import { CliProcess } from '../../../spillway/test/cli-process.js';

/**
 * The world of the controller's process tests (kill -9, SIGTERM): what their config files say,
 * for @spillway/test/support/burst-world, which starts the cloud fakes, Redis and the processes.
 */

export const OPERATOR_TOKEN = 'kill-test-operator-token';
export const K8S_TOKEN = 'kill-test-k8s-token';

/**
 * An operator token, and a policy without triggers (the tests start bursts through the API) with
 * short dwell and cooldown.
 */
export const KILL_WORLD_FILES: BurstWorldOptions['files'] = {
  tempPrefix: 'spillway-kill-',
  tokens: [{ name: 'ops', role: 'operator', token: OPERATOR_TOKEN }],
  policy: { steps: [0.1, 0.3], minDwellSeconds: 1, cooldownSeconds: 1 },
};

/** `spillway ARGS` as the world's processes run. */
export const spawnCli: BurstWorldOptions['spawn'] = (args, env) => new CliProcess(args, env);
