import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';

/**
 * The simulated fleet's workload PKI for mesh mTLS: a trust root every simulated workload and
 * probe trusts, and a rogue root standing for "a site with the wrong trust bundle". Made in
 * memory at fleet start (ECDSA P-256 through WebCrypto; no openssl needed), valid for a day, and
 * written to a private temp dir because gRPC's file_watcher certificate provider reads files.
 */
export const SIM_TRUST_DOMAIN = 'sim';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface PemFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

interface Authority {
  readonly name: string;
  readonly keys: CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

/** `spiffe://sim/ns/NS/sa/NAME` for service `NAME.NS`. */
export function simIdentity(service: string): string {
  const dot = service.lastIndexOf('.');
  return `spiffe://${SIM_TRUST_DOMAIN}/ns/${service.slice(dot + 1)}/sa/${service.slice(0, dot)}`;
}

export const PROBE_IDENTITY = `spiffe://${SIM_TRUST_DOMAIN}/ns/drills/sa/probe`;

export class MeshPki {
  private readonly issued = new Map<string, PemPair>();

  private constructor(
    private readonly trusted: Authority,
    private readonly rogue: Authority,
    /** Where the probe's certificate, key and trust bundle are (file_watcher reads them). */
    readonly dir: string,
    readonly probeFiles: PemFiles & { readonly caFile: string },
  ) {}

  static async create(): Promise<MeshPki> {
    // Node's WebCrypto is the standard interface; its TypeScript types are declared apart from the DOM's.
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const trusted = await authority('Spillway simulated mesh CA');
    const rogue = await authority('Spillway simulated rogue CA');
    const dir = await mkdtemp(join(tmpdir(), 'spillway-sim-pki-'));
    const probe = await leaf(trusted, PROBE_IDENTITY);
    const probeFiles = {
      certFile: join(dir, 'probe.crt'),
      keyFile: join(dir, 'probe.key'),
      caFile: join(dir, 'ca.crt'),
    };
    await writeFile(probeFiles.certFile, probe.certPem, { mode: 0o600 });
    await writeFile(probeFiles.keyFile, probe.keyPem, { mode: 0o600 });
    await writeFile(probeFiles.caFile, trusted.certificate.toString('pem'), { mode: 0o600 });
    return new MeshPki(trusted, rogue, dir, probeFiles);
  }

  /** The trust bundle a workload of a healthy site holds, or the rogue one. */
  caPem(rogue = false): string {
    return (rogue ? this.rogue : this.trusted).certificate.toString('pem');
  }

  /** The certificate a server of `service` presents: from the trusted root, or the rogue one. */
  async serverPair(service: string, rogue = false): Promise<PemPair> {
    const key = `${rogue ? 'rogue' : 'trusted'}|${service}`;
    let pair = this.issued.get(key);
    if (!pair) {
      pair = await leaf(rogue ? this.rogue : this.trusted, simIdentity(service));
      this.issued.set(key, pair);
    }
    return pair;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function authority(name: string): Promise<Authority> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys: keys as CryptoKeyPair,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { name, keys: keys as CryptoKeyPair, certificate };
}

async function leaf(issuer: Authority, spiffeId: string): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${spiffeId.slice(spiffeId.lastIndexOf('/') + 1)}`,
    issuer: issuer.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certPem: certificate.toString('pem'), keyPem };
}

/**
 * A simulated server's mTLS: its service's certificate, and client certificates required and
 * checked against the bundle it holds (the rogue one under the wrong-trust-bundle fault).
 */
export async function meshCredentials(pki: MeshPki, service: string, rogue: boolean): Promise<grpc.ServerCredentials> {
  const pair = await pki.serverPair(service, rogue);
  return grpc.ServerCredentials.createSsl(
    Buffer.from(pki.caPem(rogue)),
    [{ cert_chain: Buffer.from(pair.certPem), private_key: Buffer.from(pair.keyPem) }],
    true,
  );
}
