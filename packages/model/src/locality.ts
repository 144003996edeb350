import { z } from 'zod';

/** Where a workload runs: the on-prem estate or a cloud region it can spill into. */
export const Environment = z.enum(['onprem', 'cloud']);
export type Environment = z.infer<typeof Environment>;

/** xDS-compatible locality: region / zone / sub-zone. Empty strings mean "unknown". */
export const Locality = z.object({
  region: z.string().default(''),
  zone: z.string().default(''),
  subZone: z.string().default(''),
});
export type Locality = z.infer<typeof Locality>;

/** A stable string key for a locality, used to group endpoints. */
export function localityKey(locality: Locality): string {
  return `${locality.region}/${locality.zone}/${locality.subZone}`;
}
