import { z } from 'zod';

/**
 * Spillway's Kubernetes custom resources (docs/kubernetes.md). The specs are the config file's
 * own schemas (a BurstPolicy's spec is a `policies:` entry, a Drill's spec a drill file), so
 * the CRDs' openAPIV3Schema, the config and the controller agree by construction.
 */
export const CUSTOM_RESOURCE_GROUP = 'spillway.dev';
export const CUSTOM_RESOURCE_VERSION = 'v1alpha1';
export const CUSTOM_RESOURCE_API_VERSION = `${CUSTOM_RESOURCE_GROUP}/${CUSTOM_RESOURCE_VERSION}`;

export const BURST_POLICY_RESOURCE = {
  kind: 'BurstPolicy',
  listKind: 'BurstPolicyList',
  plural: 'burstpolicies',
  singular: 'burstpolicy',
  shortNames: ['bp'],
} as const;

export const DRILL_RESOURCE = {
  kind: 'Drill',
  listKind: 'DrillList',
  plural: 'drills',
  singular: 'drill',
  shortNames: [] as string[],
} as const;

/** A Kubernetes-style condition (metav1.Condition's fields). */
export const ResourceCondition = z.strictObject({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z
    .string()
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .max(1024),
  message: z.string().max(32768),
  lastTransitionTime: z.iso.datetime({ offset: true }),
  observedGeneration: z.number().int().min(0).optional(),
});
export type ResourceCondition = z.infer<typeof ResourceCondition>;

/** What the controller writes to a BurstPolicy's status subresource. */
export const BurstPolicyStatus = z.strictObject({
  /** The burst phase (idle, scaling-out, shifting, holding, draining, scaling-in, …). */
  phase: z.string().min(1),
  /** Cloud share published to the router now. */
  share: z.number().min(0).max(1),
  /** Cloud share the controller is heading for. */
  targetShare: z.number().min(0).max(1),
  lastTransitionTime: z.iso.datetime({ offset: true }).optional(),
  /** The metadata.generation this status describes. */
  observedGeneration: z.number().int().min(0).optional(),
  conditions: z.array(ResourceCondition).default([]),
});
export type BurstPolicyStatus = z.infer<typeof BurstPolicyStatus>;

/** What the controller writes to a Drill's status subresource. */
export const DrillStatus = z.strictObject({
  phase: z.enum(['Pending', 'Running', 'Passed', 'Failed', 'Error']),
  /** The drill run's id in `GET /v1/drills/{id}`. */
  runId: z.string().optional(),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  finishedAt: z.iso.datetime({ offset: true }).optional(),
  /** One line a person reads: the verdict and its key figures. */
  summary: z.string().max(4096).optional(),
  observedGeneration: z.number().int().min(0).optional(),
  conditions: z.array(ResourceCondition).default([]),
});
export type DrillStatus = z.infer<typeof DrillStatus>;
