import { z } from 'zod';

/**
 * Service-to-service mTLS that the router publishes through xDS (gRPC A29/A36/A41, Envoy SDS).
 * Spillway never holds workload keys: it tells each client and server which certificate
 * provider (gRPC bootstrap `certificate_providers`) or SDS secret to use, which identity a
 * server must present, and who may call it.
 */

/** A trust domain as SPIFFE defines it: lowercase letters, digits, `.`, `-`, `_`. */
export const TrustDomain = z
  .string()
  .regex(/^[a-z0-9._-]{1,255}$/, 'expected a SPIFFE trust domain (lowercase letters, digits, ".", "-", "_")');

const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;
/** `spiffe://DOMAIN/path…` with one trailing `/*` allowed: every identity under that path. */
const SPIFFE_PATTERN = /^spiffe:\/\/([a-z0-9._-]+)((\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*)(\/\*)?$/;

export const SpiffeId = z.string().regex(SPIFFE_ID, 'expected a SPIFFE ID such as spiffe://lab/ns/demo/sa/echo');
export const SpiffeIdPattern = z
  .string()
  .regex(SPIFFE_PATTERN, 'expected a SPIFFE ID, or one ending in /* (spiffe://lab/ns/demo/sa/*)');

/** The trust domain of a SPIFFE ID or pattern (`spiffe://lab/…` → `lab`). */
export function spiffeTrustDomain(id: string): string | undefined {
  return SPIFFE_PATTERN.exec(id)?.[1];
}

/** STRICT: mTLS required. PERMISSIVE: TLS, a client certificate optional. DISABLE: plaintext. */
export const MtlsMode = z.enum(['STRICT', 'PERMISSIVE', 'DISABLE']);
export type MtlsMode = z.infer<typeof MtlsMode>;

export const ServiceSecurity = z.strictObject({
  service: z.string().regex(/^[a-z0-9-_]+\.[a-z0-9-_]+$/, 'expected NAME.NS'),
  mtls: MtlsMode,
  /** Who the service's servers are: clients accept only a certificate with this URI SAN. */
  identity: SpiffeId.optional(),
  /** Who may call: exact SPIFFE IDs or `…/*` prefixes. Empty: any authenticated caller. */
  allowedCallers: z.array(SpiffeIdPattern).default([]),
});
export type ServiceSecurity = z.infer<typeof ServiceSecurity>;

export const MeshSecurity = z.strictObject({
  trustDomain: TrustDomain,
  /** Instance name in the clients' and servers' bootstrap `certificate_providers` (and the SDS secret name for Envoy). */
  certificateProvider: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a certificate provider instance name')
    .default('default'),
  /** SDS secret that carries the trust bundle for Envoy clients and servers. */
  trustBundleSecret: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected an SDS secret name')
    .default('ROOTCA'),
  /** Cluster in the Envoy bootstrap that reaches the local SDS agent (SPIRE agent, istio-agent…). */
  sdsCluster: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'expected a cluster name')
    .default('sds-grpc'),
  services: z.array(ServiceSecurity).default([]),
});
export type MeshSecurity = z.infer<typeof MeshSecurity>;

/** Whether `id` is allowed by `pattern` (exact, or a `/*` prefix that needs at least one more segment). */
export function spiffeIdMatches(pattern: string, id: string): boolean {
  if (!pattern.endsWith('/*')) return pattern === id;
  const prefix = pattern.slice(0, -1);
  return id.startsWith(prefix) && id.length > prefix.length;
}
