import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { Counter, Gauge, type Logger, metricOnce, type Registry, silentLogger } from '@spillway/observability';

/** The PEM files of one listener (or one client): its certificate chain, its key, the CA it trusts. */
export interface KeyPairFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle that verifies the peer (clients of a server, the server of a client); optional. */
  readonly caFile?: string | undefined;
}

/** What was read from `KeyPairFiles`, checked to make a TLS context; pass it to `setSecureContext`. */
export interface KeyPairPems {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer | undefined;
  /** SHA-256 fingerprint of the leaf certificate, `AA:BB:…` (what a client sees). */
  readonly fingerprint256: string;
  /** When the leaf certificate expires. */
  readonly notAfter: Date;
}

/** A certificate, key or CA file that cannot be used; the message is one line naming the file. */
export class TlsFilesError extends Error {
  constructor(
    readonly files: string,
    reason: string,
  ) {
    super(`${files}: ${reason}`);
    this.name = 'TlsFilesError';
  }
}

export interface WatchedKeyPairOptions {
  /** What the files serve, for logs and the metrics' `listener` label: `http`, `xds`, `redis`, … */
  readonly name: string;
  readonly logger?: Logger;
  readonly metrics?: Registry;
  /** How often the files are stat-ed for a change (default 1 s). */
  readonly pollIntervalMs?: number;
}

/**
 * A certificate/key pair (and optional CA bundle) read from files and re-read when they change, for
 * servers that swap their TLS context without dropping connections (`server.setSecureContext`,
 * grpc-js's secure context watchers). A new version is used only if it is whole: the key matches the
 * certificate and every file parses. A broken version (half-written, mismatched, unreadable) keeps
 * the old one in service, is logged once with the reason, and counted.
 *
 * Change detection is a stat poll (inode, size, mtime) rather than `fs.watch`: it sees files replaced
 * by rename (how Kubernetes updates mounted secrets, through a `..data` symlink swap) as well as
 * files rewritten in place, on every platform.
 */
export class WatchedKeyPair {
  private pems: KeyPairPems;
  private signature: string;
  private readonly listeners = new Set<(pems: KeyPairPems) => void>();
  private readonly errorListeners = new Set<(error: TlsFilesError) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly logger: Logger;
  private readonly reloads: Counter<string> | undefined;
  private readonly reloadErrors: Counter<string> | undefined;
  private readonly notAfter: Gauge<string> | undefined;
  /** The signature of the last broken version, so one broken file is reported once, not every poll. */
  private reportedBroken: string | undefined;
  private checking = false;
  private closed = false;

  /** Reads and checks the files now; throws `TlsFilesError` when they cannot serve (a start must fail). */
  constructor(
    readonly files: KeyPairFiles,
    private readonly options: WatchedKeyPairOptions,
  ) {
    this.logger = options.logger ?? silentLogger();
    this.signature = signatureOfSync(files);
    this.pems = readKeyPair(files);
    if (options.metrics) {
      const registry = options.metrics;
      this.reloads = metricOnce(registry, Counter, {
        name: 'spillway_tls_reloads_total',
        help: 'Certificate/key files re-read and put in service after they changed',
        labelNames: ['listener'],
      });
      this.reloadErrors = metricOnce(registry, Counter, {
        name: 'spillway_tls_reload_errors_total',
        help: 'Changed certificate/key files that could not be used (the previous ones stay in service)',
        labelNames: ['listener'],
      });
      this.notAfter = metricOnce(registry, Gauge, {
        name: 'spillway_tls_certificate_not_after_seconds',
        help: 'Expiry (Unix seconds) of the certificate in service',
        labelNames: ['listener'],
      });
      this.reloads.inc({ listener: options.name }, 0);
      this.reloadErrors.inc({ listener: options.name }, 0);
      this.notAfter.set({ listener: options.name }, this.pems.notAfter.getTime() / 1000);
    }
    this.timer = setInterval(() => void this.check(), options.pollIntervalMs ?? 1_000);
    this.timer.unref();
  }

  /** The pair in service. */
  current(): KeyPairPems {
    return this.pems;
  }

