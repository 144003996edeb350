import { DrillFile } from '@spillway/drill';
import { BurstPolicy, BurstPolicyStatus, DrillStatus } from '@spillway/model';
import { validateKubernetesObject } from '@spillway/test/support/kubernetes-schemas';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { burstPolicyDefinition, drillDefinition } from '../src/custom-resource-definitions.js';
import type { JsonSchema } from '../src/structural-schema.js';
import { structuralViolations } from './support/structural-rules.js';

/** The openAPIV3Schema of a CRD's only version. */
function schemaOf(crd: ReturnType<typeof burstPolicyDefinition>): JsonSchema {
  const spec = crd.spec as { versions: { schema: { openAPIV3Schema: JsonSchema } }[] };
  return spec.versions[0]!.schema.openAPIV3Schema;
}

/**
 * A validator for a generated schema. Kubernetes' openAPIV3Schema is OpenAPI 3.0's JSON Schema
 * subset, draft 4 in its numeric keywords (boolean exclusiveMinimum): validate with draft 4.
 */
function validatorFor(schema: JsonSchema) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
  ]) {
    ajv.addKeyword(keyword);
  }
  return ajv.compile(schema);
}

/** Checks that the generated schema and zod agree on `object` (both accept or both reject). */
function agreement(zodSchema: z.ZodType, schema: JsonSchema, object: unknown) {
  const validate = validatorFor(schema);
  return { zod: zodSchema.safeParse(object).success, kubernetes: validate(object) as boolean, errors: validate.errors };
}

const POLICY = {
  service: 'checkout.shop',
  slo: {
    latency: { query: 'histogram_quantile(0.99, x)', thresholdSeconds: 0.3 },
    errorBudget: { objective: 0.999, windows: [{ name: '5m', query: 'ratio5m', burnRate: 14.4 }] },
  },
  triggers: { alerts: [{ alertname: 'SpillwayErrorBudgetBurn', labels: { service: 'checkout.shop' } }] },
  cloud: {
    eks: { region: 'eu-west-1', cluster: 'burst', nodegroup: 'checkout' },
    deployment: { cluster: 'cloud', namespace: 'shop', name: 'checkout' },
    route53: {
      hostedZoneId: 'Z1',
      recordName: 'checkout.example.com',
      type: 'CNAME',
      onpremSetIdentifier: 'onprem',
      cloudSetIdentifier: 'cloud',
    },
  },
  steps: [0.1, 0.3],
  maxShare: 0.5,
  capacity: { replicasAtFullShare: 20, maxReplicas: 20, maxNodes: 4 },
  damping: { windowCooldowns: 2, maxFactor: 8 },
};

const DRILL = {
  name: 'zone down',
  target: { service: 'echo.demo', clients: [{ region: 'lab', zone: 'lab-a' }] },
  durationSeconds: 30,
  timeline: [
    { atSeconds: 5, forSeconds: 10, action: { kind: 'zone-down', zone: 'lab-a' } },
    { atSeconds: 6, action: { kind: 'latency', zone: 'lab-b', extraSeconds: 0.2 } },
    { atSeconds: 7, action: { kind: 'router-restart' } },
    { atSeconds: 8, action: { kind: 'force-share', share: 0.2 } },
  ],
  expect: { failoverWithinSeconds: 5, maxFailedRequests: 0 },
};

