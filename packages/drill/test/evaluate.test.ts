import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DrillAction, DrillFile } from '../src/drill-file.js';
import { type DrillReport, evaluateDrill } from '../src/evaluate.js';
import type { AppliedEntry, DrillRecording, DrillSample, EndpointPlace, ViewSample } from '../src/recording.js';

/** Fixed seeds: the suite is deterministic; change a seed to explore further. */
const RUNS = { numRuns: 300, seed: 20250411 };

const DC1A: EndpointPlace = { cluster: 'dc1', zone: 'dc1-a', region: 'dc1', environment: 'onprem' };
const DC1B: EndpointPlace = { cluster: 'dc1', zone: 'dc1-b', region: 'dc1', environment: 'onprem' };
/** Another cluster in the same zone and region as DC1A. */
const NOMAD1A: EndpointPlace = { cluster: 'dc1-nomad', zone: 'dc1-a', region: 'dc1', environment: 'onprem' };
const DC2A: EndpointPlace = { cluster: 'dc2', zone: 'dc2-a', region: 'dc2', environment: 'onprem' };
const CLOUD: EndpointPlace = { cluster: 'us-east-1', zone: 'us-east-1a', region: 'us-east-1', environment: 'cloud' };

const ZONE_DOWN: DrillAction = { kind: 'zone-down', zone: 'dc1-a' };

function ok(t: number, endpoint: EndpointPlace = DC1B): DrillSample {
  return { t, ok: true, code: 0, latencyMs: 2, endpoint };
}

function failed(t: number, endpoint?: EndpointPlace): DrillSample {
  return { t, ok: false, code: 14, latencyMs: 1000, ...(endpoint ? { endpoint } : {}) };
}

/** One sample every 0.1 s in [from, to). */
function every(from: number, to: number, make: (t: number) => DrillSample): DrillSample[] {
  const samples: DrillSample[] = [];
  for (let i = Math.round(from * 10); i < Math.round(to * 10); i++) samples.push(make(i / 10));
  return samples;
}

function view(t: number, share: number, servable = 'a:1,b:1'): ViewSample {
  return { t, share, servable };
}

type Entry = { atSeconds: number; forSeconds?: number; action: DrillAction };

function drill(timeline: readonly Entry[], more: Record<string, unknown> = {}): DrillFile {
  return DrillFile.parse({
    name: 'test drill',
    target: { service: 'cart.shop', clients: [{ region: 'dc1', zone: 'dc1-a' }] },
    durationSeconds: 16,
    timeline,
    ...more,
  });
}

function recording(parts: Partial<DrillRecording>): DrillRecording {
  return { samples: [], views: [], applied: [], endedAt: 16, end: 'completed', ...parts };
}

/** Each entry applied at its atSeconds and undone at its end (the drill's end without forSeconds). */
function appliedAsScheduled(d: DrillFile): AppliedEntry[] {
  return d.timeline.map((entry, index) => ({
    index,
    appliedAt: entry.atSeconds,
    undoneAt: Math.min(d.durationSeconds, entry.atSeconds + (entry.forSeconds ?? Number.POSITIVE_INFINITY)),
  }));
}

/** One entry; the report of a run that applied it on time. */
function evaluateOne(
  action: DrillAction,
  samples: readonly DrillSample[],
  options: {
    views?: readonly ViewSample[];
    atSeconds?: number;
    forSeconds?: number;
    more?: Record<string, unknown>;
  } = {},
): DrillReport['entries'][number] {
  const d = drill([{ atSeconds: options.atSeconds ?? 3, forSeconds: options.forSeconds ?? 8, action }], options.more);
  const report = evaluateDrill(d, recording({ samples, views: options.views ?? [], applied: appliedAsScheduled(d) }));
  return report.entries[0]!;
}

/** Zone dc1-a down at 3 s for 8 s: probes fail for 1 s, still reach dc1-a for 1 s, then dc1-b. */
const ZONE_SAMPLES: DrillSample[] = [
  ...every(0, 3, (t) => ok(t, DC1A)),
  ...every(3, 4, failed),
  ...every(4, 5, (t) => ok(t, DC1A)),
  ...every(5, 16, (t) => ok(t, DC1B)),
];