  /** Called with every new pair put in service; returns a function that unsubscribes. */
  onChange(listener: (pems: KeyPairPems) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called once per broken version of the files (the old pair stays in service). */
  onError(listener: (error: TlsFilesError) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Looks at the files now (the poll does this on its own; tests and SIGHUP handlers may call it). */
  async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      const signature = await signatureOf(this.files);
      if (signature === this.signature || signature === this.reportedBroken) return;
      this.reload(signature);
    } finally {
      this.checking = false;
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.listeners.clear();
    this.errorListeners.clear();
  }

  private reload(signature: string): void {
    let next: KeyPairPems;
    try {
      next = readKeyPair(this.files);
    } catch (error) {
      this.reportedBroken = signature;
      const broken = error instanceof TlsFilesError ? error : new TlsFilesError(describe(this.files), String(error));
      this.reloadErrors?.inc({ listener: this.options.name });
      this.logger.error(
        { listener: this.options.name, reason: broken.message, inService: this.pems.fingerprint256 },
        'changed TLS files are not usable; the previous certificate stays in service',
      );
      for (const listener of this.errorListeners) listener(broken);
      return;
    }
    this.signature = signature;
    this.reportedBroken = undefined;
    if (samePems(next, this.pems)) return;
    this.pems = next;
    this.reloads?.inc({ listener: this.options.name });
    this.notAfter?.set({ listener: this.options.name }, next.notAfter.getTime() / 1000);
    this.logger.info(
      { listener: this.options.name, fingerprint256: next.fingerprint256, notAfter: next.notAfter.toISOString() },
      'TLS certificate reloaded',
    );
    for (const listener of this.listeners) listener(next);
  }
}

/** Reads the files and checks they make a TLS context; throws `TlsFilesError` saying which file and why. */
export function readKeyPair(files: KeyPairFiles): KeyPairPems {
  const cert = readPem(files.certFile, 'certificate');
  const key = readPem(files.keyFile, 'key');
  const ca = files.caFile === undefined ? undefined : readPem(files.caFile, 'CA bundle');
  const leaf = parseCertificate(cert, files.certFile);
  if (ca !== undefined) checkCaBundle(ca, files.caFile!);
  const options: SecureContextOptions = { cert, key, ...(ca ? { ca } : {}) };
  try {
    createSecureContext(options);
  } catch (error) {
    throw new TlsFilesError(describe(files), reasonOf(error));
  }
  return { cert, key, ca, fingerprint256: leaf.fingerprint256, notAfter: new Date(leaf.validTo) };
}

/** A CA bundle file, checked: at least one certificate, every one valid. */
export function readCaBundle(file: string): Buffer {
  const pem = readPem(file, 'CA bundle');
  checkCaBundle(pem, file);
  return pem;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TlsFilesError(
      file,
      `cannot read the ${what}: ${(error as NodeJS.ErrnoException).code ?? reasonOf(error)}`,
    );
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCertificate(pem: Buffer, file: string): X509Certificate {
  const first = pem.toString('utf8').match(PEM_CERTIFICATE)?.[0];
  if (first === undefined) throw new TlsFilesError(file, 'no PEM certificate in the file');
  try {
    return new X509Certificate(first);
  } catch (error) {
    throw new TlsFilesError(file, `not a valid certificate: ${reasonOf(error)}`);
  }
}

/** `createSecureContext` silently ignores a CA file that is not PEM; a trust root must not be garbage. */
function checkCaBundle(pem: Buffer, file: string): void {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsFilesError(file, 'no PEM certificate in the CA bundle');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new TlsFilesError(file, `a certificate in the CA bundle is not valid: ${reasonOf(error)}`);
    }
  }
}

function samePems(a: KeyPairPems, b: KeyPairPems): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca ?? Buffer.alloc(0)).equals(b.ca ?? Buffer.alloc(0));
}

function pathsOf(files: KeyPairFiles): string[] {
  return [files.certFile, files.keyFile, ...(files.caFile === undefined ? [] : [files.caFile])];
}

function describe(files: KeyPairFiles): string {
  return pathsOf(files).join(', ');
}

async function signatureOf(files: KeyPairFiles): Promise<string> {
  const parts = await Promise.all(
    pathsOf(files).map(async (file) => {
      try {
        const info = await stat(file);
        return `${info.ino}:${info.size}:${info.mtimeMs}`;
      } catch (error) {
        return `missing:${(error as NodeJS.ErrnoException).code}`;
      }
    }),
  );
  return parts.join('|');
}

function signatureOfSync(files: KeyPairFiles): string {
  // Taken before the first read: a change racing the start is then seen by the first poll.
  return pathsOf(files)
    .map((file) => {
      try {
        const info = statSync(file);
        return `${info.ino}:${info.size}:${info.mtimeMs}`;
      } catch (error) {
        return `missing:${(error as NodeJS.ErrnoException).code}`;
      }
    })
    .join('|');
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
