import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customResourcesKubeConfig } from '@spillway/controller';
import type { DrillStatus } from '@spillway/model';
import { silentLogger } from '@spillway/observability';
import { FakeKubernetesApi } from '@spillway/test/fakes/kubernetes-api';
import { writeFakeKubeconfig } from '@spillway/test/support/fake-kubeconfig';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import { DrillRefusal, NO_DRILL_SERVICE } from '../src/drill-refusal.js';

let k8s: FakeKubernetesApi | undefined;
let refusal: DrillRefusal | undefined;
let dir: string | undefined;
afterEach(async () => {
  await refusal?.stop();
  await k8s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  k8s = refusal = dir = undefined;
});

const drill = (name: string, durationSeconds = 2) => ({
  apiVersion: 'spillway.dev/v1alpha1',
  kind: 'Drill',
  metadata: { name, namespace: 'spillway' },
  spec: { name, mode: 'live', target: { service: 'cart.shop', clients: [] }, durationSeconds, timeline: [] },
});

const statusOf = (name: string) =>
  (k8s?.customObject('drills', 'spillway', name) as { status?: DrillStatus } | undefined)?.status;

describe('Drill objects under spillway controller (no drill service; Kubernetes fake)', () => {
  it('are answered: status Error (Admitted=False, NoDrillService) and one Warning event, by the leader only', async () => {
    k8s = await FakeKubernetesApi.start();
    dir = mkdtempSync(join(tmpdir(), 'spillway-drill-refusal-'));
    const kubeconfig = writeFakeKubeconfig(k8s, dir);
    let leader = false;
    refusal = new DrillRefusal({
      kubeConfig: customResourcesKubeConfig({
        kubeconfig,
        namespace: 'spillway',
        drills: true,
        statusIntervalSeconds: 0.1,
      }),
      namespace: 'spillway',
      isLeader: () => leader,
      owner: 'controller-a',
      logger: silentLogger(),
      intervalMs: 100,
    });
    refusal.start();
    await waitFor(() => k8s!.openWatchCount('drills') === 1, { message: 'the Drill watch open' });
    k8s.createCustomObject('drills', drill('game-day'));
    // A follower writes nothing; the leader answers.
    await waitFor(() => k8s!.requestsFor('drills', 'list').length >= 1, { message: 'Drills listed' });
    expect(statusOf('game-day')).toBeUndefined();
    leader = true;
    const status = await waitFor(() => statusOf('game-day'), { message: 'the Drill answered' });
    expect(status).toMatchObject({ phase: 'Error', summary: NO_DRILL_SERVICE, observedGeneration: 1 });
    expect(status.conditions).toEqual([
      expect.objectContaining({ type: 'Admitted', status: 'False', reason: 'NoDrillService' }),
    ]);
    const warnings = () => k8s!.events.filter((e) => (e.involvedObject as { name?: string }).name === 'game-day');
    expect(warnings()).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'NoDrillService', message: NO_DRILL_SERVICE }),
    ]);
    // A new generation of the spec is answered again, with an event of its own.
    k8s.updateCustomObject('drills', 'spillway', 'game-day', (object) => {
      object.spec = drill('game-day', 3).spec;
    });
    await waitFor(() => statusOf('game-day')?.observedGeneration === 2, { message: 'generation 2 answered' });
    await waitFor(() => warnings().length === 2, { message: 'a second Warning event' });
  });
});