describe('detectSeconds', () => {
  const before = [view(0, 0, 'a:1,b:1'), view(1, 0, 'a:1')];

  it('is the first change of the router view at or after the entry start, ignoring earlier ones', () => {
    expect(
      evaluateOne(ZONE_DOWN, [], { views: [...before, view(4.25, 0, 'b:1'), view(6, 0.5, 'b:1')] }).detectSeconds,
    ).toBe(1.25);
  });

  it('is 0 for a change exactly at the start', () => {
    expect(evaluateOne(ZONE_DOWN, [], { views: [...before, view(3, 0, 'b:1')] }).detectSeconds).toBe(0);
  });

  it('counts a share change alone, and skips a view equal to the one before the entry', () => {
    expect(
      evaluateOne(ZONE_DOWN, [], { views: [...before, view(3.5, 0, 'a:1'), view(5, 0.2, 'a:1')] }).detectSeconds,
    ).toBe(2);
  });

  it('is null when nothing changes before the entry ends', () => {
    expect(evaluateOne(ZONE_DOWN, [], { views: before }).detectSeconds).toBeNull();
    // The entry runs [3, 11): a change at 11 is too late.
    expect(evaluateOne(ZONE_DOWN, [], { views: [...before, view(11, 0, 'b:1')] }).detectSeconds).toBeNull();
  });

  it('is measured from when the entry was applied, not when it was scheduled', () => {
    const d = drill([{ atSeconds: 3, forSeconds: 8, action: ZONE_DOWN }]);
    const report = evaluateDrill(
      d,
      recording({ views: [...before, view(4, 0, 'b:1')], applied: [{ index: 0, appliedAt: 3.5, undoneAt: 11 }] }),
    );
    expect(report.entries[0]).toMatchObject({ atSeconds: 3.5, detectSeconds: 0.5 });
  });

  it('is null for kinds the router does not publish (router restart, registry down)', () => {
    const views = [...before, view(4, 0, 'b:1')];
    expect(evaluateOne({ kind: 'router-restart', downSeconds: 1 }, [], { views }).detectSeconds).toBeNull();
    expect(evaluateOne({ kind: 'registry-down', site: 'dc1' }, [], { views }).detectSeconds).toBeNull();
    expect(evaluateOne({ kind: 'force-share', share: 0.3 }, [], { views }).detectSeconds).toBe(1);
    expect(evaluateOne({ kind: 'latency', zone: 'dc1-a', extraSeconds: 1 }, [], { views }).detectSeconds).toBe(1);
  });
});

