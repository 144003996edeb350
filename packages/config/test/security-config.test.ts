import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/index.js';
import { problems as problemsIn } from './support/problems.js';

/** The `security:` section: mesh mTLS the router publishes through xDS. */
const BASE = `
clusters:
  - name: lab
    kind: static
    environment: onprem
    region: lab
    services:
      - name: echo
        namespace: demo
        endpoints: [ { address: 127.0.0.1, port: 50051 } ]
security:
  trustDomain: lab
  services:
`;

const problems = (services: string) => problemsIn(BASE + services);

describe('security config', () => {
  it('accepts a STRICT service with identity and callers, and fills the defaults', () => {
    const config = parseConfig(
      `${BASE}    - { service: echo.demo, mtls: STRICT, identity: "spiffe://lab/ns/demo/sa/echo", allowedCallers: [ "spiffe://lab/ns/demo/sa/*" ] }\n`,
      'spillway.yaml',
      {},
    );
    expect(config.security).toMatchObject({
      trustDomain: 'lab',
      certificateProvider: 'default',
      trustBundleSecret: 'ROOTCA',
    });
    expect(config.security?.services[0]?.allowedCallers).toEqual(['spiffe://lab/ns/demo/sa/*']);
  });

  it('names file, line and field for an unknown trust domain, a malformed SPIFFE ID and an unknown service', () => {
    expect(
      problems(
        [
          '    - service: echo.demo',
          '      mtls: STRICT',
          '      identity: "spiffe://corp/ns/demo/sa/echo"',
          '      allowedCallers: [ "spiffe:/lab/missing-slash" ]',
          '    - { service: ghost.demo, mtls: DISABLE }',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^spillway\.yaml:17:\d+: security\.services\[0\]\.allowedCallers\[0\]: expected a SPIFFE ID/,
      ),
      expect.stringMatching(/^spillway\.yaml:16:\d+: security\.services\[0\]\.identity: trust domain "corp" is not/),
      expect.stringMatching(
        /^spillway\.yaml:18:\d+: security\.services\[1\]\.service: ghost\.demo is in no burst policy/,
      ),
    ]);
  });

  it('needs an identity whenever TLS is on, and refuses callers without TLS', () => {
    expect(problems('    - { service: echo.demo, mtls: PERMISSIVE }\n')).toEqual([
      expect.stringMatching(/security\.services\[0\]\.identity: mtls PERMISSIVE needs the servers' identity/),
    ]);
    expect(
      problems('    - { service: echo.demo, mtls: DISABLE, allowedCallers: [ "spiffe://lab/ns/demo/sa/a" ] }\n'),
    ).toEqual([expect.stringMatching(/allowedCallers: callers cannot be authorized without TLS/)]);
  });
});
