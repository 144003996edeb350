import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@spillway/test/support/wait';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, envoyProtos } from '@spillway/xds';
import { AdsTestClient } from '@spillway/xds/test-support/ads-test-client';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, runCli } from './cli-process.js';
import { expectQuietTerminal, recordLines } from './support/terminal-output.js';

const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

interface DecodedLocality {
  locality: { zone: string };
  priority?: number;
  lb_endpoints: unknown[];
}

describe('spillway up (embedded mode, child process)', () => {
  it('runs the simulated fleet: catalog over HTTP, priority EDS over xDS, a burst that scales out and comes back', async () => {
    const logs = await mkdtemp(join(tmpdir(), 'spillway-up-logs-'));
    const cli = new CliProcess([
      'up',
      '--listen',
      '127.0.0.1:0',
      '--xds',
      '127.0.0.1:0',
      '--log-level',
      'info',
      '--log-file',
      join(logs, 'up.log'),
    ]);
    running.push(cli);
    const stdout = recordLines(cli.child.stdout);
    // A busy machine can take tens of seconds to start it; the deadline only detects a hang.
    const api = await cli.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    const xdsPort = Number(await cli.waitForOutput(/xDS\s+127\.0\.0\.1:(\d+)/));

    const services = await waitFor(async () => {
      const body = (await (await fetch(`${api}/v1/services`)).json()) as { services: { key: string }[] };
      return body.services.length >= 3 ? body.services.map((s) => s.key) : undefined;
    });
    expect(services).toEqual(['cart.shop', 'checkout.shop', 'search.catalog']);

    const ads = AdsTestClient.sotw(xdsPort);
    try {
      ads.send({
        node: { id: 'dc1-a-client', locality: { region: 'dc1', zone: 'dc1-a', sub_zone: '' } },
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        resource_names: ['checkout.shop'],
      });
      const response = await ads.next(20_000);
      const cla = envoyProtos().ClusterLoadAssignment.decode(response.resources[0]!.value).toJSON() as {
        endpoints: DecodedLocality[];
      };
      const localities = cla.endpoints.map((l) => ({
        zone: l.locality.zone,
        priority: l.priority ?? 0,
        count: l.lb_endpoints.length,
      }));
      const byZone = (zone: string) => localities.find((l) => l.zone === zone);
      // The client's own zone first (3 pods), then the other on-prem zone. Found by zone, not by
      // position: the surge starts one real second after start (60× simulated time), so on a
      // busy machine the first answer may already carry a burst's cloud localities at priority 0.
      expect(byZone('dc1-a')).toEqual({ zone: 'dc1-a', priority: 0, count: 3 });
      expect(byZone('dc1-b')).toEqual({ zone: 'dc1-b', priority: 1, count: 3 });
      // The cloud's pods, once the burst has started them, are either the last failover ring or
      // (the share moved) at priority 0 beside the client's zone; before that there are none.
      const cloudPriorities = [
        ...new Set(localities.filter((l) => l.zone.startsWith('us-east-1')).map((l) => l.priority)),
      ];
      expect([[], [0], [2]]).toContainEqual(cloudPriorities);
      const clients = (await (await fetch(`${api}/v1/xds/clients`)).json()) as { clients: { nodeId: string }[] };
      expect(clients.clients.map((c) => c.nodeId)).toEqual(['dc1-a-client']);
      // Load reports are on by default; a raw ADS client sends none.
      expect(await (await fetch(`${api}/v1/load?service=checkout.shop&windowSeconds=30`)).json()).toEqual({
        service: 'checkout.shop',
        windowSeconds: 30,
        localities: [],
        cloudShare: null,
      });
    } finally {
      ads.close();
    }

    // The surge breaches the SLO; the controller scales the cloud and shifts up to the top step,
    // then, once the error windows are clean, steps back and releases the capacity.
    await cli.waitForOutput(/checkout\.shop .*cloud share 0\.50 .*burst holding/, 120_000);
    const holding = cli.stdout.length;
    await waitFor(
      () => /checkout\.shop .*cloud share 0\.00 {2}cloud endpoints 0 {2}burst idle/.test(cli.stdout.slice(holding)),
      {
        timeoutMs: 180_000,
        message: 'the burst to come back',
      },
    );
    const bursts = (await (await fetch(`${api}/v1/bursts`)).json()) as {
      bursts: { active: boolean; service: string; prewarm: { shiftedAt: string | null } | null }[];
    };
    const ofService = (service: string) => bursts.bursts.filter((burst) => burst.service === service);
    expect(ofService('checkout.shop')).toEqual([expect.objectContaining({ active: false, prewarm: null })]);
    // Meanwhile cart.shop's slow climb was seen coming: its cloud capacity was warmed with no
    // traffic moved (the terminal said so), and traffic moved onto it once the load arrived.
    expect(cli.stdout).toMatch(/cart\.shop .*cloud share 0\.00 {2}cloud endpoints \d+ {2}burst warming/);
    const [cart] = ofService('cart.shop');
    expect(cart?.prewarm?.shiftedAt).toEqual(expect.any(String));
    expect(await cli.stop()).toBe(0);

    // The terminal shows the banner and status lines only; the JSON log is in the file it names.
    expectQuietTerminal(stdout);
    expect(cli.stdout).toContain(`logs     ${join(logs, 'current.log')}  (JSON, level info;`);
    const logged = await readFile(join(logs, 'current.log'), 'utf8');
    expect(logged).toContain('"msg":"simulated fleet started"');
    expect(logged).toContain('"msg":"stopped"');
  }, 360_000);
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

describe('spillway up --log-level and --log-file', () => {
  it('refuses a bad level or an unwritable log file with exit 2 and one line, before anything starts', async () => {
    const badLevel = await runCli(['up', '--log-level', 'loud', '--listen', '127.0.0.1:0', '--xds', '127.0.0.1:0']);
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toBe(
      "spillway: --log-level: expected one of trace, debug, info, warn, error, fatal, silent, got 'loud'\n",
    );
    const dir = await mkdtemp(join(tmpdir(), 'spillway-up-'));
    await writeFile(join(dir, 'a-file'), '');
    const badFile = await runCli(['up', '--log-file', join(dir, 'a-file', 'up.log'), '--listen', '127.0.0.1:0']);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(
      new RegExp(
        `^spillway: cannot write the log file ${join(dir, 'a-file', 'up.log')}: .*\\(choose another with --log-file or SPILLWAY_LOG_FILE\\)\\n$`,
      ),
    );
    expect(badFile.stdout).toBe('');
  });
});