describe('failoverSeconds', () => {
  it('runs from the entry start to the first good sample after the last bad one', () => {
    // A lucky answer from dc1-b in the middle of the failures is not the failover.
    const entry = evaluateOne(ZONE_DOWN, [...ZONE_SAMPLES, ok(3.55, DC1B)]);
    expect(entry.failoverSeconds).toBe(2);
  });

  it('counts failed requests and answers from the broken place as bad, failures before the entry not', () => {
    expect(
      evaluateOne(
        ZONE_DOWN,
        every(0, 16, (t) => (t < 3 ? failed(t) : ok(t, DC1B))),
      ).failoverSeconds,
    ).toBe(0);
    expect(
      evaluateOne(
        ZONE_DOWN,
        every(0, 16, (t) => (t < 6 ? ok(t, DC1A) : ok(t, DC1B))),
      ).failoverSeconds,
    ).toBe(3);
    // A failure after reaching an endpoint elsewhere is still a failure.
    expect(
      evaluateOne(
        ZONE_DOWN,
        every(0, 16, (t) => (t < 4 ? failed(t, DC2A) : ok(t, DC2A))),
      ).failoverSeconds,
    ).toBe(1);
  });

  it('is 0 when nothing bad happens in the window, null with no sample in it', () => {
    expect(
      evaluateOne(
        ZONE_DOWN,
        every(0, 16, (t) => ok(t, DC1B)),
      ).failoverSeconds,
    ).toBe(0);
    expect(
      evaluateOne(ZONE_DOWN, [...every(0, 3, (t) => ok(t, DC1A)), ...every(11, 16, ok)]).failoverSeconds,
    ).toBeNull();
  });

  it('needs a good streak of settleSeconds before the entry ends (exactly settleSeconds is enough)', () => {
    // The entry runs [3, 11), settle 2 s.
    const goodFrom = (from: number) => every(0, 16, (t) => (t >= 3 && t < from ? failed(t) : ok(t, DC1B)));
    expect(evaluateOne(ZONE_DOWN, goodFrom(9)).failoverSeconds).toBe(6);
    expect(evaluateOne(ZONE_DOWN, goodFrom(9.1)).failoverSeconds).toBeNull();
    expect(evaluateOne(ZONE_DOWN, goodFrom(9.1), { more: { settleSeconds: 1 } }).failoverSeconds).toBe(6.1);
    // Good answers after the entry ended do not count.
    expect(evaluateOne(ZONE_DOWN, goodFrom(11)).failoverSeconds).toBeNull();
  });

  it('is null when the window ends on a bad sample', () => {
    expect(evaluateOne(ZONE_DOWN, [...every(3, 10.9, ok), failed(10.95)]).failoverSeconds).toBeNull();
  });

  // Samples answered by `inside` for [3, 4), then by dc2-a: failover 1 when `inside` is in the broken place, else 0.
  it.each<[string, DrillAction, EndpointPlace, number]>([
    ['zone-down: the zone', ZONE_DOWN, DC1A, 1],
    ['zone-down: same zone, other cluster', ZONE_DOWN, NOMAD1A, 1],
    ['zone-down: other zone of the site', ZONE_DOWN, DC1B, 0],
    ['site-down: the cluster', { kind: 'site-down', site: 'dc1' }, DC1B, 1],
    ['site-down: other cluster, same zone', { kind: 'site-down', site: 'dc1' }, NOMAD1A, 0],
    ['region-down: the region', { kind: 'region-down', region: 'us-east-1' }, CLOUD, 1],
    ['region-down: other region', { kind: 'region-down', region: 'us-east-1' }, DC1A, 0],
    ['drain zone', { kind: 'drain', zone: 'dc1-a' }, DC1A, 1],
    ['drain zone: other zone', { kind: 'drain', zone: 'dc1-a' }, DC1B, 0],
    ['drain cluster', { kind: 'drain', cluster: 'dc1' }, DC1B, 1],
    ['drain cluster: other cluster', { kind: 'drain', cluster: 'dc1' }, NOMAD1A, 0],
    ['drain region+zone: both match', { kind: 'drain', region: 'dc1', zone: 'dc1-a' }, NOMAD1A, 1],
    ['drain region+zone: only the region matches', { kind: 'drain', region: 'dc1', zone: 'dc1-a' }, DC1B, 0],
    ['drain cluster+zone: only the cluster matches', { kind: 'drain', cluster: 'dc1', zone: 'dc1-b' }, DC1A, 0],
  ])('in the broken place — %s', (_, action, inside, expected) => {
    const samples = every(0, 16, (t) => (t >= 3 && t < 4 ? ok(t, inside) : ok(t, DC2A)));
    expect(evaluateOne(action, samples).failoverSeconds).toBe(expected);
  });

  it('is null for actions that take no place away', () => {
    const samples = every(0, 16, (t) => (t >= 3 && t < 4 ? failed(t) : ok(t)));
    for (const action of [
      { kind: 'latency', zone: 'dc1-a', extraSeconds: 1 },
      { kind: 'registry-down', site: 'dc1' },
      { kind: 'router-restart', downSeconds: 1 },
      { kind: 'force-share', share: 0.5 },
    ] satisfies DrillAction[]) {
      expect(evaluateOne(action, samples).failoverSeconds, action.kind).toBeNull();
    }
  });
});

