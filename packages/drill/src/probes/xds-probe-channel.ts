import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

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

/** The bootstrap of one probe channel: one insecure xDS server and this client's own node. */
export function probeBootstrap(xdsAddress: string, node: XdsProbeNode): object {
  return {
    xds_servers: [{ server_uri: xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: node.id,
      cluster: PROBE_NODE_CLUSTER,
      locality: { region: node.locality.region, zone: node.locality.zone },
    },
  };
}

/**
 * A real grpc-js-xds channel to `xds:///SERVICE` with its own bootstrap, so that each probe
 * client has its own node id and locality and the router computes its view for it.
 */
export function createXdsProbeClient(xdsAddress: string, service: string, node: XdsProbeNode): grpc.Client {
  registerXdsOnce();
  return new grpc.Client(`xds:///${service}`, grpc.credentials.createInsecure(), {
    [BOOTSTRAP_OPTION]: JSON.stringify(probeBootstrap(xdsAddress, node)),
  });
}
