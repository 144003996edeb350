import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { writeFakeKubeconfig } from '@spillway/test/support/fake-kubeconfig';
import { burstPolicy, loopback, spillwayConfigYaml } from '@spillway/test/support/spillway-config';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

/** One static service; echo.demo's policy in the file (or none), BurstPolicy resources from `kubeconfig`. */
const config = (kubeconfig: string, filePolicy: boolean) =>
  spillwayConfigYaml({
    lab: { 'echo.demo': [loopback(50051, 'lab-a')] },
    customResources: { kubeconfig, namespace: 'demo', drills: false },
    policies: filePolicy ? [burstPolicy('echo.demo')] : [],
  });

let cli: CliProcess | undefined;
let k8s: FakeKubernetesApi | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cli?.stop();
  await k8s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  cli = k8s = dir = undefined;
});

describe('spillway up counts the burst policies in force, not only the file’s (child process, Kubernetes fake)', () => {
  it('the banner says where they come from, and a line follows each change of the set', async () => {
    k8s = await FakeKubernetesApi.start();
    k8s.createCustomObject('burstpolicies', {
      apiVersion: 'spillway.dev/v1alpha1',
      kind: 'BurstPolicy',
      metadata: { name: 'other', namespace: 'demo' },
      spec: burstPolicy('other.demo'),
    });
    dir = await mkdtemp(join(tmpdir(), 'spillway-up-policies-'));
    const kubeconfig = writeFakeKubeconfig(k8s, dir);
    const file = join(dir, 'spillway.yaml');
    await writeFile(file, config(kubeconfig, true));
    cli = new CliProcess(['up', '--config', file, '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);

    // Whether the resource is listed before the banner prints is a race; the count says which.
    const banner = await cli.waitForOutput(/bursts .*\(([^)]*)\)\n/);
    expect(banner).toMatch(/^(1 burst policy|2 burst policies): 1 from the file, [01] from BurstPolicy resources$/);
    await cli.waitForOutput(/2 burst policies: 1 from the file, 1 from BurstPolicy resources/);

    k8s.deleteCustomObject('burstpolicies', 'demo', 'other');
    await cli.waitForOutput(
      /policies 1 burst policy: 1 from the file, 0 from BurstPolicy resources {2}\(removed other\.demo\)\n/,
    );
    await writeFile(file, config(kubeconfig, false));
    await cli.waitForOutput(
      /policies 0 burst policies: 0 from the file, 0 from BurstPolicy resources {2}\(removed echo\.demo\)\n/,
    );
  });
});
