import { embeddedDefaultConfig, type SpillwayConfig } from '@spillway/config';
import { describe, expect, it } from 'vitest';
import { refuseOpenFederation } from '../src/http-transport.js';
import { CliError } from '../src/load-config.js';
import { runCli } from './cli-process.js';

/** The federation has no tokens of its own: beyond loopback, its callers are authenticated by client certificates. */
const withTls = (tls: Partial<SpillwayConfig['tls']>): SpillwayConfig => {
  const config = embeddedDefaultConfig();
  return { ...config, tls: { ...config.tls, ...tls } };
};

describe('federation exposure', () => {
  it('refuses every interface, or a name that only looks loopback, without client certificates (exit 2)', async () => {
    for (const listen of ['0.0.0.0:7070', '[::]:7070', '127.evil:7070']) {
      const error = await refuseOpenFederation(embeddedDefaultConfig(), listen).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(2);
      expect((error as CliError).message).toMatch(
        /^refusing to serve the federation on .* without client certificates/,
      );
    }
    // Server TLS alone does not say who is reading the catalog.
    const tlsOnly = withTls({ http: { certFile: 'c.pem', keyFile: 'k.pem' } });
    await expect(refuseOpenFederation(tlsOnly, '0.0.0.0:7070')).rejects.toThrow(/without client certificates/);
  });

  it('serves beyond loopback with client certificates, behind a declared proxy, and always on loopback', async () => {
    const mutual = withTls({ http: { certFile: 'c.pem', keyFile: 'k.pem', clientCaFile: 'ca.pem' } });
    await expect(refuseOpenFederation(mutual, '0.0.0.0:7070')).resolves.toBeUndefined();
    await expect(
      refuseOpenFederation(withTls({ plaintextHttpBehindProxy: true }), '0.0.0.0:7070'),
    ).resolves.toBeUndefined();
    for (const listen of ['127.0.0.1:7070', 'localhost:7070', '[::1]:7070']) {
      await expect(refuseOpenFederation(embeddedDefaultConfig(), listen)).resolves.toBeUndefined();
    }
  });

  it('spillway federation --listen 0.0.0.0 exits 2 with one line, before it starts anything', async () => {
    const run = await runCli(['federation', '--listen', '0.0.0.0:0']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/refusing to serve the federation on 0\.0\.0\.0:0 without client certificates/);
  });
});
