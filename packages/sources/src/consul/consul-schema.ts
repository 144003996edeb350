import { z } from 'zod';

/** Go nil maps serialise as `null`: every map field accepts it. */
const StringMap = z.record(z.string(), z.string()).nullish();

/** `GET /v1/catalog/services`: service name → tags. */
export const ConsulCatalogServices = z.record(z.string(), z.array(z.string()).nullable());
export type ConsulCatalogServices = z.infer<typeof ConsulCatalogServices>;

export const ConsulCheckStatus = z.enum(['passing', 'warning', 'critical']);

export const ConsulCheck = z.object({
  CheckID: z.string(),
  Status: ConsulCheckStatus,
  ServiceID: z.string().nullish(),
});
export type ConsulCheck = z.infer<typeof ConsulCheck>;

/** One element of `GET /v1/health/service/:name` (fields Spillway reads; the rest pass through). */
export const ConsulServiceEntry = z.object({
  Node: z.object({
    Node: z.string(),
    Address: z.string(),
    Datacenter: z.string().nullish(),
    Meta: StringMap,
  }),
  Service: z.object({
    ID: z.string(),
    Service: z.string(),
    Address: z.string().nullish(),
    Port: z.number().int().min(0).max(65535),
    Meta: StringMap,
    Weights: z.object({ Passing: z.number().int(), Warning: z.number().int() }).nullish(),
  }),
  Checks: z.array(ConsulCheck).nullish(),
});
export type ConsulServiceEntry = z.infer<typeof ConsulServiceEntry>;

export const ConsulHealthService = z.array(ConsulServiceEntry);
