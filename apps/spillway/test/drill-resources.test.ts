import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomResourcesSettings } from '@spillway/config';
import type { DrillStatus } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { writeFakeKubeconfig } from '@spillway/test/support/fake-kubeconfig';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoFleet, startDemoFleet } from '../src/demo-fleet.js';
import { type EmbeddedStack, startEmbeddedStack } from '../src/embedded-stack.js';

let k8s: FakeKubernetesApi | undefined;
let demo: DemoFleet | undefined;
let stack: EmbeddedStack | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.stop();
  await demo?.fleet.stop();
  await k8s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  k8s = demo = stack = dir = undefined;
});

const drill = (name: string, spec: unknown) => ({
  apiVersion: 'spillway.dev/v1alpha1',
  kind: 'Drill',
  metadata: { name, namespace: 'spillway' },
  spec,
});

const statusOf = (name: string) =>
  (k8s?.customObject('drills', 'spillway', name) as { status?: DrillStatus } | undefined)?.status;

describe('Drill custom resources run through the drill service of spillway up (simulated fleet, Kubernetes fake)', () => {
  it('a Drill runs once and reports Running → its verdict; a bad one is an Error with a Warning event', async () => {
    k8s = await FakeKubernetesApi.start();
    dir = mkdtempSync(join(tmpdir(), 'spillway-drill-crs-'));
    const kubeconfig = writeFakeKubeconfig(k8s, dir);
    const logger = silentLogger();
    const traffic = new InMemoryTrafficPolicyStore();
    demo = await startDemoFleet(logger, traffic);
    const customResources = CustomResourcesSettings.parse({
      kubeconfig,
      namespace: 'spillway',
      statusIntervalSeconds: 0.2,
    });
    stack = await startEmbeddedStack({
      config: { ...demo.config, customResources },
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      traffic,
      fleet: demo.fleet,
      httpAddress: '127.0.0.1:0',
      xdsAddress: '127.0.0.1:0',
      auth: () => undefined,
    });
    await waitFor(() => stack!.federation.store.current().services.has('cart.shop'), { message: 'cart.shop' });
    await waitFor(() => k8s!.openWatchCount('drills') === 1, { message: 'the Drill watch open' });

    k8s.createCustomObject(
      'drills',
      drill('quick', {
        name: 'quick',
        mode: 'simulated',
        target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
        durationSeconds: 2,
        timeline: [],
      }),
    );
    const running = await waitFor(() => (statusOf('quick')?.phase === 'Running' ? statusOf('quick') : undefined), {
      message: 'the Drill running',
    });
    expect(running.runId).toMatch(/^drill-/);
    expect(stack.drills.get(running.runId!)?.actor).toBe('Drill spillway/quick');
    const done = await waitFor(
      () => {
        const status = statusOf('quick');
        return status && ['Passed', 'Failed', 'Error'].includes(status.phase) ? status : undefined;
      },
      { message: 'the Drill finished', timeoutMs: 60_000 },
    );
    const report = await stack.drills.report(running.runId!);
    expect(done.phase, JSON.stringify(report?.expectations)).toBe('Passed');
    expect(done).toMatchObject({ runId: running.runId, observedGeneration: 1 });
    expect(done.summary).toMatch(/^PASSED: ran \d+\.\d s, \d+ probe requests/);
    expect(report?.requests.total).toBeGreaterThan(0);
    // Each generation runs once: nothing starts again while the spec stays the same.
    expect(stack.drills.list()).toHaveLength(1);

    k8s.createCustomObject('drills', drill('broken', { name: 'broken', mode: 'simulated', durationSeconds: 'long' }));
    const event = await waitFor(
      () => k8s!.events.find((e) => (e.involvedObject as { name?: string }).name === 'broken'),
      {
        message: 'a Warning event on the bad Drill',
      },
    );
    expect(event).toMatchObject({ type: 'Warning', reason: 'Invalid', involvedObject: { kind: 'Drill' } });
    expect(event.message).toContain('spec.durationSeconds: ');
    expect(event.message).toContain('spec.target: ');
    const refused = await waitFor(() => statusOf('broken'), { message: 'status on the bad Drill' });
    expect(refused.phase).toBe('Error');
    expect(refused.conditions.find((c) => c.type === 'Admitted')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(stack.drills.list()).toHaveLength(1);
  }, 120_000);
});