describe('entry windows and overall requests', () => {
  it('counts requests and failures in [applied, undone) per entry', () => {
    const entry = evaluateOne(ZONE_DOWN, ZONE_SAMPLES);
    expect(entry).toMatchObject({ atSeconds: 3, untilSeconds: 11, requests: 80, failedRequests: 10 });
    expect(entry.error).toBeUndefined();
    const edges = evaluateOne(ZONE_DOWN, [failed(2.999), failed(3), failed(10.999), failed(11)]);
    expect(edges).toMatchObject({ requests: 2, failedRequests: 2 });
  });

  it('ends an entry that was never undone at its scheduled end, or at the end of the run', () => {
    const d = drill([
      { atSeconds: 2, forSeconds: 3, action: ZONE_DOWN },
      { atSeconds: 4, action: { kind: 'force-share', share: 0.2 } },
    ]);
    const samples = every(0, 16, (t) => ok(t));
    const entries = evaluateDrill(
      d,
      recording({
        samples,
        applied: [
          { index: 0, appliedAt: 2 },
          { index: 1, appliedAt: 4 },
        ],
        endedAt: 9,
        end: 'aborted',
      }),
    ).entries;
    expect(entries.map((e) => [e.untilSeconds, e.requests])).toEqual([
      [5, 30],
      [9, 50],
    ]);
  });

  it('reports an entry that was never applied at its schedule, with nothing measured', () => {
    const d = drill([{ atSeconds: 3, forSeconds: 8, action: ZONE_DOWN }]);
    const report = evaluateDrill(
      d,
      recording({ samples: ZONE_SAMPLES, views: [view(0, 0), view(4, 0.1)], endedAt: 2 }),
    );
    expect(report.entries[0]).toEqual({
      index: 0,
      action: ZONE_DOWN,
      atSeconds: 3,
      // Never applied: it did not last at all.
      untilSeconds: 3,
      detectSeconds: null,
      failoverSeconds: null,
      requests: 0,
      failedRequests: 0,
      answeredBy: {},
    });
  });

  it('sums every request: total, failed, error ratio and who answered', () => {
    const samples = [...every(0, 4, (t) => ok(t, DC1A)), ...every(4, 5, (t) => ok(t, CLOUD)), failed(5), failed(5.1)];
    const report = evaluateDrill(drill([]), recording({ samples, skippedSends: 3 }));
    expect(report.requests).toEqual({
      total: 52,
      failed: 2,
      errorRatio: 2 / 52,
      skipped: 3,
      answeredBy: { onprem: 40, cloud: 10 },
    });
    expect(evaluateDrill(drill([]), recording({})).requests).toEqual({
      total: 0,
      failed: 0,
      errorRatio: null,
      skipped: 0,
      answeredBy: { onprem: 0, cloud: 0 },
    });
  });

  it('is pure: unsorted samples give the same report, and the caller’s recording is left alone', () => {
    const d = drill([{ atSeconds: 3, forSeconds: 8, action: ZONE_DOWN }], { expect: { failoverWithinSeconds: 5 } });
    const sorted = recording({
      samples: ZONE_SAMPLES,
      views: [view(0, 0), view(4, 0.1)],
      applied: appliedAsScheduled(d),
    });
    const shuffled = [...ZONE_SAMPLES].reverse();
    const copy = [...shuffled];
    const report = evaluateDrill(d, sorted);
    expect(evaluateDrill(d, { ...sorted, samples: shuffled })).toEqual(report);
    expect(shuffled).toEqual(copy);
    expect(evaluateDrill(d, sorted)).toEqual(report);
    expect(report.entries[0]?.failoverSeconds).toBe(2);
  });
});

