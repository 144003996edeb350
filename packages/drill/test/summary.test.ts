import { describe, expect, it } from 'vitest';
import { type DrillAction, DrillFile } from '../src/drill-file.js';
import { type DrillReport, evaluateDrill } from '../src/evaluate.js';
import type { DrillRecording, DrillSample, EndpointPlace } from '../src/recording.js';
import { describeAction, formatDrillReport } from '../src/summary.js';

const DC1A: EndpointPlace = { cluster: 'dc1', zone: 'dc1-a', region: 'dc1', environment: 'onprem' };
const DC1B: EndpointPlace = { cluster: 'dc1', zone: 'dc1-b', region: 'dc1', environment: 'onprem' };
const CLOUD: EndpointPlace = { cluster: 'us-east-1', zone: 'us-east-1a', region: 'us-east-1', environment: 'cloud' };

function every(from: number, to: number, make: (t: number) => DrillSample): DrillSample[] {
  const samples: DrillSample[] = [];
  for (let i = Math.round(from * 10); i < Math.round(to * 10); i++) samples.push(make(i / 10));
  return samples;
}
const ok = (endpoint: EndpointPlace) => (t: number) => ({ t, ok: true, code: 0, latencyMs: 2, endpoint });
const failed = (t: number): DrillSample => ({ t, ok: false, code: 14, latencyMs: 1000 });

/** Zone dc1-a down [3, 11): failover after 2 s, detected after 1.25 s; a router restart at 12 s; cloud answers from 14 s. */
function zoneDownReport(expect: Record<string, number>, parts: Partial<DrillRecording> = {}): DrillReport {
  const drill = DrillFile.parse({
    name: 'dc1-a zone down',
    target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
    durationSeconds: 16,
    timeline: [
      { atSeconds: 3, forSeconds: 8, action: { kind: 'zone-down', zone: 'dc1-a' } },
      { atSeconds: 12, action: { kind: 'router-restart', downSeconds: 2 } },
    ],
    expect,
  });
  const samples = [
    ...every(0, 3, ok(DC1A)),
    ...every(3, 4, failed),
    ...every(4, 5, ok(DC1A)),
    ...every(5, 14, ok(DC1B)),
    ...every(14, 16, ok(CLOUD)),
  ];
  return evaluateDrill(drill, {
    samples,
    views: [
      { t: 0, share: 0, servable: 'a:1,b:1' },
      { t: 4.25, share: 0, servable: 'b:1' },
    ],
    applied: [
      { index: 0, appliedAt: 3, undoneAt: 11 },
      { index: 1, appliedAt: 12, undoneAt: 16 },
    ],
    endedAt: 16,
    end: 'completed',
    ...parts,
  });
}

