import { DrillFile } from '@spillway/drill';
import {
  BURST_POLICY_RESOURCE,
  BurstPolicy,
  BurstPolicyStatus,
  CUSTOM_RESOURCE_GROUP,
  CUSTOM_RESOURCE_VERSION,
  DRILL_RESOURCE,
  DrillStatus,
} from '@spillway/model';
import { z } from 'zod';
import type { KubernetesObject } from './kubernetes-object.js';
import { type JsonSchema, toStructuralSchema } from './structural-schema.js';

interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'number' | 'integer' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description?: string;
}

/** The openAPIV3Schema of a zod schema as users write it (defaults make fields optional). */
export function structuralSchemaOf(schema: z.ZodType): JsonSchema {
  // Refinements (cross-field checks) have no JSON Schema form: 'any' leaves them out, and the
  // controller, which parses every object with this same zod schema, reports them.
  return toStructuralSchema(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

/** Conditions are a list keyed by type, as metav1.Condition lists are (server-side apply merges them). */
function statusSchema(schema: z.ZodType): JsonSchema {
  const status = structuralSchemaOf(schema);
  const properties = status.properties as Record<string, JsonSchema>;
  properties.conditions = {
    ...properties.conditions,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  };
  return status;
}

function customResourceDefinition(
  names: typeof BURST_POLICY_RESOURCE | typeof DRILL_RESOURCE,
  description: string,
  spec: z.ZodType,
  status: z.ZodType,
  columns: PrinterColumn[],
): KubernetesObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${names.plural}.${CUSTOM_RESOURCE_GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'spillway' },
    },
    spec: {
      group: CUSTOM_RESOURCE_GROUP,
      scope: 'Namespaced',
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        ...(names.shortNames.length > 0 ? { shortNames: [...names.shortNames] } : {}),
        categories: ['spillway'],
      },
      versions: [
        {
          name: CUSTOM_RESOURCE_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: structuralSchemaOf(spec),
                status: statusSchema(status),
              },
            },
          },
        },
      ],
    },
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** `burstpolicies.spillway.dev`: a BurstPolicy's spec is one `policies:` entry of the config file. */
export function burstPolicyDefinition(): KubernetesObject {
  return customResourceDefinition(
    BURST_POLICY_RESOURCE,
    "One service's bursting policy: the same fields as an entry of the config file's `policies:`.",
    BurstPolicy,
    BurstPolicyStatus,
    [
      { name: 'Service', type: 'string', jsonPath: '.spec.service', description: 'NAME.NS' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Share', type: 'number', jsonPath: '.status.share', description: 'cloud share published now' },
      AGE,
    ],
  );
}

/** `drills.spillway.dev`: a Drill's spec is a drill file (docs/drills.md). */
export function drillDefinition(): KubernetesObject {
  return customResourceDefinition(
    DRILL_RESOURCE,
    'A game-day drill: the same fields as a drill file.',
    DrillFile,
    DrillStatus,
    [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Summary', type: 'string', jsonPath: '.status.summary' },
      AGE,
    ],
  );
}

export function customResourceDefinitions(): KubernetesObject[] {
  return [burstPolicyDefinition(), drillDefinition()];
}
