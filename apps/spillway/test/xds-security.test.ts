import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { isLoopbackIp } from '@spillway/auth';
import { createTestPki, type TestPki } from '@spillway/test/support/pki';
import { CLUSTER_TYPE_URL, envoyProtos, type XdsClientInfo } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { mtlsCredentials } from '@spillway/xds/test-support/mtls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runCli, TOKEN_FILE } from './cli-process.js';

let pki: TestPki;
let dir: string;
beforeAll(async () => {
  pki = createTestPki();
  dir = await mkdtemp(join(tmpdir(), 'spillway-xds-security-'));
});
afterAll(() => pki.remove());
const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const CLUSTERS = `clusters:
  - name: lab
    kind: static
    environment: onprem
    region: dc1
    services:
      - { name: cart, namespace: shop, endpoints: [{ address: 127.0.0.1, port: 50051, zone: a }] }
      - { name: admin, namespace: ops, endpoints: [{ address: 127.0.0.1, port: 50052, zone: a }] }
`;

describe('xDS beyond loopback needs tls.xds', () => {
  it('spillway router and up refuse a plaintext xDS port on 0.0.0.0 with exit 2 and one line', async () => {
    const exposed = await configFile('exposed.yaml', `listen: { xds: 0.0.0.0:0 }\n${CLUSTERS}`);
    const runs = await Promise.all([
      runCli(['router', '--federation', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--xds', '0.0.0.0:0']),
      runCli(['up', '--config', exposed, '--listen', '127.0.0.1:0']),
      runCli(['up', '--xds', '[::]:0', '--listen', '127.0.0.1:0']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^spillway: refusing to serve xDS on .* in plaintext .*configure tls\.xds/),
      ]);
    }
    expect(runs[0]?.stderr).toContain('0.0.0.0 is 0.0.0.0, not loopback');
  });

  it('says which tls.xds file is unusable, with exit 2, before anything starts', async () => {
    const server = pki.server('mismatch');
    const other = pki.server('mismatch-other');
    const mismatched = await configFile(
      'mismatched.yaml',
      `tls:\n  xds: { certFile: ${server.certFile}, keyFile: ${other.keyFile}, clientCaFile: ${pki.ca.certFile} }\n`,
    );
    const missing = await configFile(
      'missing.yaml',
      `tls:\n  xds: { certFile: ${server.certFile}, keyFile: ${server.keyFile}, clientCaFile: ${dir}/nowhere.crt }\n`,
    );
    const runs = await Promise.all([
      runCli(['router', '--config', mismatched, '--federation', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0']),
      runCli(['up', '--config', missing, '--listen', '127.0.0.1:0']),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2]);
    expect(runs[0]?.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^spillway: tls\.xds: .*mismatch/)]);
    expect(runs[1]?.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^spillway: tls\.xds: .*nowhere\.crt: cannot read the CA bundle: ENOENT/),
    ]);
  });

  it('knows loopback from the rest once names are resolved', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopbackIp)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1'].map(isLoopbackIp)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('spillway router accepts localhost (it resolves to loopback)', async () => {
    const cli = new CliProcess([
      'router',
      '--federation',
      'http://127.0.0.1:9',
      '--listen',
      '127.0.0.1:0',
      '--xds',
      'localhost:0',
    ]);
    running.push(cli);
    await cli.waitForOutput(/xDS\s+port (\d+)/);
  });
});

describe('spillway up with tls.xds and xdsAuthorization', () => {
  it('serves xDS only over mutual TLS, lists client identities, applies the rules', async () => {
    const server = pki.server('up-xds');
    const config = await configFile(
      'mtls.yaml',
      `listen: { http: 127.0.0.1:0, xds: 127.0.0.1:0 }
tls:
  xds: { certFile: ${server.certFile}, keyFile: ${server.keyFile}, clientCaFile: ${pki.ca.certFile} }
xdsAuthorization:
  rules:
    - identity: "spiffe://lab/ns/shop/sa/*"
      localities: [{ region: dc1 }]
      services: ["*.shop"]
${CLUSTERS}`,
    );
    const cli = new CliProcess(['up', '--config', config]);
    running.push(cli);
    const api = await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const xdsPort = Number(await cli.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));

    const cart = pki.ca.issue('up-cart', { uris: ['spiffe://lab/ns/shop/sa/cart'] });
    const client = AdsTestClient.sotw(xdsPort, mtlsCredentials(pki.ca.certFile, cart));
    const plaintext = AdsTestClient.sotw(xdsPort);
    const elsewhere = AdsTestClient.sotw(xdsPort, mtlsCredentials(pki.ca.certFile, cart));
    try {
      const node = (region: string) => ({ id: `n-${region}`, locality: { region, zone: 'a', sub_zone: '' } });
      client.send({ node: node('dc1'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
      const clusters = (await client.next()).resources.map(
        (any) => envoyProtos().Cluster.decode(any.value).toJSON().name as string,
      );
      expect(clusters).toEqual(['cart.shop']);
      plaintext.send({ node: node('dc1'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
      expect((await plaintext.ended).code).toBe(grpc.status.UNAVAILABLE);
      elsewhere.send({ node: node('dc2'), type_url: CLUSTER_TYPE_URL, resource_names: [] });
      expect((await elsewhere.ended).code).toBe(grpc.status.PERMISSION_DENIED);

      const body = (await (await fetch(`${api}/v1/xds/clients`)).json()) as { clients: XdsClientInfo[] };
      expect(body.clients.map((info) => [info.nodeId, info.identity])).toEqual([
        ['n-dc1', 'spiffe://lab/ns/shop/sa/cart'],
      ]);

      // Drill probes (grpc-js-xds) could not present a certificate: the drill is refused, not run blind.
      const drill = await fetch(`${api}/v1/drills`, {
        method: 'POST',
        headers: {
          'content-type': 'application/yaml',
          authorization: `Bearer ${readFileSync(TOKEN_FILE, 'utf8').trim()}`,
        },
        body: `name: drain\nmode: live\ntarget: { service: cart.shop, clients: [{ region: dc1, zone: a }] }\ndurationSeconds: 5\ntimeline:\n  - { atSeconds: 0, action: { kind: drain, zone: a } }\n`,
      });
      expect(drill.status).toBe(422);
      expect(((await drill.json()) as { detail: string }).detail).toMatch(/drills are not available with tls\.xds/);
    } finally {
      for (const ads of [client, plaintext, elsewhere]) ads.close();
    }
    expect(await cli.stop()).toBe(0);
  }, 120_000);
});
