import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from './cli-process.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

interface DecodedLocality {
  locality: { zone: string };
  priority?: number;
  lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[];
}

describe('spillway up (embedded mode, child process)', () => {
  it('serves the embedded catalog over HTTP and priority EDS over xDS, and stops cleanly on SIGTERM', async () => {
    const cli = new CliProcess(['up', '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
    running.push(cli);
    const api = await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const xdsPort = Number(await cli.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));
    await cli.waitForOutput(/catalog v1: 2 service\(s\)/);

    const services = (await (await fetch(`${api}/v1/services`)).json()) as { services: { key: string }[] };
    expect(services.services.map((s) => s.key)).toEqual(['checkout.shop', 'echo.demo']);

    const ads = AdsTestClient.sotw(xdsPort);
    try {
      ads.send({
        node: { id: 'lab-a-client', locality: { region: 'lab', zone: 'lab-a', sub_zone: '' } },
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['echo.demo'],
      });
      const response = await ads.next(20_000);
      const cla = envoyProtos().ClusterLoadAssignment.decode(response.resources[0]!.value).toJSON() as {
        endpoints: DecodedLocality[];
      };
      const byPriority = cla.endpoints.map((l) => ({
        zone: l.locality.zone,
        priority: l.priority ?? 0,
        ports: l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value),
      }));
      // The client's own zone first, then the other on-prem zone, then the cloud.
      expect(byPriority).toEqual([
        { zone: 'lab-a', priority: 0, ports: [50051] },
        { zone: 'lab-b', priority: 1, ports: [50052] },
        { zone: 'us-east-1a', priority: 2, ports: [50151] },
      ]);
      const clients = (await (await fetch(`${api}/v1/xds/clients`)).json()) as { clients: { nodeId: string }[] };
      expect(clients.clients.map((c) => c.nodeId)).toEqual(['lab-a-client']);
    } finally {
      ads.close();
    }
    expect(await cli.stop()).toBe(0);
  });
});

describe('spillway config validate', () => {
  it('accepts a valid file and names file, line, field and reason for a broken one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-cli-'));
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'clusters:\n  - { name: lab, kind: static, environment: onprem, region: lab }\n');
    const ok = await runCli(['config', 'validate', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid — 1 cluster(s): lab (static, onprem)');

    const broken = join(dir, 'broken.yaml');
    await writeFile(
      broken,
      'clusters:\n  - name: dc1\n    kind: consul\n    environment: onprem\n    region: dc1\n    address: nowhere\n',
    );
    const bad = await runCli(['config', 'validate', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${broken}:6:14: clusters[0].address: expected a URL`);
  });
});