describe('expectations', () => {
  const TWO = [
    { atSeconds: 3, forSeconds: 8, action: ZONE_DOWN },
    { atSeconds: 2, forSeconds: 12, action: { kind: 'latency', zone: 'dc1-b', extraSeconds: 1 } },
  ] satisfies Entry[];

  function expectations(
    timeline: readonly Entry[],
    expect: Record<string, number>,
    parts: Partial<DrillRecording> = {},
  ) {
    const d = drill(timeline, { expect });
    return evaluateDrill(d, recording({ applied: appliedAsScheduled(d), ...parts })).expectations;
  }

  it('failoverWithinSeconds: the worst over the disruptive entries, inclusive', () => {
    // Zone-down fails over after 2 s; region-down [4, 14) after 3 s (cloud answers until 7).
    const timeline = [
      ...TWO,
      { atSeconds: 4, forSeconds: 10, action: { kind: 'region-down', region: 'us-east-1' } },
    ] satisfies Entry[];
    const samples = [...ZONE_SAMPLES.filter((s) => s.t < 5 || s.t >= 7), ...every(5, 7, (t) => ok(t, CLOUD))];
    expect(expectations(timeline, { failoverWithinSeconds: 3 }, { samples })).toEqual([
      { name: 'failoverWithinSeconds', expected: 3, actual: 3, status: 'passed', detail: 'worst 3s over 2 entries' },
    ]);
    expect(expectations(timeline, { failoverWithinSeconds: 2.9 }, { samples })[0]).toMatchObject({
      actual: 3,
      status: 'failed',
    });
  });

  it('failoverWithinSeconds fails naming each entry that never failed over', () => {
    const timeline = [...TWO, { atSeconds: 4, action: { kind: 'site-down', site: 'dc1' } }] satisfies Entry[];
    // dc1-b answers until the end: site dc1 never fails over.
    expect(expectations(timeline, { failoverWithinSeconds: 60 }, { samples: ZONE_SAMPLES })).toEqual([
      {
        name: 'failoverWithinSeconds',
        expected: 60,
        actual: null,
        status: 'failed',
        detail: 'never reached for entry #3 (site-down)',
      },
    ]);
  });

  it('detectWithinSeconds: the worst over entries the router reacts to; n/a with none', () => {
    const views = [view(0, 0), view(2.5, 0.1), view(4, 0.1, 'b:1')];
    expect(expectations(TWO, { detectWithinSeconds: 1 }, { views })).toEqual([
      { name: 'detectWithinSeconds', expected: 1, actual: 1, status: 'passed', detail: 'worst 1s over 2 entries' },
    ]);
    expect(expectations(TWO, { detectWithinSeconds: 0.9 }, { views })[0]?.status).toBe('failed');
    expect(expectations(TWO, { detectWithinSeconds: 5 }, { views: [view(0, 0), view(2.5, 0.1)] })[0]).toMatchObject({
      actual: null,
      status: 'failed',
      detail: 'never reached for entry #1 (zone-down)',
    });
    const restart = [{ atSeconds: 3, action: { kind: 'router-restart', downSeconds: 1 } }] satisfies Entry[];
    expect(expectations(restart, { detectWithinSeconds: 1, failoverWithinSeconds: 1 }, { views })).toEqual([
      {
        name: 'failoverWithinSeconds',
        expected: 1,
        actual: null,
        status: 'not-applicable',
        detail: 'no timeline entry it applies to',
      },
      {
        name: 'detectWithinSeconds',
        expected: 1,
        actual: null,
        status: 'not-applicable',
        detail: 'no timeline entry it applies to',
      },
    ]);
  });

  it('errorRatioBelow is strict, and fails when no request was sent', () => {
    const samples = [...every(0, 1.9, ok), failed(1.9)]; // 1 of 20 = 0.05
    expect(expectations([], { errorRatioBelow: 0.05 }, { samples })).toEqual([
      {
        name: 'errorRatioBelow',
        expected: 0.05,
        actual: 0.05,
        status: 'failed',
        detail: '1 of 20 probe requests failed',
      },
    ]);
    expect(expectations([], { errorRatioBelow: 0.051 }, { samples })[0]?.status).toBe('passed');
    expect(expectations([], { errorRatioBelow: 0.5 })).toEqual([
      { name: 'errorRatioBelow', expected: 0.5, actual: null, status: 'failed', detail: 'no probe request was sent' },
    ]);
  });

  it('shareNeverAbove: the highest share published during the run, inclusive', () => {
    const views = [view(0, 0), view(3, 0.5), view(5, 0.2), view(17, 0.9)]; // 17 is after the run ended
    expect(expectations([], { shareNeverAbove: 0.5 }, { views })).toEqual([
      {
        name: 'shareNeverAbove',
        expected: 0.5,
        actual: 0.5,
        status: 'passed',
        detail: 'highest published cloud share 0.5',
      },
    ]);
    expect(expectations([], { shareNeverAbove: 0.49 }, { views })[0]?.status).toBe('failed');
    expect(expectations([], { shareNeverAbove: 1 })[0]).toMatchObject({
      actual: null,
      status: 'failed',
      detail: 'the router view was never observed',
    });
  });

  it('lists only the expectations the drill has, in a fixed order', () => {
    const all = { shareNeverAbove: 1, errorRatioBelow: 1, detectWithinSeconds: 9, failoverWithinSeconds: 9 };
    expect(expectations(TWO, all).map((e) => e.name)).toEqual([
      'failoverWithinSeconds',
      'detectWithinSeconds',
      'errorRatioBelow',
      'shareNeverAbove',
    ]);
    expect(expectations(TWO, {})).toEqual([]);
  });
});

