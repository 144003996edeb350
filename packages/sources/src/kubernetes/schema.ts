import { z } from 'zod';

/**
 * The parts of the Kubernetes objects Spillway reads. Objects reach us in two forms: lists go
 * through the generated client's ObjectSerializer (class instances, unknown fields dropped) and
 * watch events are raw JSON. Both carry the same property names for everything parsed here.
 * Unknown fields are ignored (zod strips them); `null` is accepted wherever the API omits.
 */

const Labels = z.record(z.string(), z.string()).nullish();

/** What the informer cache needs of any object: without a name it cannot be cached at all. */
export const ObjectMeta = z.object({
  name: z.string().min(1),
  namespace: z.string().nullish(),
  resourceVersion: z.string().nullish(),
  labels: Labels,
});

export const KubeObject = z.object({ metadata: ObjectMeta });

/** A list response: the collection version and, when paginated, the continue token. */
export const KubeList = z.object({
  metadata: z.object({
    resourceVersion: z.string().min(1, 'list has no metadata.resourceVersion'),
    // The generated client maps JSON `continue` to `_continue`; raw JSON keeps `continue`.
    _continue: z.string().nullish(),
    continue: z.string().nullish(),
  }),
  items: z.array(z.unknown()),
});

export const EndpointConditions = z.object({
  ready: z.boolean().nullish(),
  serving: z.boolean().nullish(),
  terminating: z.boolean().nullish(),
});

export const SliceEndpoint = z.object({
  addresses: z.array(z.string().min(1)).min(1),
  conditions: EndpointConditions.nullish(),
  nodeName: z.string().nullish(),
  zone: z.string().nullish(),
  targetRef: z.object({ name: z.string().nullish() }).nullish(),
});
export type SliceEndpoint = z.infer<typeof SliceEndpoint>;

export const SlicePort = z.object({
  name: z.string().nullish(),
  port: z.number().int().min(1).max(65535).nullish(),
});
export type SlicePort = z.infer<typeof SlicePort>;

export const EndpointSlice = z.object({
  metadata: ObjectMeta,
  addressType: z.string(),
  endpoints: z.array(SliceEndpoint).nullish(),
  ports: z.array(SlicePort).nullish(),
});
export type EndpointSlice = z.infer<typeof EndpointSlice>;

export const Node = z.object({ metadata: ObjectMeta });
export type Node = z.infer<typeof Node>;

/** A watch event line. BOOKMARK objects carry only kind, apiVersion and metadata.resourceVersion. */
export const WatchEvent = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['ADDED', 'MODIFIED', 'DELETED']), object: KubeObject }),
  z.object({
    type: z.literal('BOOKMARK'),
    object: z.object({ metadata: z.object({ resourceVersion: z.string().min(1) }) }),
  }),
  z.object({ type: z.literal('ERROR'), object: z.object({}).loose() }),
]);

/** A v1 Status, as sent in-band (watch ERROR) or as an error response body. */
export const Status = z.object({
  kind: z.literal('Status').optional(),
  code: z.number().int().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type Status = z.infer<typeof Status>;

/** Short description of a zod failure for a log line or an error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
