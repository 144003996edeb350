import type { Server as HttpServer, RequestListener } from 'node:http';
import { createServer } from 'node:https';
import { type KeyPairPems, WatchedKeyPair, type WatchedKeyPairOptions } from './watched-key-pair.js';

/** `tls.http` of the config: the API's certificate and key, and the CA its clients' certificates need. */
export interface HttpsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** With it, the TLS handshake asks every client for a certificate this CA signed and refuses others. */
  readonly clientCaFile?: string | undefined;
}

/**
 * An HTTPS listener's TLS: the files, watched (see `WatchedKeyPair`), and a server factory for
 * Fastify (`serverFactory`) whose server swaps to each new certificate with `setSecureContext`:
 * connections already open keep theirs, new handshakes get the new one.
 *
 * With `clientCaFile`, client certificates are checked in the handshake (`requestCert` and
 * `rejectUnauthorized`): a client without one, or with one from another CA, never reaches HTTP,
 * so no route can forget the check. The price: health probes must present a certificate too.
 */
export class HttpsServing {
  readonly keyPair: WatchedKeyPair;
  readonly requiresClientCertificate: boolean;

  /** Reads the files now; throws `TlsFilesError` (one line naming the file) when they cannot serve. */
  constructor(files: HttpsFiles, options: WatchedKeyPairOptions) {
    this.keyPair = new WatchedKeyPair(
      { certFile: files.certFile, keyFile: files.keyFile, caFile: files.clientCaFile },
      options,
    );
    this.requiresClientCertificate = files.clientCaFile !== undefined;
  }

  /** For `Fastify({ serverFactory })`: the HTTPS server, following the files until it closes. */
  readonly serverFactory = (handler: RequestListener): HttpServer => {
    const server = createServer(
      {
        ...secureContextOptions(this.keyPair.current()),
        minVersion: 'TLSv1.2',
        requestCert: this.requiresClientCertificate,
        rejectUnauthorized: this.requiresClientCertificate,
      },
      handler,
    );
    const unsubscribe = this.keyPair.onChange((pems) => server.setSecureContext(secureContextOptions(pems)));
    server.once('close', () => {
      unsubscribe();
      this.keyPair.close();
    });
    return server;
  };

  close(): void {
    this.keyPair.close();
  }
}

function secureContextOptions(pems: KeyPairPems) {
  return { cert: pems.cert, key: pems.key, ...(pems.ca ? { ca: pems.ca } : {}) };
}
