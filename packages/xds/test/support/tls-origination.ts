import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { connect } from 'node:tls';
import type { CertFiles } from '@spillway/test/support/pki';

/**
 * A local agent that takes plaintext HTTP/2 on loopback and carries it to the router over mutual
 * TLS with a workload certificate (what Istio's pilot-agent xDS proxy or ghostunnel do for
 * proxyless gRPC). The installed xDS clients need it: @grpc/grpc-js-xds 1.14 accepts only
 * `insecure` and `google_default` channel_creds in its bootstrap, and gRPC C-core 1.51 (Debian's
 * python3-grpcio) only `insecure`, `google_default` and `fake`; neither can present a client
 * certificate to the xDS server itself.
 */
export interface TlsOrigination {
  /** `127.0.0.1:PORT`: put it in the client's bootstrap as `server_uri`. */
  readonly address: string;
  close(): Promise<void>;
}

export async function startTlsOrigination(
  upstreamPort: number,
  caFile: string,
  client: CertFiles | undefined,
): Promise<TlsOrigination> {
  const ca = readFileSync(caFile);
  const identity = client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {};
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort, ca, ...identity, ALPNProtocols: ['h2'] });
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    downstream.pipe(upstream).pipe(downstream);
    // A refused handshake closes the upstream: the client sees its connection drop.
    upstream.on('error', () => downstream.destroy());
    downstream.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
