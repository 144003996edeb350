import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import {
  loopback,
  quickBurstPolicy,
  type SpillwayConfigOptions,
  spillwayConfigYaml,
} from '@spillway/test/support/spillway-config';
import { waitFor } from '@spillway/test/support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess } from './cli-process.js';

/**
 * The HTTP API over TLS, end to end with the real `spillway` processes: `up` serving HTTPS only,
 * the CLI trusting it through --ca-file, an API that requires client certificates, a router
 * following an HTTPS federation, and the refusal of plain HTTP beyond loopback with tokens.
 */
const OPERATOR_TOKEN = 'tls-test-operator-token';
const SLOW = { timeout: 240_000 };

/** echo.demo on-prem and in the cloud, a burst policy for it, and `tls` as given. */
const upConfig = (tls?: SpillwayConfigOptions['tls']) =>
  spillwayConfigYaml({
    tokens: [{ name: 'ops', role: 'operator', token: OPERATOR_TOKEN }],
    lab: { 'echo.demo': [loopback(50051, 'lab-a')] },
    cloud: { 'echo.demo': [loopback(50151, 'us-east-1a')] },
    policies: [quickBurstPolicy('echo.demo')],
    ...(tls ? { tls } : {}),
  });

let pki: TestPki;
let dir: string;
const children: CliProcess[] = [];

beforeAll(async () => {
  pki = createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'spillway-cli-tls-'));
});
afterAll(async () => {
  for (const child of children.splice(0)) await child.stop();
  pki?.remove();
});

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  return file;
}

function start(args: readonly string[]): CliProcess {
  const child = new CliProcess(args, { SPILLWAY_API: '', SPILLWAY_TOKEN: '', SPILLWAY_CA_FILE: '' });
  children.push(child);
  return child;
}

async function spillway(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const cli = new CliProcess(args, { SPILLWAY_API: '', SPILLWAY_TOKEN: '', SPILLWAY_CA_FILE: '', ...env });
  children.push(cli);
  const code = await cli.exited;
  return { code, stdout: cli.stdout, stderr: cli.stderr };
}

