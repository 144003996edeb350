import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { register, XdsChannelCredentials } from '@grpc/grpc-js-xds';

/** grpc-js-xds' per-channel bootstrap (it reads GRPC_XDS_BOOTSTRAP* only once per process). */
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
export const PROBE_NODE_CLUSTER = 'spillway-drill';

let registered = false;

/** Registers the `xds:` resolver and the xDS load-balancing policies with grpc-js, once. */
export function registerXdsOnce(): void {
  if (registered) return;
  register();
  registered = true;
}

export interface XdsProbeNode {
  readonly id: string;
  readonly locality: { readonly region: string; readonly zone: string };
}

/** `<prefix>-<index>-<random>`: unique per run, so two drills never share a node id. */
export function probeNodeId(prefix: string, index: number): string {
  return `${prefix}-${index}-${randomBytes(4).toString('hex')}`;
}

/** A probe's workload certificate and trust bundle (files: gRPC's file_watcher reads them). */
export interface ProbeMeshIdentity {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** The certificate provider instance name the router's mesh security names (config `security.certificateProvider`). */
export const PROBE_CERTIFICATE_PROVIDER = 'default';

/**
 * The bootstrap of one probe channel: one insecure xDS server and this client's own node; with a
 * mesh identity, the `file_watcher` certificate provider the router's Clusters refer to.
 */
export function probeBootstrap(xdsAddress: string, node: XdsProbeNode, mesh?: ProbeMeshIdentity): object {
  return {
    xds_servers: [{ server_uri: xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: node.id,
      cluster: PROBE_NODE_CLUSTER,
      locality: { region: node.locality.region, zone: node.locality.zone },
    },
    ...(mesh
      ? {
          certificate_providers: {
            [PROBE_CERTIFICATE_PROVIDER]: {
              plugin_name: 'file_watcher',
              config: {
                certificate_file: mesh.certFile,
                private_key_file: mesh.keyFile,
                ca_certificate_file: mesh.caFile,
                refresh_interval: '60s',
              },
            },
          },
        }
      : {}),
  };
}

/**
 * A real grpc-js-xds channel to `xds:///SERVICE` with its own bootstrap, so that each probe
 * client has its own node id and locality and the router computes its view for it.
 */
export function createXdsProbeClient(
  xdsAddress: string,
  service: string,
  node: XdsProbeNode,
  mesh?: ProbeMeshIdentity,
): grpc.Client {
  registerXdsOnce();
  // With a mesh identity the channel takes its TLS from the Cluster and never falls back to
  // plaintext for a secured service: a refused handshake is a failed probe, not an insecure call.
  const credentials = mesh
    ? new XdsChannelCredentials(grpc.credentials.createInsecure())
    : grpc.credentials.createInsecure();
  return new grpc.Client(`xds:///${service}`, credentials, {
    [BOOTSTRAP_OPTION]: JSON.stringify(probeBootstrap(xdsAddress, node, mesh)),
  });
}