describe('outcome', () => {
  const d = drill([{ atSeconds: 3, forSeconds: 8, action: ZONE_DOWN }], { expect: { errorRatioBelow: 0.2 } });
  const good = every(0, 16, ok);
  const bad = every(0, 16, (t) => (t < 8 ? failed(t) : ok(t)));
  const outcome = (parts: Partial<DrillRecording>) =>
    evaluateDrill(d, recording({ applied: appliedAsScheduled(d), ...parts })).outcome;

  it('passes when every expectation passes, fails when one fails', () => {
    expect(outcome({ samples: good })).toBe('passed');
    expect(outcome({ samples: bad })).toBe('failed');
  });

  it('is aborted, then rolled back at the deadline, then error, whatever the expectations say', () => {
    const entryError = [{ index: 0, appliedAt: 3, undoneAt: 11, error: 'undo failed: timeout' }];
    expect(outcome({ samples: good, end: 'aborted', applied: entryError })).toBe('aborted');
    expect(outcome({ samples: bad, end: 'aborted' })).toBe('aborted');
    expect(outcome({ samples: good, end: 'deadline', applied: entryError })).toBe('rolled-back');
    expect(outcome({ samples: good, end: 'error', error: 'probes never ready' })).toBe('error');
    expect(outcome({ samples: good, applied: entryError })).toBe('error');
  });

  it('carries the run error and entry errors into the report', () => {
    const report = evaluateDrill(
      d,
      recording({ end: 'error', error: 'boom', applied: [{ index: 0, appliedAt: 3, error: 'refused' }] }),
    );
    expect(report).toMatchObject({ end: 'error', error: 'boom', entries: [{ error: 'refused' }] });
    expect(evaluateDrill(d, recording({ samples: good })).error).toBeUndefined();
  });
});

