import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@spillway/config';
import { describe, expect, it } from 'vitest';
import {
  DrillFile,
  drillDeadlineSeconds,
  entryEndSeconds,
  loadDrillFile,
  parseDrill,
  SIMULATED_ONLY,
  type TimelineEntry,
} from '../src/drill-file.js';

const SHIPPED = fileURLToPath(new URL('../../../infra/drills/', import.meta.url));
const FILE = 'drills/bad.yaml';

/** A valid drill; line 8 is the only timeline entry, line 6 durationSeconds. */
const BASE = `name: dc1-a zone down
target:
  service: cart.shop
  clients:
    - { region: dc1, zone: dc1-a }
durationSeconds: 10
timeline:
  - { atSeconds: 2, forSeconds: 3, action: { kind: zone-down, zone: dc1-a } }
`;

/** The drill with its only timeline entry's action replaced. */
function withAction(action: string, mode = 'simulated'): string {
  return BASE.replace('{ kind: zone-down, zone: dc1-a }', action).replace(
    'name: dc1-a zone down',
    `name: x\nmode: ${mode}`,
  );
}

/** The ConfigError's lines, one per problem; fails the test when the drill parses. */
function problems(text: string): string[] {
  try {
    parseDrill(text, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function entry(atSeconds: number, forSeconds?: number): TimelineEntry {
  return { atSeconds, ...(forSeconds === undefined ? {} : { forSeconds }), action: { kind: 'zone-down', zone: 'z' } };
}

describe('shipped drills (infra/drills)', () => {
  it('every shipped drill parses, and the set is not empty', async () => {
    const files = (await readdir(SHIPPED)).filter((file) => file.endsWith('.yaml')).sort();
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const drill = await loadDrillFile(join(SHIPPED, file));
      expect(drill.name, file).not.toBe('');
      expect(drill.timeline.length, file).toBeGreaterThan(0);
      expect(drillDeadlineSeconds(drill), file).toBeGreaterThanOrEqual(drill.durationSeconds);
      if (drill.mode === 'live') {
        expect(
          drill.timeline.filter((e) => SIMULATED_ONLY.has(e.action.kind)),
          file,
        ).toEqual([]);
      }
    }
  });

  it('reads the shipped files as written, defaults filled in', async () => {
    const live = await loadDrillFile(join(SHIPPED, 'live-drain.yaml'));
    expect(live).toMatchObject({
      mode: 'live',
      target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
      probes: { ratePerSecond: 40, method: '/spillway.simulator.Identity/Who', timeoutMs: 2000 },
      durationSeconds: 12,
      deadlineSeconds: 60,
      settleSeconds: 2,
      timeline: [{ atSeconds: 2, forSeconds: 6, action: { kind: 'drain', zone: 'dc1-a' } }],
      expect: { failoverWithinSeconds: 5, detectWithinSeconds: 2, errorRatioBelow: 0.1 },
    });
    expect(drillDeadlineSeconds(live)).toBe(60);

    const outage = await loadDrillFile(join(SHIPPED, 'control-plane-outage.yaml'));
    expect(outage.timeline.map((e) => e.action)).toEqual([
      { kind: 'registry-down', site: 'dc1' },
      { kind: 'router-restart', downSeconds: 2 },
    ]);
    // No forSeconds: the router restart lasts until the drill's end.
    expect(entryEndSeconds(outage, outage.timeline[1]!)).toBe(14);
    expect(drillDeadlineSeconds(outage)).toBe(44);
  });

  it('wrong-trust-bundle needs mtls: true, and mtls is for simulated drills', () => {
    const base = (extra: string, mode = 'simulated') =>
      `name: t\nmode: ${mode}\n${extra}target: { service: a.b, clients: [ { region: r, zone: z } ] }\ndurationSeconds: 10\ntimeline:\n  - { atSeconds: 1, action: { kind: wrong-trust-bundle, region: us-east-1 } }\n`;
    expect(() => parseDrill(base(''), 'd.yaml')).toThrow(
      /timeline\[0\]\.action\.kind: wrong-trust-bundle needs mesh mTLS/,
    );
    expect(parseDrill(base('mtls: true\n'), 'd.yaml').mtls).toBe(true);
    expect(() => parseDrill(base('mtls: true\n', 'live'), 'd.yaml')).toThrow(/mtls: mtls is for simulated drills/);
  });

  it('names the file it cannot read', async () => {
    const missing = join(SHIPPED, 'no-such-drill.yaml');
    await expect(loadDrillFile(missing)).rejects.toThrow(ConfigError);
    await expect(loadDrillFile(missing)).rejects.toThrow(/no-such-drill\.yaml: cannot read the file/);
  });
});

describe('parseDrill defaults', () => {
  it('fills in mode, mtls, description, probes, settle, expectations and the deadline', () => {
    const drill = parseDrill(BASE, FILE);
    expect(drill).toEqual({
      name: 'dc1-a zone down',
      description: '',
      mode: 'simulated',
      mtls: false,
      target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
      probes: { ratePerSecond: 50, timeoutMs: 1000 },
      durationSeconds: 10,
      settleSeconds: 2,
      timeline: [{ atSeconds: 2, forSeconds: 3, action: { kind: 'zone-down', zone: 'dc1-a' } }],
      expect: {},
    });
    expect(drill.deadlineSeconds).toBeUndefined();
    expect(drillDeadlineSeconds(drill)).toBe(40);
  });

  it('defaults each probe field on its own and the router restart to 1 s down', () => {
    const drill = parseDrill(
      withAction('{ kind: router-restart }') + 'probes: { timeoutMs: 250 }\nsettleSeconds: 0.5\n',
      FILE,
    );
    expect(drill.probes).toEqual({ ratePerSecond: 50, timeoutMs: 250 });
    expect(drill.settleSeconds).toBe(0.5);
    expect(drill.timeline[0]?.action).toEqual({ kind: 'router-restart', downSeconds: 1 });
  });

  it('takes JSON too', () => {
    const drill = parseDrill(
      JSON.stringify({
        name: 'j',
        target: { service: 'a.b', clients: [{ region: 'r', zone: 'z' }] },
        durationSeconds: 5,
        timeline: [],
      }),
      'drill.json',
    );
    expect(drill.mode).toBe('simulated');
    expect(drill.timeline).toEqual([]);
  });

  it('accepts a deadline equal to the duration and an entry starting just before the end', () => {
    const drill = parseDrill(BASE.replace('atSeconds: 2', 'atSeconds: 9.5') + 'deadlineSeconds: 10\n', FILE);
    expect(drillDeadlineSeconds(drill)).toBe(10);
    expect(drill.timeline[0]?.atSeconds).toBe(9.5);
  });

  it('lets live drills break places (as router drains) and set overrides', () => {
    for (const action of [
      '{ kind: zone-down, zone: dc1-a }',
      '{ kind: site-down, site: dc1 }',
      '{ kind: region-down, region: dc1 }',
      '{ kind: drain, cluster: dc1 }',
      '{ kind: drain, region: dc1, zone: dc1-a }',
      '{ kind: force-share, share: 0.3 }',
    ]) {
      expect(parseDrill(withAction(action, 'live'), FILE).mode, action).toBe('live');
    }
  });
});

describe('parseDrill errors name file:line:col, the field and the reason', () => {
  it('an unknown top-level field', () => {
    expect(problems(BASE + 'colour: red\n')).toEqual([`${FILE}:1:1: unknown field "colour"`]);
  });

  it('an unknown field inside target, and inside an action', () => {
    expect(problems(BASE.replace('service: cart.shop', 'service: cart.shop\n  extra: 1'))).toEqual([
      `${FILE}:3:3: target: unknown field "extra"`,
    ]);
    expect(problems(withAction('{ kind: zone-down, zone: dc1-a, site: dc1 }'))).toEqual([
      expect.stringMatching(/^drills\/bad\.yaml:9:\d+: timeline\[0\]\.action: unknown field "site"$/),
    ]);
  });

  it('a missing target.service, located at its parent', () => {
    expect(problems(BASE.replace('  service: cart.shop\n', ''))).toEqual([
      `${FILE}:3:3: target.service: Invalid input: expected string, received undefined`,
    ]);
  });

  it('a service that is not NAME.NAMESPACE', () => {
    for (const service of ['cart', 'cart.shop.extra', '"cart .shop"']) {
      expect(problems(BASE.replace('cart.shop', service)), service).toEqual([
        expect.stringMatching(/^drills\/bad\.yaml:3:12: target\.service: expected NAME\.NAMESPACE$/),
      ]);
    }
  });

  it('an entry starting at or after durationSeconds', () => {
    expect(problems(BASE.replace('atSeconds: 2', 'atSeconds: 10'))).toEqual([
      `${FILE}:8:18: timeline[0].atSeconds: starts after the drill ends (durationSeconds 10)`,
    ]);
    const second = `${BASE}  - { atSeconds: 12, action: { kind: force-share, share: 0.1 } }\n`;
    expect(problems(second)).toEqual([
      `${FILE}:9:18: timeline[1].atSeconds: starts after the drill ends (durationSeconds 10)`,
    ]);
  });

  it('a deadline shorter than the duration', () => {
    expect(problems(BASE + 'deadlineSeconds: 5\n')).toEqual([
      `${FILE}:9:18: deadlineSeconds: must not be shorter than durationSeconds`,
    ]);
  });

  it('live mode refuses latency, registry-down and router-restart, naming timeline[i].action.kind', () => {
    const live = `${withAction('{ kind: drain, zone: dc1-a }', 'live')}  - { atSeconds: 1, action: { kind: latency, extraSeconds: 1 } }
  - { atSeconds: 1, action: { kind: registry-down, site: dc1 } }
  - { atSeconds: 1, action: { kind: router-restart } }
`;
    const found = problems(live);
    expect(found).toEqual([
      `${FILE}:10:37: timeline[1].action.kind: "latency" can only be simulated: live drills act through router overrides only`,
      `${FILE}:11:37: timeline[2].action.kind: "registry-down" can only be simulated: live drills act through router overrides only`,
      `${FILE}:12:37: timeline[3].action.kind: "router-restart" can only be simulated: live drills act through router overrides only`,
    ]);
    // The same entries are fine in a simulated drill.
    expect(parseDrill(live.replace('mode: live', 'mode: simulated'), FILE).timeline).toHaveLength(4);
  });

  it('a drain with no zone, region or cluster', () => {
    expect(problems(withAction('{ kind: drain }'))).toEqual([
      expect.stringMatching(/^drills\/bad\.yaml:9:\d+: timeline\[0\]\.action: drain needs a zone, region or cluster$/),
    ]);
  });

  it('an unknown action kind lists the known ones', () => {
    expect(problems(withAction('{ kind: zone-up, zone: dc1-a }'))).toEqual([
      expect.stringMatching(/^drills\/bad\.yaml:9:\d+: timeline\[0\]\.action\.kind: expected one of 'zone-down' \| /),
    ]);
  });

  it('out-of-range numbers', () => {
    expect(problems(withAction('{ kind: latency, extraSeconds: 11 }'))[0]).toMatch(
      /^drills\/bad\.yaml:9:\d+: timeline\[0\]\.action\.extraSeconds: /,
    );
    expect(problems(withAction('{ kind: force-share, share: 1.5 }'))[0]).toMatch(
      /^drills\/bad\.yaml:9:\d+: timeline\[0\]\.action\.share: /,
    );
    expect(problems(BASE.replace('durationSeconds: 10', 'durationSeconds: 0'))[0]).toMatch(
      /^drills\/bad\.yaml:6:18: durationSeconds: /,
    );
  });

  it('invalid YAML, with its position', () => {
    expect(problems(`${BASE}expect: { errorRatioBelow: 0.1\n`)[0]).toMatch(
      /^drills\/bad\.yaml:\d+:\d+: invalid YAML: /,
    );
    expect(problems(`${BASE}name: twice\n`)).toEqual([`${FILE}:9:1: invalid YAML: Map keys must be unique`]);
  });

  it('every problem at once, each on its own line, in a ConfigError naming the file', () => {
    let caught: unknown;
    try {
      parseDrill(BASE.replace('cart.shop', 'cart') + 'colour: red\n', FILE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.file).toBe(FILE);
    expect(error.problems.map((p) => p.path).sort()).toEqual(['', 'target.service']);
  });
});

describe('entryEndSeconds and drillDeadlineSeconds', () => {
  const drill = DrillFile.parse({
    name: 'd',
    target: { service: 'a.b', clients: [{ region: 'r', zone: 'z' }] },
    durationSeconds: 10,
    timeline: [],
  });

  it('ends an entry after forSeconds, at the drill end without it, and never after the drill end', () => {
    expect(entryEndSeconds(drill, entry(2, 3))).toBe(5);
    expect(entryEndSeconds(drill, entry(2))).toBe(10);
    expect(entryEndSeconds(drill, entry(8, 5))).toBe(10);
  });

  it('uses the given deadline, or duration + 30', () => {
    expect(drillDeadlineSeconds(drill)).toBe(40);
    expect(drillDeadlineSeconds({ ...drill, deadlineSeconds: 12 })).toBe(12);
  });
});
