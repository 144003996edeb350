import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { CertFiles } from '@spillway/test/support/pki';
import { identity, WHO_PATH, whoDefinition } from './echo-servers.js';

/**
 * Both ends of a mesh call under xDS-delivered security (gRFC A29/A36): an xDS-enabled gRPC
 * server (grpc-js-xds XdsServer + XdsServerCredentials) that learns its TLS and RBAC from the
 * router, and an xDS client (XdsChannelCredentials) that learns the server's identity from CDS.
 * Each gets its own bootstrap, with a `file_watcher` certificate provider over files made at
 * test time. grpc-js-xds 1.14 enables RBAC only with GRPC_XDS_EXPERIMENTAL_RBAC=true, read when
 * the module loads: test files set it, then import this module dynamically.
 */
export const CERTIFICATE_PROVIDER = 'default';
const SERVER_LISTENER_TEMPLATE = 'grpc/server?xds.resource.listening_address=%s';
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';

const xds = await import('@grpc/grpc-js-xds');
xds.register();

export interface PeerBootstrapOptions {
  readonly xdsPort: number;
  readonly nodeId: string;
  readonly locality?: { region: string; zone: string };
  /** The workload's certificate (omit for a client without one) and the trust bundle. */
  readonly certificate?: CertFiles;
  readonly caFile: string;
}

function bootstrap(options: PeerBootstrapOptions): string {
  return JSON.stringify({
    xds_servers: [
      {
        server_uri: `127.0.0.1:${options.xdsPort}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: options.nodeId, cluster: 'spillway-tests', locality: options.locality ?? { region: 'dc1', zone: 'a' } },
    server_listener_resource_name_template: SERVER_LISTENER_TEMPLATE,
    certificate_providers: {
      [CERTIFICATE_PROVIDER]: {
        plugin_name: 'file_watcher',
        config: {
          ...(options.certificate
            ? { certificate_file: options.certificate.certFile, private_key_file: options.certificate.keyFile }
            : {}),
          ca_certificate_file: options.caFile,
          refresh_interval: '0.2s',
        },
      },
    },
  });
}

export interface MeshServer {
  readonly name: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * An xDS-enabled server on 127.0.0.1:`port` answering `NAME|CALLER|SERIAL`: the caller's URI SAN
 * (or "-") and its certificate serial, so a test sees who called and with which certificate.
 * Resolves once the router's Listener made it serve.
 */
export async function startMeshServer(name: string, port: number, peer: PeerBootstrapOptions): Promise<MeshServer> {
  const server = new xds.XdsServer({ [BOOTSTRAP_OPTION]: bootstrap(peer) });
  server.addService(whoDefinition, {
    Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const peerCertificate = call.getAuthContext().sslPeerCertificate;
      const caller = /URI:([^,]+)/.exec(peerCertificate?.subjectaltname ?? '')?.[1] ?? '-';
      callback(null, Buffer.from(`${name}|${caller}|${peerCertificate?.serialNumber ?? '-'}`));
    },
  });
  const credentials = new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, credentials, (error) => (error ? reject(error) : resolve())),
  );
  return {
    name,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** An xDS client of `xds:///TARGET` that takes its security from CDS (plaintext fallback otherwise). */
export function meshClient(target: string, peer: PeerBootstrapOptions): grpc.Client {
  const credentials = new xds.XdsChannelCredentials(grpc.credentials.createInsecure());
  return new grpc.Client(`xds:///${target}`, credentials, { [BOOTSTRAP_OPTION]: bootstrap(peer) });
}

/**
 * A TLS client without a certificate of its own, straight to one server's address (an app
 * outside the mesh that trusts the mesh CA): it checks the server's URI SAN itself.
 */
export function anonymousTlsClient(port: number, caFile: string, serverIdentity: string): grpc.Client {
  const credentials = grpc.credentials.createSsl(readFileSync(caFile), null, null, {
    checkServerIdentity: (_host, certificate) =>
      certificate.subjectaltname?.split(', ').includes(`URI:${serverIdentity}`)
        ? undefined
        : new Error(`server is not ${serverIdentity}`),
  });
  return new grpc.Client(`127.0.0.1:${port}`, credentials);
}

/** A client that ignores xDS security: plaintext straight to one server's address. */
export function plaintextClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

export interface WhoAnswer {
  readonly server: string;
  readonly caller: string;
  readonly serial: string;
}

export function askWho(client: grpc.Client, timeoutMs = 10_000): Promise<WhoAnswer> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      WHO_PATH,
      identity,
      identity,
      Buffer.alloc(0),
      { deadline: Date.now() + timeoutMs },
      (error, value) => {
        if (error || !value) return reject(error ?? new Error('empty answer'));
        const [server = '', caller = '', serial = ''] = value.toString().split('|');
        resolve({ server, caller, serial });
      },
    ),
  );
}

/** The gRPC status code of a failed call, or 'OK'. */
export async function callStatus(client: grpc.Client, timeoutMs = 5_000): Promise<grpc.status | 'OK'> {
  try {
    await askWho(client, timeoutMs);
    return 'OK';
  } catch (error) {
    return (error as grpc.ServiceError).code;
  }
}
