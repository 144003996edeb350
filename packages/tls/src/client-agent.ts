import { Agent } from 'node:https';
import {
  type KeyPairPems,
  readCaBundle,
  TlsFilesError,
  WatchedKeyPair,
  type WatchedKeyPairOptions,
} from './watched-key-pair.js';

/** Longer than any long poll (the change feed holds a request up to its wait + 10 s). */
const OLD_AGENT_GRACE_MS = 120_000;

/** What a Spillway service presents and trusts when it calls another one over HTTPS. */
export interface ClientTlsFiles {
  /** CA bundle that signed the other service's certificate; absent: the system's trust store. */
  readonly caFile?: string | undefined;
  /** A client certificate and key, for a server that requires one (mutual TLS). */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/**
 * An `https.Agent` for calls to another Spillway service, rebuilt when the client certificate
 * files change (so a rotated certificate is presented on the next connection). Callers ask for
 * `current()` on every request: a long poll that outlives a rotation finishes on its old socket.
 */
export class ClientTlsAgent {
  private agent: Agent;
  private readonly keyPair: WatchedKeyPair | undefined;

  /** Reads the files now; throws `TlsFilesError` naming the file when they cannot be used. */
  constructor(files: ClientTlsFiles, options: WatchedKeyPairOptions) {
    if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
      throw new TlsFilesError(
        files.certFile ?? files.keyFile ?? '',
        'a client certificate needs both certFile and keyFile',
      );
    }
    if (files.certFile !== undefined && files.keyFile !== undefined) {
      this.keyPair = new WatchedKeyPair(
        { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile },
        options,
      );
      this.agent = agentFor(this.keyPair.current());
      this.keyPair.onChange((pems) => {
        const old = this.agent;
        this.agent = agentFor(pems);
        // Requests in flight finish on the old agent's sockets; its idle ones go after the grace.
        setTimeout(() => old.destroy(), OLD_AGENT_GRACE_MS).unref();
      });
    } else {
      this.agent = agentFor({ ca: files.caFile === undefined ? undefined : readCaBundle(files.caFile) });
    }
  }

  current(): Agent {
    return this.agent;
  }

  close(): void {
    this.keyPair?.close();
    this.agent.destroy();
  }
}

function agentFor(pems: Partial<Pick<KeyPairPems, 'cert' | 'key' | 'ca'>>): Agent {
  return new Agent({
    keepAlive: true,
    minVersion: 'TLSv1.2',
    ...(pems.ca ? { ca: pems.ca } : {}),
    ...(pems.cert ? { cert: pems.cert } : {}),
    ...(pems.key ? { key: pems.key } : {}),
  });
}
