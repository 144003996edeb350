import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateKubernetesObject } from '@spillway/test/support/kubernetes-schemas';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from './cli-process.js';

const DIR = mkdtempSync(join(tmpdir(), 'spillway-manifests-'));

function file(name: string, text: string): string {
  const path = join(DIR, name);
  writeFileSync(path, text);
  return path;
}

const VALUES = file(
  'values.yaml',
  `
namespace: mesh
router: { replicas: 5 }
config:
  auth:
    tokens:
      - { name: ops, role: operator, sha256: "${'b'.repeat(64)}" }
  policies:
    - service: checkout.shop
      cloud: { deployment: { cluster: local, namespace: shop, name: checkout } }
      capacity: { replicasAtFullShare: 10, maxReplicas: 10, maxNodes: 2 }
`,
);

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
}

async function manifests(args: string[]): Promise<Rendered[]> {
  const { code, stdout, stderr } = await runCli(['manifests', ...args]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const documents = parseAllDocuments(stdout);
  for (const document of documents) expect(document.errors).toEqual([]);
  return documents.map((document) => document.toJS() as Rendered);
}

describe('`spillway manifests` (the built CLI)', () => {
  it.each([
    ['without values', []],
    ['with --values', ['--values', VALUES]],
  ])('%s prints objects that are all valid Kubernetes, and configs the real loader accepts', async (_name, args) => {
    const objects = await manifests(args);
    for (const object of objects) validateKubernetesObject(object);
    const names = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Deployment/spillway-federation',
        'Deployment/spillway-controller',
        'Deployment/spillway-router',
        'CustomResourceDefinition/burstpolicies.spillway.dev',
        'CustomResourceDefinition/drills.spillway.dev',
      ]),
    );
    // Each process's ConfigMap holds the file its Deployment runs with: `spillway config validate` accepts it.
    const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
    expect(configMaps).toHaveLength(3);
    const validated = await Promise.all(
      configMaps.map((configMap) =>
        runCli(['config', 'validate', file(`${configMap.metadata.name}.yaml`, configMap.data!['config.yaml']!)]),
      ),
    );
    for (const result of validated) expect(result, result.stderr).toMatchObject({ code: 0 });
  });

  it('a bad values file: exit 2, naming the file, line and field', async () => {
    const bad = file('bad-values.yaml', 'router:\n  replicas: two\n');
    const { code, stdout, stderr } = await runCli(['manifests', '--values', bad]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`spillway: invalid values\n${bad}:2:13: router.replicas:`);
  });
});
