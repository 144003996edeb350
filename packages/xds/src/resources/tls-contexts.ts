import type { MeshSecurity, ServiceSecurity } from '@spillway/model';
import { encodeMessage } from '../encoded-resource.js';
import { envoyProtos } from '../envoy-protos.js';
import { DOWNSTREAM_TLS_CONTEXT_TYPE_URL, RBAC_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL } from '../type-urls.js';

/**
 * The TLS and RBAC pieces of mesh security, in the two dialects the router's clients speak:
 * - `grpc` (gRFC A29/A36/A41): certificates come from the bootstrap's certificate provider
 *   instances; gRPC rejects SDS references.
 * - `envoy`: certificates come from SDS secrets served by a local agent; Envoy does not
 *   implement certificate provider instances.
 * Both dialects carry the same identity check and the same callers.
 */
export type TlsDialect = 'grpc' | 'envoy';

const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

/** A `transport_socket` for a Cluster: the client presents its certificate and checks the server's identity. */
export function upstreamTransportSocket(mesh: MeshSecurity, entry: ServiceSecurity, dialect: TlsDialect): object {
  const identity = entry.identity ?? '';
  const sanCheck =
    dialect === 'grpc'
      ? { match_subject_alt_names: [{ exact: identity }] }
      : { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: identity } }] };
  const combined =
    dialect === 'grpc'
      ? { default_validation_context: { ...grpcTrust(mesh), ...sanCheck } }
      : {
          default_validation_context: sanCheck,
          validation_context_sds_secret_config: sdsSecret(mesh, mesh.trustBundleSecret),
        };
  const context = {
    common_tls_context: { ...certificateSource(mesh, dialect), combined_validation_context: combined },
  };
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      type_url: UPSTREAM_TLS_CONTEXT_TYPE_URL,
      value: encodeMessage(envoyProtos().UpstreamTlsContext, context),
    },
  };
}

/**
 * A `transport_socket` for a server's filter chain. STRICT requires a client certificate;
 * PERMISSIVE asks for one but accepts callers without (RBAC still applies to those that send one).
 */
export function downstreamTransportSocket(mesh: MeshSecurity, entry: ServiceSecurity, dialect: TlsDialect): object {
  const context = {
    common_tls_context: {
      ...certificateSource(mesh, dialect),
      ...(dialect === 'grpc'
        ? { validation_context: grpcTrust(mesh) }
        : { validation_context_sds_secret_config: sdsSecret(mesh, mesh.trustBundleSecret) }),
    },
    require_client_certificate: { value: entry.mtls === 'STRICT' },
  };
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      type_url: DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
      value: encodeMessage(envoyProtos().DownstreamTlsContext, context),
    },
  };
}

/**
 * The RBAC HTTP filter that admits `allowedCallers` (exact IDs, or `/*` prefixes), or none when
 * any authenticated caller may call. Under PERMISSIVE a caller without a certificate is admitted
 * too: A41 gives such a caller the principal name "" — that is what PERMISSIVE means.
 */
export function rbacHttpFilter(entry: ServiceSecurity): object | undefined {
  if (entry.allowedCallers.length === 0) return undefined;
  const callers = entry.allowedCallers.map((pattern) => ({
    authenticated: { principal_name: pattern.endsWith('/*') ? { prefix: pattern.slice(0, -1) } : { exact: pattern } },
  }));
  const anonymous = entry.mtls === 'PERMISSIVE' ? [{ authenticated: { principal_name: { exact: '' } } }] : [];
  const rbac = {
    rules: {
      action: 'ALLOW',
      policies: {
        'spillway-allowed-callers': {
          permissions: [{ any: true }],
          principals: [{ or_ids: { ids: [...callers, ...anonymous] } }],
        },
      },
    },
  };
  return {
    name: 'envoy.filters.http.rbac',
    typed_config: { type_url: RBAC_TYPE_URL, value: encodeMessage(envoyProtos().Rbac, rbac) },
  };
}

function certificateSource(mesh: MeshSecurity, dialect: TlsDialect): object {
  return dialect === 'grpc'
    ? { tls_certificate_provider_instance: { instance_name: mesh.certificateProvider } }
    : { tls_certificate_sds_secret_configs: [sdsSecret(mesh, mesh.certificateProvider)] };
}

function grpcTrust(mesh: MeshSecurity): object {
  return { ca_certificate_provider_instance: { instance_name: mesh.certificateProvider } };
}

function sdsSecret(mesh: MeshSecurity, name: string): object {
  return {
    name,
    sds_config: {
      api_config_source: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: mesh.sdsCluster } }],
      },
      resource_api_version: 'V3',
    },
  };
}
