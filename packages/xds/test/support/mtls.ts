import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { CertFiles } from '@spillway/test/support/pki';

/** Channel credentials that present `client` and trust `caFile` (the router's CA). */
export function mtlsCredentials(caFile: string, client?: CertFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    readFileSync(caFile),
    client ? readFileSync(client.keyFile) : null,
    client ? readFileSync(client.certFile) : null,
  );
}

/** The SHA-256 fingerprint of the certificate the server at `port` shows a new handshake. */
export function servedFingerprint(port: number, caFile: string, client: CertFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(caFile),
      cert: readFileSync(client.certFile),
      key: readFileSync(client.keyFile),
      ALPNProtocols: ['h2'],
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
