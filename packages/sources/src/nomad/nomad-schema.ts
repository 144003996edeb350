import { z } from 'zod';

/** `GET /v1/services`: services per Nomad namespace. */
export const NomadServiceList = z.array(
  z.object({
    Namespace: z.string().min(1),
    Services: z.array(z.object({ ServiceName: z.string().min(1), Tags: z.array(z.string()).nullish() })).nullish(),
  }),
);
export type NomadServiceList = z.infer<typeof NomadServiceList>;

/** One `ServiceRegistration` of `GET /v1/service/:name` (fields Spillway reads). */
export const NomadServiceRegistration = z.object({
  ID: z.string().min(1),
  ServiceName: z.string().min(1),
  Namespace: z.string().min(1),
  NodeID: z.string(),
  Datacenter: z.string(),
  JobID: z.string(),
  AllocID: z.string(),
  Address: z.string().min(1),
  Port: z.number().int().min(0).max(65535),
  Tags: z.array(z.string()).nullish(),
});
export type NomadServiceRegistration = z.infer<typeof NomadServiceRegistration>;

export const NomadServiceRead = z.array(NomadServiceRegistration);
