import * as grpc from '@grpc/grpc-js';
import type { KeyPairPems, WatchedKeyPair } from '@spillway/tls';

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/**
 * grpc-js server credentials for mutual TLS whose certificate follows `keyPair`: grpc-js's own
 * certificate-provider mechanism (`experimental.createCertificateProviderServerCredentials`),
 * which calls `setSecureContext` on the listening server for every update. Open connections keep
 * the context they were made with; new handshakes use the new one. Clients must present a
 * certificate signed by the CA bundle, or the handshake fails.
 *
 * grpc-js also ships a `FileWatcherCertificateProvider`, but it hands over whatever the files hold:
 * a half-written or mismatched pair makes grpc-js drop every new connection. The provider here
 * passes on only pairs `WatchedKeyPair` has checked, so a broken file keeps the old pair serving.
 */
export function mutualTlsServerCredentials(keyPair: WatchedKeyPair): grpc.ServerCredentials {
  const provider = new KeyPairCertificateProvider(keyPair);
  // One provider serves both roles (grpc-js 1.14 names this function's parameters in the opposite
  // order to the constructor it calls; with one provider the order cannot matter).
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, true);
}

class KeyPairCertificateProvider implements CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(private readonly keyPair: WatchedKeyPair) {
    keyPair.onChange((pems) => this.publish(pems));
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // Asynchronously, as grpc-js expects: it registers its own watcher only after adding this one.
    process.nextTick(() => listener(caUpdate(this.keyPair.current())));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => listener(identityUpdate(this.keyPair.current())));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private publish(pems: KeyPairPems): void {
    for (const listener of this.caListeners) listener(caUpdate(pems));
    for (const listener of this.identityListeners) listener(identityUpdate(pems));
  }
}

function caUpdate(pems: KeyPairPems): grpc.experimental.CaCertificateUpdate | null {
  return pems.ca ? { caCertificate: pems.ca } : null;
}

function identityUpdate(pems: KeyPairPems): grpc.experimental.IdentityCertificateUpdate {
  return { certificate: pems.cert, privateKey: pems.key };
}
