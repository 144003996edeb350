import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedDefaultConfig, loadConfigFile, parseConfig } from '../src/index.js';
import { problems } from './support/problems.js';

const VALID = `
listen: { http: 127.0.0.1:7070, xds: 127.0.0.1:18000 }
auth:
  tokens:
    - { name: ops, role: operator, sha256: "${'ab'.repeat(32)}" }
clusters:
  - name: lab
    kind: static
    environment: onprem
    region: lab
    services:
      - name: echo
        namespace: demo
        endpoints:
          - { address: 127.0.0.1, port: 50051, zone: lab-a }
          - { address: 127.0.0.1, port: 50052, zone: lab-b, health: unhealthy }
  - name: dc1-consul
    kind: consul
    environment: onprem
    region: dc1
    address: http://127.0.0.1:8500
    tokenEnv: CONSUL_HTTP_TOKEN
    namespace: { fromMeta: k8s-namespace }
`;

describe('config', () => {
  it('parses the documented shape with defaults filled in', () => {
    const config = parseConfig(VALID, 'spillway.yaml', {});
    expect(config.clusters[0]).toMatchObject({ kind: 'static', services: [{ name: 'echo', namespace: 'demo' }] });
    expect(config.clusters[0]?.kind === 'static' && config.clusters[0].services[0]?.endpoints[1]?.health).toBe(
      'unhealthy',
    );
    expect(config.clusters[1]).toMatchObject({ kind: 'consul', waitSeconds: 300, namespace: { default: 'default' } });
    expect(config.federation.staleAfterSeconds).toBe(60);
    expect(config.redis).toBeUndefined();
  });

  it('reads retention with defaults for what is left out, and refuses caps that are no caps', () => {
    expect(parseConfig(VALID, 'spillway.yaml', {}).retention).toEqual({
      bursts: { maxCount: 1000, maxAgeDays: 7 },
      audit: { operator: 20_000, decision: 100_000, signal: 10_000, denial: 2_000 },
    });
    const custom = parseConfig(
      `${VALID}retention:\n  bursts: { maxAgeDays: 1.5 }\n  audit: { signal: 500 }\n`,
      'f',
      {},
    );
    expect(custom.retention.bursts).toEqual({ maxCount: 1000, maxAgeDays: 1.5 });
    expect(custom.retention.audit).toMatchObject({ signal: 500, operator: 20_000 });
    expect(problems(`${VALID}retention:\n  audit: { signal: 0 }\n  bursts: { maxCount: -1, ttl: 3 }\n`)).toEqual([
      expect.stringMatching(/retention\.bursts\.maxCount: /),
      expect.stringMatching(/retention\.bursts: .*ttl/),
      expect.stringMatching(/retention\.audit\.signal: .*100/),
    ]);
  });

  it('turns load reporting on every 10 s by default, and refuses an interval under 1 s', () => {
    expect(parseConfig(VALID, 'spillway.yaml', {}).loadReporting).toEqual({
      enabled: true,
      intervalSeconds: 10,
      publishIntervalSeconds: 5,
    });
    expect(parseConfig(`${VALID}loadReporting: { intervalSeconds: 1 }\n`, 'f', {}).loadReporting).toEqual({
      enabled: true,
      intervalSeconds: 1,
      publishIntervalSeconds: 5,
    });
    expect(problems(`${VALID}loadReporting: { intervalSeconds: 0.5 }\n`)).toEqual([
      expect.stringMatching(/loadReporting\.intervalSeconds: /),
    ]);
    expect(problems(`${VALID}loadReporting: { publishIntervalSeconds: 0 }\n`)).toEqual([
      expect.stringMatching(/loadReporting\.publishIntervalSeconds: expected at least 1 second/),
    ]);
  });

  it('names the file, line, field path and what was expected', () => {
    const broken = VALID.replace('address: http://127.0.0.1:8500', 'address: not a url').replace(
      'port: 50052',
      'port: 70000',
    );
    expect(problems(broken)).toEqual([
      expect.stringMatching(/^spillway\.yaml:16:\d+: clusters\[0\]\.services\[0\]\.endpoints\[1\]\.port: .*65535/),
      expect.stringMatching(/^spillway\.yaml:21:\d+: clusters\[1\]\.address: expected a URL/),
    ]);
  });

  it('rejects unknown fields, unknown kinds and duplicate cluster names', () => {
    expect(problems(`clusters:\n  - { name: a, kind: static, environment: onprem, region: r, sevices: [] }\n`)).toEqual(
      [expect.stringMatching(/clusters\[0\]: unknown field "sevices"/)],
    );
    expect(problems(`clusters:\n  - { name: a, kind: zookeeper, environment: onprem, region: r }\n`)[0]).toMatch(
      /clusters\[0\]\.kind: expected one of 'static' \| 'kubernetes'/,
    );
    const twice = `clusters:\n  - { name: a, kind: static, environment: onprem, region: r }\n  - { name: a, kind: static, environment: cloud, region: r }\n`;
    expect(problems(twice)).toEqual([expect.stringMatching(/:3:\d+: clusters\[1\]\.name: duplicate cluster name "a"/)]);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problems('listen: { http: 127.0.0.1:7070\nclusters: [')[0]).toMatch(/^spillway\.yaml:\d+:\d+: invalid YAML/);
  });

  it('reads files and says which file could not be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-config-'));
    const file = join(dir, 'spillway.yaml');
    await writeFile(file, VALID);
    expect((await loadConfigFile(file, {})).clusters).toHaveLength(2);
    await expect(loadConfigFile(join(dir, 'missing.yaml'), {})).rejects.toThrow(/missing\.yaml: cannot read the file/);
  });

  it('lets the environment override deployment-specific values', () => {
    const config = parseConfig(VALID, 'spillway.yaml', {
      SPILLWAY_REDIS_URL: 'redis://127.0.0.1:6380',
      SPILLWAY_HTTP_LISTEN: '0.0.0.0:8080',
    });
    expect(config.redis).toBe('redis://127.0.0.1:6380');
    expect(config.listen).toEqual({ http: '0.0.0.0:8080', xds: '127.0.0.1:18000' });
  });

  it('ships a valid embedded default with on-prem and cloud endpoints', () => {
    const config = embeddedDefaultConfig();
    expect(config.clusters.map((c) => c.environment)).toEqual(['onprem', 'cloud']);
  });
});