describe('formatDrillReport', () => {
  it('opens with the drill, its outcome, how it ended and the request totals', () => {
    const lines = formatDrillReport(zoneDownReport({ failoverWithinSeconds: 5 })).split('\n');
    expect(lines[0]).toBe('Drill "dc1-a zone down" (simulated) on cart.shop: PASSED');
    expect(lines[1]).toBe('  ran 16.0 s, ended: completed');
    expect(lines[2]).toBe('  probe requests 160, failed 10 (6.25 %), answered on-prem 130, cloud 20');

    const failedRun = formatDrillReport(zoneDownReport({ failoverWithinSeconds: 1 })).split('\n');
    expect(failedRun[0]).toMatch(/: FAILED$/);
    const broken = formatDrillReport(zoneDownReport({}, { end: 'error', error: 'probes never ready', samples: [] }));
    expect(broken.split('\n').slice(0, 3)).toEqual([
      'Drill "dc1-a zone down" (simulated) on cart.shop: ERROR',
      '  ran 16.0 s, ended: error (probes never ready)',
      '  probe requests 0, failed 0, answered on-prem 0, cloud 0',
    ]);
    expect(formatDrillReport(zoneDownReport({}, { end: 'deadline' }))).toMatch(/^Drill .*: ROLLED-BACK\n/);
  });

  it('shows each entry with its window, detect and failover figures and failures', () => {
    const text = formatDrillReport(zoneDownReport({}));
    const entries = text.split('\n').filter((line) => /^ {4}#\d/.test(line));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(
      /^ {4}#1 zone dc1-a down +3\.0s → +11\.0s {2}detect {2}1\.25s {2}failover {2}2\.00s {2}failed 10\/80$/,
    );
    // A router restart is neither detected nor failed over: dashes, not zeros.
    expect(entries[1]).toMatch(
      /^ {4}#2 router restart \(2s down\) +12\.0s → +16\.0s {2}detect +- +failover +- +failed 0\/40$/,
    );
  });

  it('shows what the clients reported over LRS, when the router measured it', () => {
    const reportedLoad = {
      service: 'cart.shop',
      windowSeconds: 16,
      localities: [
        { region: 'dc1', zone: 'dc1-b', environment: 'onprem' as const, requests: 120, errors: 0 },
        { region: 'us-east-1', zone: 'us-east-1a', environment: 'cloud' as const, requests: 30, errors: 2 },
      ],
      cloudShare: 0.2,
    };
    const text = formatDrillReport(zoneDownReport({}, { reportedLoad }));
    expect(text).toContain(
      [
        '  reported by the clients (LRS, last 16 s): cloud share 0.20 over 150 requests',
        '    dc1/dc1-b                    onprem  120 requests, 0 errors',
        '    us-east-1/us-east-1a         cloud   30 requests, 2 errors',
      ].join('\n'),
    );
    expect(formatDrillReport(zoneDownReport({}))).not.toContain('reported by the clients');
  });

  it('shows what the bursts during the run cost, when the policy has prices', () => {
    const cost = { total: 3.5, currency: 'EUR', bursts: [{ id: 'cart.shop-20260601T120000', total: 3.5 }] };
    const text = formatDrillReport(zoneDownReport({}, { cost }));
    expect(text).toContain(
      ['  cost of the bursts during the run: 3.50 EUR', '    cart.shop-20260601T120000  3.50 EUR'].join('\n'),
    );
    expect(zoneDownReport({}, { cost }).cost).toEqual(cost);
    expect(formatDrillReport(zoneDownReport({}))).not.toContain('cost of the bursts');
  });

  it('shows an entry error', () => {
    const text = formatDrillReport(
      zoneDownReport({}, { applied: [{ index: 0, appliedAt: 3, undoneAt: 11, error: 'undo failed: timeout' }] }),
    );
    expect(text.split('\n')[0]).toMatch(/: ERROR$/);
    expect(text).toMatch(/#1 zone dc1-a down .*failed 10\/80 {2}ERROR undo failed: timeout/);
  });

  it('marks each expectation PASS, FAIL or n/a with its detail', () => {
    const text = formatDrillReport(
      zoneDownReport(
        { failoverWithinSeconds: 5, detectWithinSeconds: 1, errorRatioBelow: 0.05, shareNeverAbove: 0.5 },
        { applied: [{ index: 0, appliedAt: 3, undoneAt: 11 }] },
      ),
    );
    const lines = text.split('\n');
    const at = lines.indexOf('  expectations');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1)).toEqual([
      '    PASS failoverWithinSeconds 5: worst 2s over 1 entry',
      '    FAIL detectWithinSeconds 1: worst 1.25s over 1 entry',
      '    FAIL errorRatioBelow 0.05: 10 of 160 probe requests failed',
      '    PASS shareNeverAbove 0.5: highest published cloud share 0',
    ]);

    const restartOnly = formatDrillReport(
      zoneDownReport({ detectWithinSeconds: 1 }, { applied: [{ index: 1, appliedAt: 12, undoneAt: 16 }] }),
    );
    // Entry #1 was never applied: its detection is missing.
    expect(restartOnly).toContain('    FAIL detectWithinSeconds 1: never reached for entry #1 (zone-down)');
  });

  it('marks an expectation that applies to no entry as n/a, and says when there is none', () => {
    const drill = DrillFile.parse({
      name: 'restart',
      target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
      durationSeconds: 4,
      timeline: [{ atSeconds: 1, action: { kind: 'router-restart' } }],
      expect: { failoverWithinSeconds: 3 },
    });
    const recording: DrillRecording = {
      samples: every(0, 4, ok(DC1A)),
      views: [],
      applied: [{ index: 0, appliedAt: 1, undoneAt: 4 }],
      endedAt: 4,
      end: 'completed',
    };
    const text = formatDrillReport(evaluateDrill(drill, recording));
    expect(text.split('\n')[0]).toMatch(/: PASSED$/);
    expect(text).toMatch(/\n {4}n\/a +failoverWithinSeconds 3: no timeline entry it applies to$/);
    const none = formatDrillReport(evaluateDrill({ ...drill, expect: {} }, recording));
    expect(none.split('\n').slice(-2)).toEqual(['  expectations', '    (none)']);
  });

  it('shows the share over time, always including buckets with failures', () => {
    const lines = formatDrillReport(zoneDownReport({})).split('\n');
    const from = lines.indexOf('  share over time (published / measured cloud share, failed requests)');
    const to = lines.indexOf('  expectations');
    const share = lines.slice(from + 1, to - 1);
    // 16 one-second buckets: every other one, plus the one where requests failed.
    expect(share).toEqual([
      '        0s  0.00 / 0.00  10 ok',
      '        2s  0.00 / 0.00  10 ok',
      '        3s  0.00 /   -   10 failed of 10',
      '        4s  0.00 / 0.00  10 ok',
      '        6s  0.00 / 0.00  10 ok',
      '        8s  0.00 / 0.00  10 ok',
      '       10s  0.00 / 0.00  10 ok',
      '       12s  0.00 / 0.00  10 ok',
      '       14s  0.00 / 1.00  10 ok',
    ]);
  });
});

describe('describeAction', () => {
  it.each<[DrillAction, string]>([
    [{ kind: 'zone-down', zone: 'dc1-a' }, 'zone dc1-a down'],
    [{ kind: 'site-down', site: 'dc2' }, 'site dc2 down'],
    [{ kind: 'region-down', region: 'us-east-1' }, 'region us-east-1 down'],
    [{ kind: 'latency', extraSeconds: 0.05 }, 'latency +0.05s'],
    [{ kind: 'latency', site: 'dc1', extraSeconds: 1 }, 'latency +1s in dc1'],
    [{ kind: 'latency', zone: 'dc1-b', extraSeconds: 2 }, 'latency +2s in dc1-b'],
    [{ kind: 'registry-down', site: 'dc1' }, 'registry of dc1 down'],
    [{ kind: 'router-restart', downSeconds: 2 }, 'router restart (2s down)'],
    [{ kind: 'drain', zone: 'dc1-a' }, 'drain dc1-a'],
    [{ kind: 'drain', cluster: 'dc1', region: 'dc1r', zone: 'dc1-a' }, 'drain dc1/dc1r/dc1-a'],
    [{ kind: 'force-share', share: 0.25 }, 'force cloud share 0.25'],
  ])('%j → %s', (action, text) => {
    expect(describeAction(action)).toBe(text);
  });
});