function withField(object: object, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(object) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

describe('the CRDs generated from the zod schemas', () => {
  it.each([
    ['burstpolicies.spillway.dev', burstPolicyDefinition()],
    ['drills.spillway.dev', drillDefinition()],
  ])('%s is a valid apiextensions.k8s.io/v1 CustomResourceDefinition with a structural schema', (name, crd) => {
    expect(crd.metadata.name).toBe(name);
    expect(() => validateKubernetesObject(crd)).not.toThrow();
    // The validator does look: a CRD with a field of the wrong type is refused.
    const broken = { ...crd, spec: { ...(crd.spec as object), scope: 7 } };
    expect(() => validateKubernetesObject(broken)).toThrow(/CustomResourceDefinition/);
    expect(structuralViolations(schemaOf(crd))).toEqual([]);
  });

  it('BurstPolicy: printer columns SERVICE, PHASE, SHARE, AGE and a status subresource', () => {
    const version = (burstPolicyDefinition().spec as { versions: Record<string, unknown>[] }).versions[0]!;
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns).toMatchObject([
      { name: 'Service', jsonPath: '.spec.service' },
      { name: 'Phase', jsonPath: '.status.phase' },
      { name: 'Share', jsonPath: '.status.share' },
      { name: 'Age', jsonPath: '.metadata.creationTimestamp' },
    ]);
    const drillColumns = (drillDefinition().spec as { versions: Record<string, unknown>[] }).versions[0]!
      .additionalPrinterColumns as { name: string }[];
    expect(drillColumns.map((column) => column.name)).toEqual(['Phase', 'Summary', 'Age']);
  });

  describe('BurstPolicy spec: the generated schema accepts what zod accepts and rejects what zod rejects', () => {
    const spec = (schemaOf(burstPolicyDefinition()).properties as Record<string, JsonSchema>).spec!;
    it.each([
      ['a full policy', POLICY],
      ['the least policy (defaults left out)', { service: 'a.b', capacity: POLICY.capacity }],
    ])('accepts %s', (_name, object) => {
      expect(agreement(BurstPolicy, spec, object)).toMatchObject({ zod: true, kubernetes: true });
    });
    it.each([
      ['a service that is not NAME.NS', ['service'], 'checkout'],
      ['a share above 1', ['maxShare'], 1.5],
      ['a share step of 0', ['steps'], [0, 0.2]],
      ['a string where a number goes', ['stepIntervalSeconds'], '60'],
      ['a fractional replica count', ['capacity', 'maxReplicas'], 2.5],
      ['an unknown route53 record type', ['cloud', 'route53', 'type'], 'MX'],
      ['an objective of 1', ['slo', 'errorBudget', 'objective'], 1],
      ['no error-budget windows', ['slo', 'errorBudget', 'windows'], []],
      ['a missing capacity', ['capacity'], undefined],
      ['a damping cap under 1', ['damping', 'maxFactor'], 0.5],
    ])('rejects %s', (_name, path, value) => {
      const object = withField(POLICY, path as string[], value);
      expect(agreement(BurstPolicy, spec, object)).toMatchObject({ zod: false, kubernetes: false });
    });
  });

  describe('Drill spec: the actions union is structural and exact', () => {
    const spec = (schemaOf(drillDefinition()).properties as Record<string, JsonSchema>).spec!;
    it('accepts a drill with several kinds of action', () => {
      expect(agreement(DrillFile, spec, DRILL)).toMatchObject({ zod: true, kubernetes: true });
    });
    it.each([
      ['an unknown action kind', ['timeline', 0, 'action'], { kind: 'meteor', zone: 'lab-a' }],
      ['a zone-down without its zone', ['timeline', 0, 'action'], { kind: 'zone-down' }],
      ['a field of another kind', ['timeline', 0, 'action'], { kind: 'zone-down', zone: 'a', share: 0.5 }],
      ['a share above 1', ['timeline', 3, 'action', 'share'], 2],
      ['latency above 10 s', ['timeline', 1, 'action', 'extraSeconds'], 11],
      ['a negative start', ['timeline', 0, 'atSeconds'], -1],
      ['an unknown mode', ['mode'], 'chaos'],
      ['no client', ['target', 'clients'], []],
      ['a fractional failed-request count', ['expect', 'maxFailedRequests'], 0.5],
    ])('rejects %s', (_name, path, value) => {
      expect(agreement(DrillFile, spec, withField(DRILL, path as (string | number)[], value))).toMatchObject({
        zod: false,
        kubernetes: false,
      });
    });
  });

  it('status schemas accept what the controller writes and refuse a phase or share out of range', () => {
    const status = (crd: ReturnType<typeof burstPolicyDefinition>) =>
      (schemaOf(crd).properties as Record<string, JsonSchema>).status!;
    const written = {
      phase: 'shifting',
      share: 0.25,
      targetShare: 0.5,
      lastTransitionTime: '2026-12-04T22:00:00Z',
      observedGeneration: 3,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Applied', message: '', lastTransitionTime: '2026-12-04T22:00:00Z' },
      ],
    };
    expect(agreement(BurstPolicyStatus, status(burstPolicyDefinition()), written)).toMatchObject({
      zod: true,
      kubernetes: true,
    });
    expect(agreement(BurstPolicyStatus, status(burstPolicyDefinition()), { ...written, share: 1.2 })).toMatchObject({
      zod: false,
      kubernetes: false,
    });
    expect(agreement(DrillStatus, status(drillDefinition()), { phase: 'Exploded', conditions: [] })).toMatchObject({
      zod: false,
      kubernetes: false,
    });
  });
});