/** GET over HTTPS trusting the test CA, with a client certificate when given: the status code. */
async function httpsStatus(url: string, client: { certFile: string; keyFile: string } | undefined): Promise<number> {
  return await new Promise((resolve, reject) => {
    const request = httpsGet(
      url,
      {
        ca: readFileSync(pki.ca.certFile),
        ...(client ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {}),
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.once('error', reject);
  });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is served. */
async function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: readFileSync(pki.ca.certFile) });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** Replaces `target` the way a secret mount does: written beside it, renamed over it. */
function replaceFile(source: string, target: string): void {
  copyFileSync(source, `${target}.new`);
  renameSync(`${target}.new`, target);
}

/** A plain HTTP GET: `answered N` when an HTTP answer came, else the error. */
async function plainHttp(url: string): Promise<string> {
  return await new Promise((resolve) => {
    const request = httpRequest(url, { timeout: 10_000 }, (response) => resolve(`answered ${response.statusCode}`));
    request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    request.once('timeout', () => request.destroy(new Error('no answer')));
    request.end();
  });
}

describe('spillway up with tls.http', () => {
  let api: string;
  let up: CliProcess;
  const server = { certFile: '', keyFile: '' };
  beforeAll(async () => {
    const first = pki.server('api-1');
    server.certFile = join(dir, 'api.crt');
    server.keyFile = join(dir, 'api.key');
    copyFileSync(first.certFile, server.certFile);
    copyFileSync(first.keyFile, server.keyFile);
    const config = await configFile(
      'https',
      upConfig({ http: { certFile: server.certFile, keyFile: server.keyFile } }),
    );
    up = start(['up', '--config', config, '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
    api = await up.waitForOutput(/API\s+(https:\/\/127\.0\.0\.1:\d+)/, 60_000);
    await up.waitForOutput(/catalog v1: 1 service\(s\)/, 60_000);
  }, 120_000);

  it(
    'serves a replaced certificate to new connections without a restart, and keeps it when the next file is broken',
    SLOW,
    async () => {
      const before = await servedFingerprint(api);
      const next = pki.server('api-2');
      replaceFile(next.keyFile, server.keyFile);
      replaceFile(next.certFile, server.certFile);
      const rotated = await waitFor(
        async () => {
          const now = await servedFingerprint(api);
          return now !== before ? now : undefined;
        },
        { timeoutMs: 30_000, message: 'the new certificate served' },
      );
      expect(rotated).toBe(new X509Certificate(readFileSync(next.certFile)).fingerprint256);

      writeFileSync(server.certFile, 'not a certificate');
      await up.waitForStderr(/changed TLS files are not usable/, 30_000);
      expect(await servedFingerprint(api)).toBe(rotated);
      expect(await httpsStatus(`${api}/healthz`, undefined)).toBe(200);
    },
  );

  it('prints https URLs in its banner and answers no plain HTTP on the port', SLOW, async () => {
    expect(api).toMatch(/^https:/);
    expect(await httpsStatus(`${api}/healthz`, undefined)).toBe(200);
    expect(await plainHttp(`${api.replace('https:', 'http:')}/healthz`)).not.toMatch(/^answered/);
  });

  it(
    'spillway status and burst start work with --ca-file; without it the CLI says the certificate is not trusted',
    SLOW,
    async () => {
      const status = await spillway(['status', '--api', api, '--ca-file', pki.ca.certFile]);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(status.stdout.split('\n')[0]).toBe(`Spillway at ${api}: healthy, ready`);

      const burst = await spillway(
        [
          'burst',
          'start',
          'echo.demo',
          '--share',
          '0.25',
          '--reason',
          'tls check',
          '--api',
          api,
          '--token',
          OPERATOR_TOKEN,
        ],
        { SPILLWAY_CA_FILE: pki.ca.certFile },
      );
      expect(burst.stderr).toBe('');
      expect(burst.code).toBe(0);
      const id = burst.stdout.trim();
      const shown = await spillway(['burst', 'show', id, '--api', api, '--ca-file', pki.ca.certFile, '--json']);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ id, service: 'echo.demo', reason: 'tls check' });

      const untrusted = await spillway(['status', '--api', api]);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/certificate is not trusted .*--ca-file/);

      const plain = await spillway(['status', '--api', api.replace('https:', 'http:')]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(/closed without an answer .*https:\/\//);
    },
  );
});

describe('an API that requires client certificates', () => {
  it('refuses a client without a certificate and serves one with a certificate from its CA', SLOW, async () => {
    const server = pki.server('mtls-api');
    const config = await configFile(
      'mtls',
      upConfig({ http: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.ca.certFile } }),
    );
    const up = start(['up', '--config', config, '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
    const api = await up.waitForOutput(/API\s+(https:\/\/127\.0\.0\.1:\d+)/, 60_000);
    const client = pki.ca.issue('cli-client', { commonName: 'ops' });

    await expect(httpsStatus(`${api}/healthz`, undefined)).rejects.toThrow();
    await expect(httpsStatus(`${api}/healthz`, pki.otherCa.issue('intruder'))).rejects.toThrow();
    expect(await httpsStatus(`${api}/healthz`, client)).toBe(200);

    const refused = await spillway(['status', '--api', api, '--ca-file', pki.ca.certFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/TLS handshake failed .*--cert and --key/);
    const served = await spillway(['status', '--api', api, '--ca-file', pki.ca.certFile], {
      SPILLWAY_CERT_FILE: client.certFile,
      SPILLWAY_KEY_FILE: client.keyFile,
    });
    expect(served.stderr).toBe('');
    expect(served.code).toBe(0);
  });
});

describe('a router following an HTTPS federation', () => {
  it(
    'gets the catalog through the CA in tls.caFile and its tls.http certificate as the client certificate',
    SLOW,
    async () => {
      const federationCert = pki.server('federation');
      const federationConfig = await configFile(
        'federation',
        upConfig({
          http: { certFile: federationCert.certFile, keyFile: federationCert.keyFile, clientCaFile: pki.ca.certFile },
        }),
      );
      const federation = start(['federation', '--config', federationConfig, '--listen', '127.0.0.1:0']);
      const federationApi = await federation.waitForOutput(/API\s+(https:\/\/127\.0\.0\.1:\d+)/, 60_000);

      const routerCert = pki.server('router');
      const routerConfig = await configFile(
        'router',
        `tls:\n  caFile: ${pki.ca.certFile}\n  http: { certFile: ${routerCert.certFile}, keyFile: ${routerCert.keyFile} }\n`,
      );
      const router = start([
        'router',
        '--config',
        routerConfig,
        '--federation',
        federationApi,
        '--xds',
        '127.0.0.1:0',
        '--listen',
        '127.0.0.1:0',
      ]);
      const routerApi = await router.waitForOutput(/API\s+(https:\/\/127\.0\.0\.1:\d+)\/v1\/xds/, 60_000);
      // Ready only once the router holds a catalog version from the federation.
      await waitFor(async () => (await httpsStatus(`${routerApi}/readyz`, undefined)) === 200, {
        timeoutMs: 60_000,
        message: 'router ready with the federation catalog',
      });
    },
  );
});

describe('secure defaults', () => {
  it(
    'refuses plain HTTP beyond loopback with tokens (exit 2, one line), unless behind a TLS proxy (a warning)',
    SLOW,
    async () => {
      const config = await configFile('plain', upConfig());
      const refused = await spillway(['up', '--config', config, '--listen', '0.0.0.0:0', '--xds', '127.0.0.1:0']);
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/refusing to serve the API on 0\.0\.0\.0:0 over plain HTTP: bearer tokens/);

      const proxied = await configFile('proxied', upConfig({ plaintextHttpBehindProxy: true }));
      const up = start(['up', '--config', proxied, '--listen', '0.0.0.0:0', '--xds', '127.0.0.1:0']);
      await up.waitForOutput(/API\s+(http:\/\/0\.0\.0\.0:\d+)/, 60_000);
      expect(up.stderr + up.stdout).toMatch(/plaintextHttpBehindProxy is true/);
    },
  );
});
