import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made at test time with the system's `openssl` (never committed keys): a CA, and
 * leaf certificates it signs with the SANs a test asks for (DNS names, IPs, SPIFFE URIs).
 * Everything lives in one temp dir that `remove()` deletes.
 */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface CertificateAuthority extends CertFiles {
  readonly name: string;
  /** Signs a new leaf certificate; files are `<dir>/<name>.crt` / `.key`. */
  issue(name: string, options?: LeafOptions): CertFiles;
}

export interface LeafOptions {
  /** Subject common name; default the leaf's name. */
  readonly commonName?: string;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  /** URI SANs, e.g. `spiffe://lab/ns/demo/sa/echo`. */
  readonly uris?: readonly string[];
  /** Validity in days (default 2). */
  readonly days?: number;
}

export interface TestPki {
  readonly dir: string;
  /** The test's trust root. */
  readonly ca: CertificateAuthority;
  /** A second, unrelated CA: certificates it signs must be refused. */
  readonly otherCa: CertificateAuthority;
  /** Makes one more CA (a rotated root, say). */
  newCa(name: string): CertificateAuthority;
  /** A server certificate for 127.0.0.1 / ::1 / localhost signed by `ca`. */
  server(name?: string): CertFiles;
  remove(): void;
}

/** Creates a PKI in a fresh temp dir. Needs `openssl` on PATH (Debian's openssl package). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-pki-'));
  const newCa = (name: string) => makeCa(dir, name);
  const ca = newCa('ca');
  const otherCa = newCa('other-ca');
  return {
    dir,
    ca,
    otherCa,
    newCa,
    server: (name = 'server') => ca.issue(name, { dns: ['localhost'], ips: ['127.0.0.1', '::1'] }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): CertificateAuthority {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=Spillway test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  return {
    name,
    certFile,
    keyFile,
    issue(leaf, options = {}) {
      const leafCert = join(dir, `${leaf}.crt`);
      const leafKey = join(dir, `${leaf}.key`);
      const csr = join(dir, `${leaf}.csr`);
      const ext = join(dir, `${leaf}.ext`);
      const sans = [
        ...(options.dns ?? []).map((value) => `DNS:${value}`),
        ...(options.ips ?? []).map((value) => `IP:${value}`),
        ...(options.uris ?? []).map((value) => `URI:${value}`),
      ];
      writeFileSync(
        ext,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth,clientAuth',
          ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
        ].join('\n'),
      );
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        leafKey,
        '-out',
        csr,
        '-subj',
        `/CN=${options.commonName ?? leaf}`,
      ]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        certFile,
        '-CAkey',
        keyFile,
        '-set_serial',
        String(Date.now() * 100 + serial++),
        '-extfile',
        ext,
        '-out',
        leafCert,
        '-days',
        String(options.days ?? 2),
      ]);
      return { certFile: leafCert, keyFile: leafKey };
    },
  };
}
