import { stringify } from 'yaml';
import { customResourceDefinitions } from './custom-resource-definitions.js';
import type { KubernetesObject } from './kubernetes-object.js';
import { labels } from './labels.js';
import { monitoringObjects } from './monitoring.js';
import { networkPolicies } from './network-policies.js';
import { checkProcessConfig, PROCESSES, processConfig } from './process-config.js';
import { rbacObjects } from './rbac.js';
import { redisObjects } from './redis.js';
import type { ManifestValues } from './values.js';
import { processObjects } from './workloads.js';

export interface RenderOptions {
  /** The image tag when the values give none: the version of the `spillway` that renders. */
  readonly version: string;
  /** Named in errors about the values' `config` (`values.yaml: config.policies[0]…`). */
  readonly valuesFile?: string;
}

/**
 * Every object of the distributed mode, in an order `kubectl apply -f -` can create them in:
 * the namespace and CRDs first, then identities and permissions, then what runs.
 */
export function renderManifests(values: ManifestValues, options: RenderOptions): KubernetesObject[] {
  for (const process of PROCESSES) checkProcessConfig(processConfig(values, process), options.valuesFile ?? '<values>');
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: values.namespace,
        // Every Spillway pod meets the "restricted" Pod Security Standard: let the namespace say so.
        labels: { ...labels('namespace'), 'pod-security.kubernetes.io/enforce': 'restricted' },
      },
    },
    ...customResourceDefinitions(),
    ...rbacObjects(values),
    ...PROCESSES.flatMap((process) => processObjects(values, process, options.version)),
    ...redisObjects(values),
    ...networkPolicies(values),
    ...monitoringObjects(values),
  ];
}

/** Multi-document YAML, one object per document, as `kubectl apply -f -` reads it. */
export function toYamlDocuments(objects: readonly KubernetesObject[]): string {
  return objects.map((object) => `---\n${stringify(object, { lineWidth: 0 })}`).join('');
}
