import * as grpc from '@grpc/grpc-js';
import { register } from '@grpc/grpc-js-xds';

let registered = false;

/**
 * A real grpc-js-xds channel to `xds:///TARGET`. The bootstrap goes in per channel through
 * grpc-js-xds' channel option (it also reads GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG,
 * but only once per process), so each test client can have its own node id and locality.
 */
export function xdsClient(
  target: string,
  /** The router's port on loopback, or `host:port` (a local TLS-originating agent, say). */
  xdsServer: number | string,
  node: { id: string; locality: { region: string; zone: string } },
): grpc.Client {
  if (!registered) {
    register();
    registered = true;
  }
  const bootstrap = {
    xds_servers: [
      {
        server_uri: typeof xdsServer === 'number' ? `127.0.0.1:${xdsServer}` : xdsServer,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: node.id, cluster: 'spillway-tests', locality: node.locality },
  };
  return new grpc.Client(`xds:///${target}`, grpc.credentials.createInsecure(), {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
  });
}
