import type { PeerCertificate } from 'node:tls';

/**
 * The identity an xDS client proves with its certificate: the SPIFFE ID in its URI SAN (how
 * Istio, Consul and Linkerd name workloads), else the subject's common name. Null without a
 * certificate (plaintext on loopback).
 */
export function peerIdentity(certificate: PeerCertificate | undefined): string | null {
  if (!certificate) return null;
  const spiffe = uriSans(certificate.subjectaltname).find((uri) => uri.startsWith('spiffe://'));
  if (spiffe) return spiffe;
  const commonName = certificate.subject?.CN as string | string[] | undefined;
  const first = Array.isArray(commonName) ? commonName[0] : commonName;
  return first && first.length > 0 ? first : null;
}

/**
 * URI entries of Node's `subjectaltname` (`URI:a, DNS:b`). Node quotes an entry that contains a
 * comma as a JSON string (`URI:"a,b"`); such an entry is no valid SPIFFE ID, so it is skipped.
 */
function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith('URI:') && !entry.startsWith('URI:"'))
    .map((entry) => entry.slice('URI:'.length));
}
