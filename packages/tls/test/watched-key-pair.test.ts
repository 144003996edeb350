import { copyFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetricsRegistry } from '@spillway/observability';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKeyPair, type TlsFilesError, WatchedKeyPair } from '../src/index.js';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());
const watchers: WatchedKeyPair[] = [];
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.close();
});

/** Live files a test rotates, starting as a copy of `server`. */
function liveFiles(name: string) {
  const first = pki.server(`${name}-1`);
  const files = {
    certFile: join(pki.dir, `${name}.crt`),
    keyFile: join(pki.dir, `${name}.key`),
    caFile: pki.ca.certFile,
  };
  copyFileSync(first.certFile, files.certFile);
  copyFileSync(first.keyFile, files.keyFile);
  return files;
}

/** Replaces a file the way secret mounts do: write beside it, then rename over it. */
function replace(target: string, source: string): void {
  const temp = `${target}.tmp`;
  copyFileSync(source, temp);
  renameSync(temp, target);
}

function watch(files: ReturnType<typeof liveFiles>, metrics = createMetricsRegistry({ defaultMetrics: false })) {
  const watcher = new WatchedKeyPair(files, { name: 'test', metrics, pollIntervalMs: 50 });
  watchers.push(watcher);
  return { watcher, metrics };
}

describe('WatchedKeyPair', () => {
  it('puts a replaced certificate and key in service and tells its listeners', async () => {
    const files = liveFiles('rotate');
    const { watcher, metrics } = watch(files);
    const before = watcher.current().fingerprint256;
    const seen: string[] = [];
    watcher.onChange((pems) => seen.push(pems.fingerprint256));

    const next = pki.server('rotate-2');
    replace(files.keyFile, next.keyFile);
    replace(files.certFile, next.certFile);

    const expected = readKeyPair({ ...next, caFile: pki.ca.certFile }).fingerprint256;
    await waitFor(() => watcher.current().fingerprint256 === expected, { timeoutMs: 10_000 });
    expect(expected).not.toBe(before);
    expect(seen.at(-1)).toBe(expected);
    expect(await metrics.getSingleMetricAsString('spillway_tls_reloads_total')).toMatch(/listener="test"} [1-9]/);
  });

  it('keeps the old pair when the new certificate does not match the key, and says why once', async () => {
    const files = liveFiles('mismatch');
    const { watcher, metrics } = watch(files);
    const before = watcher.current().fingerprint256;
    const errors: TlsFilesError[] = [];
    watcher.onError((error) => errors.push(error));

    replace(files.certFile, pki.server('mismatch-2').certFile); // the key stays the old one
    await waitFor(() => errors.length > 0, { timeoutMs: 10_000 });
    await watcher.check();
    await watcher.check();

    expect(watcher.current().fingerprint256).toBe(before);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/key values mismatch/);
    expect(await metrics.getSingleMetricAsString('spillway_tls_reload_errors_total')).toMatch(/listener="test"} 1/);
  });

  it('keeps the old pair when a file is garbage or missing, and takes the next good one', async () => {
    const files = liveFiles('garbage');
    const { watcher } = watch(files);
    const before = watcher.current().fingerprint256;
    const errors: TlsFilesError[] = [];
    watcher.onError((error) => errors.push(error));

    writeFileSync(files.certFile, 'not a certificate');
    await waitFor(() => errors.length === 1, { timeoutMs: 10_000 });
    expect(errors[0]!.message).toContain(files.certFile);
    expect(watcher.current().fingerprint256).toBe(before);

    const next = pki.server('garbage-2');
    replace(files.keyFile, next.keyFile);
    replace(files.certFile, next.certFile);
    await waitFor(() => watcher.current().fingerprint256 !== before, { timeoutMs: 10_000 });
  });

  it('refuses to start on files that cannot serve, naming the file', () => {
    const files = liveFiles('start');
    writeFileSync(files.keyFile, '');
    expect(() => new WatchedKeyPair(files, { name: 'test' })).toThrow(/start\.key|key/);
    expect(() => readKeyPair({ ...files, caFile: join(pki.dir, 'nowhere.crt') })).toThrow(/nowhere\.crt: cannot read/);
    writeFileSync(join(pki.dir, 'bad-ca.crt'), 'garbage');
    const good = pki.server('start-2');
    expect(() => readKeyPair({ ...good, caFile: join(pki.dir, 'bad-ca.crt') })).toThrow(/no PEM certificate/);
  });
});