describe('share buckets', () => {
  it('one bucket per second over a short run, covering its whole length', () => {
    const report = evaluateDrill(drill([]), recording({ endedAt: 5.5 }));
    expect(report.share.map((b) => b.t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(evaluateDrill(drill([]), recording({ endedAt: 0 })).share).toEqual([]);
  });

  it('about 60 buckets over a long run', () => {
    const long = drill([], { durationSeconds: 600 });
    const share = evaluateDrill(long, recording({ endedAt: 600 })).share;
    expect(share).toHaveLength(60);
    expect(share[1]?.t).toBe(10);
  });

  it('the published share is the highest during the bucket, carrying the last value from before', () => {
    const views = [view(0.2, 0), view(1.5, 0.3), view(1.7, 0.1), view(3.2, 0.6)];
    const report = evaluateDrill(drill([]), recording({ views, endedAt: 5 }));
    expect(report.share.map((b) => b.publishedShare)).toEqual([0, 0.3, 0.1, 0.6, 0.6]);
    expect(evaluateDrill(drill([]), recording({ endedAt: 2 })).share.map((b) => b.publishedShare)).toEqual([0, 0]);
  });

  it('the measured cloud share is over answered requests only; null with no answer', () => {
    const samples = [
      ok(0.1, DC1A),
      ok(0.2, DC1B),
      ok(0.3, CLOUD),
      failed(0.4),
      failed(0.5, CLOUD),
      ok(1.1, CLOUD),
      ok(1.2, CLOUD),
      ok(1.3, DC1A),
      failed(2.5),
    ];
    const report = evaluateDrill(drill([]), recording({ samples, endedAt: 4 }));
    expect(
      report.share.map(({ requests, failed, measuredCloudShare }) => ({ requests, failed, measuredCloudShare })),
    ).toEqual([
      { requests: 5, failed: 2, measuredCloudShare: 0.333 },
      { requests: 3, failed: 0, measuredCloudShare: 0.667 },
      { requests: 1, failed: 1, measuredCloudShare: null },
      { requests: 0, failed: 0, measuredCloudShare: null },
    ]);
  });
});

describe('timeline events', () => {
  it('applied, undone, errors, detections, failovers and the end, sorted by time', () => {
    const d = drill([
      { atSeconds: 3, forSeconds: 8, action: ZONE_DOWN },
      { atSeconds: 5, forSeconds: 2, action: { kind: 'force-share', share: 0.4 } },
    ]);
    const report = evaluateDrill(
      d,
      recording({
        samples: ZONE_SAMPLES,
        views: [view(0, 0), view(4.25, 0, 'b:1')],
        // Recorded out of order on purpose.
        applied: [
          { index: 1, appliedAt: 5.5, undoneAt: 7, error: 'override refused' },
          { index: 0, appliedAt: 3, undoneAt: 11 },
        ],
      }),
    );
    const times = report.timeline.map((e) => e.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(report.timeline).toHaveLength(8);
    expect(report.timeline).toEqual(
      expect.arrayContaining([
        { t: 3, event: 'applied', entry: 0, detail: 'zone-down' },
        { t: 4.25, event: 'detected', entry: 0, detail: 'router view changed' },
        { t: 5, event: 'failed-over', entry: 0, detail: 'probes healthy elsewhere' },
        { t: 5.5, event: 'applied', entry: 1, detail: 'force-share' },
        { t: 5.5, event: 'error', entry: 1, detail: 'override refused' },
        { t: 7, event: 'undone', entry: 1, detail: 'force-share' },
        { t: 11, event: 'undone', entry: 0, detail: 'zone-down' },
        { t: 16, event: 'end', detail: 'completed' },
      ]),
    );
    expect(report.timeline.at(-1)).toEqual({ t: 16, event: 'end', detail: 'completed' });
  });
});

describe('properties', () => {
  const ENDPOINTS = [DC1A, DC1B, NOMAD1A, CLOUD, undefined];
  /** Samples at distinct millisecond times in [0, 20 s). */
  const samplesArb = (okRate: fc.Arbitrary<boolean>, endpoints: readonly (EndpointPlace | undefined)[]) =>
    fc
      .uniqueArray(
        fc.record({ ms: fc.integer({ min: 0, max: 19_999 }), ok: okRate, endpoint: fc.constantFrom(...endpoints) }),
        { selector: (sample) => sample.ms, maxLength: 120 },
      )
      .map((drawn) =>
        drawn.map(
          ({ ms, ok: good, endpoint }): DrillSample => ({
            t: ms / 1000,
            ok: good,
            code: good ? 0 : 14,
            latencyMs: 1,
            ...(endpoint ? { endpoint } : {}),
          }),
        ),
      );
  const entryArb = fc.record({
    atMs: fc.integer({ min: 0, max: 15_000 }),
    forMs: fc.integer({ min: 1, max: 12_000 }),
    lateMs: fc.integer({ min: 0, max: 500 }),
    settle: fc.constantFrom(0.5, 1, 2, 3),
  });

  function run(samples: readonly DrillSample[], e: { atMs: number; forMs: number; lateMs: number; settle: number }) {
    const d = drill([{ atSeconds: e.atMs / 1000, forSeconds: e.forMs / 1000, action: ZONE_DOWN }], {
      durationSeconds: 20,
      settleSeconds: e.settle,
    });
    const start = (e.atMs + e.lateMs) / 1000;
    const until = Math.min(20, (e.atMs + e.lateMs + e.forMs) / 1000);
    const report = evaluateDrill(
      d,
      recording({ samples, applied: [{ index: 0, appliedAt: start, undoneAt: until }], endedAt: 20 }),
    );
    return { entry: report.entries[0]!, start, until, settle: e.settle };
  }

  it('with no failure and no answer from the broken zone, failover is 0 (or null with no sample), never negative', () => {
    fc.assert(
      fc.property(samplesArb(fc.constant(true), [DC1B, CLOUD]), entryArb, (samples, e) => {
        const { entry, start, until } = run(samples, e);
        const inWindow = samples.some((s) => s.t >= start && s.t < until);
        expect(entry.failoverSeconds).toBe(inWindow ? 0 : null);
      }),
      RUNS,
    );
  });

  it('a failover time is never negative, ends every bad sample and leaves a settled streak', () => {
    fc.assert(
      fc.property(samplesArb(fc.boolean(), ENDPOINTS), entryArb, (samples, e) => {
        const { entry, start, until, settle } = run(samples, e);
        const f = entry.failoverSeconds;
        if (f === null) return;
        const window = samples.filter((s) => s.t >= start && s.t < until);
        const bad = window.filter((s) => !s.ok || s.endpoint?.zone === 'dc1-a');
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThanOrEqual(until - start + 1e-9);
        const failedOverAt = start + f;
        // Nothing bad from the failover on, something bad before it (unless 0), and settled long enough.
        expect(bad.filter((s) => s.t >= failedOverAt - 1e-6)).toEqual([]);
        if (f > 0) {
          expect(bad.length).toBeGreaterThan(0);
          expect(until - failedOverAt).toBeGreaterThanOrEqual(Math.min(settle, until - start) - 1e-6);
          expect(window.some((s) => Math.abs(s.t - failedOverAt) < 1e-6)).toBe(true);
        } else {
          expect(bad).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it('adding failed samples never lowers the error ratio nor turns a failed errorRatioBelow into a pass', () => {
    const extraArb = fc.array(fc.integer({ min: 0, max: 19_999 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(
        samplesArb(fc.boolean(), ENDPOINTS),
        extraArb,
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (base, extra, limit) => {
          const d = drill([], { durationSeconds: 20, expect: { errorRatioBelow: limit } });
          const before = evaluateDrill(d, recording({ samples: base, endedAt: 20 }));
          const more = [...base, ...extra.map((ms) => failed(ms / 1000))];
          const after = evaluateDrill(d, recording({ samples: more, endedAt: 20 }));
          expect(after.requests.failed).toBe(before.requests.failed + extra.length);
          expect(after.requests.errorRatio).toBeGreaterThanOrEqual(before.requests.errorRatio ?? 0);
          if (before.expectations[0]?.status === 'failed') expect(after.expectations[0]?.status).toBe('failed');
        },
      ),
      RUNS,
    );
  });
});

describe('where the answers of an entry went', () => {
  it('counts answered requests per cluster/zone inside the entry window only, failures left out', () => {
    const samples = [
      ...every(0, 3, (t) => ok(t, DC1A)),
      failed(3.05, DC1A),
      ...every(3.1, 5, (t) => ok(t, DC1B)),
      ...every(5, 11, (t) => ok(t, CLOUD)),
      ...every(11, 16, (t) => ok(t, DC1A)),
    ];
    const entry = evaluateOne(ZONE_DOWN, samples);
    expect(entry.answeredBy).toEqual({ 'dc1/dc1-b': 19, 'us-east-1/us-east-1a': 60 });
  });
});