describe('config policies', () => {
  const withPolicy = (policy: string) =>
    `clusters:\n  - { name: eks-use1, kind: static, environment: cloud, region: us-east-1 }\npolicies:\n${policy}`;

  it('validates burst policies and fills their defaults', () => {
    const config = parseConfig(
      withPolicy(
        '  - service: checkout.shop\n    capacity: { replicasAtFullShare: 20, maxReplicas: 20, maxNodes: 4 }\n    cloud: { deployment: { cluster: eks-use1, namespace: shop, name: checkout } }\n',
      ),
      'spillway.yaml',
      {},
    );
    expect(config.policies[0]).toMatchObject({ steps: [0.1, 0.25, 0.5], maxShare: 0.5, cooldownSeconds: 300 });
  });

  it('rejects steps above the maximum share and deployments in unknown clusters', () => {
    expect(
      problems(
        withPolicy(
          '  - service: checkout.shop\n    steps: [0.2, 0.7]\n    capacity: { replicasAtFullShare: 20, maxReplicas: 20, maxNodes: 4 }\n    cloud: { deployment: { cluster: nowhere, namespace: shop, name: checkout } }\n',
        ),
      ),
    ).toEqual([
      expect.stringMatching(/:5:\d+: policies\[0\]\.steps\[1\]: step 0\.7 is above maxShare 0\.5/),
      expect.stringMatching(/policies\[0\]\.cloud\.deployment\.cluster: no cluster named "nowhere"/),
    ]);
  });

  it("names a policy's cost field that is wrong: an unknown time zone, a negative price", () => {
    expect(
      problems(
        withPolicy(
          '  - service: checkout.shop\n    capacity: { replicasAtFullShare: 20, maxReplicas: 20, maxNodes: 4 }\n    cost: { nodeHourly: -1, dailyResetTimeZone: Europe/Atlantis }\n',
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^spillway\.yaml:6:\d+: policies\[0\]\.cost\.nodeHourly: .*>=0/),
      expect.stringMatching(
        /^spillway\.yaml:6:\d+: policies\[0\]\.cost\.dailyResetTimeZone: expected an IANA time zone name such as Europe\/Berlin or UTC/,
      ),
    ]);
  });
});

describe('xdsAuthorization', () => {
  const TLS = `tls:\n  xds: { certFile: x.crt, keyFile: x.key, clientCaFile: ca.crt }\n`;

  it('parses rules of identities, localities and service patterns', () => {
    const config = parseConfig(
      `${TLS}xdsAuthorization:\n  rules:\n    - identity: "spiffe://lab/ns/shop/sa/*"\n      localities: [{ region: dc1, zone: dc1-a }, { region: dc2 }]\n      services: [cart.shop, "*.shop"]\n    - { identity: ops-admin }\n`,
      'spillway.yaml',
      {},
    );
    expect(config.xdsAuthorization?.rules).toEqual([
      {
        identity: 'spiffe://lab/ns/shop/sa/*',
        localities: [{ region: 'dc1', zone: 'dc1-a' }, { region: 'dc2' }],
        services: ['cart.shop', '*.shop'],
      },
      { identity: 'ops-admin' },
    ]);
  });

  it('says which rule is wrong, and that rules need tls.xds', () => {
    const bad = `${TLS}xdsAuthorization:\n  rules:\n    - identity: a\n      services: [cart]\n      localities: [{ region: dc1, subZone: r1 }]\n`;
    expect(problems(bad)).toEqual([
      expect.stringMatching(/xdsAuthorization\.rules\[0\]\.localities\[0\]\.subZone: subZone needs a zone/),
      expect.stringMatching(/xdsAuthorization\.rules\[0\]\.services\[0\]: expected NAME\.NS/),
    ]);
    expect(problems('xdsAuthorization:\n  rules: []\n')[0]).toMatch(/rules: expected at least one rule/);
    expect(problems('xdsAuthorization:\n  rules: [{ identity: a }]\n')).toEqual([
      expect.stringMatching(/xdsAuthorization: needs tls\.xds/),
    ]);
  });
});
