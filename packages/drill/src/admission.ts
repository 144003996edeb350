import type { CatalogReader } from '@spillway/model';
import type { DrillFile } from './drill-file.js';

export interface AdmissionContext {
  readonly catalog: CatalogReader;
  /** The burst policy's maxShare for a service, when this process knows its policies. */
  readonly maxShare?: (service: string) => number | undefined;
  /** Whether the simulated fleet here runs mesh mTLS (what an `mtls: true` drill needs). */
  readonly meshMtls?: boolean;
}

/**
 * Checks a drill against the running system before it starts: its target must be in the
 * catalog, and it may not force more cloud share than the service's burst policy allows.
 * Returns the reason it is refused, or undefined.
 */
export function admitDrill(drill: DrillFile, context: AdmissionContext): string | undefined {
  const service = drill.target.service;
  if (!context.catalog.current().services.has(service)) return `no service ${service} in the catalog`;
  if (drill.mtls && !context.meshMtls) {
    return 'this drill needs a simulated fleet with mesh mTLS: run it with `spillway drill run FILE` (without --api)';
  }
  const maxShare = context.maxShare?.(service);
  if (maxShare === undefined) return undefined;
  for (const entry of drill.timeline) {
    if (entry.action.kind === 'force-share' && entry.action.share > maxShare) {
      return `timeline entry forces share ${entry.action.share}, above the burst policy's maxShare ${maxShare} for ${service}`;
    }
  }
  return undefined;
}
