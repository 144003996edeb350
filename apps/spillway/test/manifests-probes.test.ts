import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultValues, probeCommand, processConfig } from '@spillway/manifests';
import { freePort } from '@spillway/test/support/free-port';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CliProcess } from './cli-process.js';

let pki: TestPki;
const running: CliProcess[] = [];

beforeAll(() => {
  pki = createTestPki();
});
afterAll(async () => {
  await Promise.all(running.map((cli) => cli.stop()));
  pki.remove();
});

/** A directory laid out as the kubernetes.io/tls Secret is mounted: tls.crt, tls.key, ca.crt. */
function secretDir(name: string, issued: { certFile: string; keyFile: string }, caFile: string): string {
  const dir = join(pki.dir, name);
  mkdirSync(dir);
  copyFileSync(issued.certFile, join(dir, 'tls.crt'));
  copyFileSync(issued.keyFile, join(dir, 'tls.key'));
  copyFileSync(caFile, join(dir, 'ca.crt'));
  return dir;
}

/** Runs the pod's probe command (`node -e …`) with the Node that runs Spillway; its exit code. */
function probe(port: number, path: '/healthz' | '/readyz', tlsDir: string): Promise<number> {
  const [, ...args] = probeCommand(port, path, tlsDir);
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 15_000 }, (error) => resolve(error ? Number(error.code ?? 1) : 0));
  });
}

describe('the federation as the manifests configure it, probed as its pod is', () => {
  it('starts with the rendered config (client certificates required) and the probe passes with the pod certificate only', async () => {
    const secret = secretDir('http', pki.server('federation'), pki.ca.certFile);
    const port = await freePort();
    // The rendered config, with the Secret's mount point moved to the test's directory and no
    // in-cluster Kubernetes source (there is no cluster here).
    const rendered = JSON.stringify(processConfig(defaultValues(), 'federation')).replaceAll(
      '/etc/spillway/tls/http',
      secret,
    );
    const config = { ...JSON.parse(rendered), clusters: [], listen: { http: `127.0.0.1:${port}` } };
    const configFile = join(pki.dir, 'federation.yaml');
    writeFileSync(configFile, stringify(config));
    const federation = new CliProcess(['federation', '--config', configFile]);
    running.push(federation);

    await waitFor(async () => (await probe(port, '/readyz', secret)) === 0, {
      timeoutMs: 60_000,
      message: `the readiness probe to pass (stderr: ${federation.stderr.slice(-300)})`,
    });
    expect(await probe(port, '/healthz', secret)).toBe(0);
    // A certificate from another CA cannot pass the handshake: the probe reports failure, it does not hang.
    const stranger = secretDir('stranger', pki.otherCa.issue('stranger'), pki.otherCa.certFile);
    expect(await probe(port, '/healthz', stranger)).toBe(1);
  });
});
