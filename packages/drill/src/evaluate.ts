import type { MeasuredLoad } from '@spillway/model';
import type { DrillCost } from './burst-cost.js';
import { type DrillAction, type DrillFile, entryEndSeconds } from './drill-file.js';
import {
  type BrokenPlace,
  brokenPlace,
  type DrillEnd,
  type DrillRecording,
  type DrillSample,
  inPlace,
  type ViewSample,
} from './recording.js';

export type DrillOutcome = 'passed' | 'failed' | 'aborted' | 'rolled-back' | 'error';

export interface EntryReport {
  readonly index: number;
  readonly action: DrillAction;
  readonly atSeconds: number;
  readonly untilSeconds: number;
  /** Seconds from the entry to the first change in what the router publishes for the target. */
  readonly detectSeconds: number | null;
  /** Seconds from the entry until probes stopped failing and stopped reaching the broken place. */
  readonly failoverSeconds: number | null;
  readonly requests: number;
  readonly failedRequests: number;
  /** Where the answered requests of the entry's window went: `cluster/zone` → count. */
  readonly answeredBy: Readonly<Record<string, number>>;
  readonly error?: string;
}

export interface ShareBucket {
  readonly t: number;
  readonly requests: number;
  readonly failed: number;
  /** Share of answered requests that a cloud endpoint answered; null with no answer. */
  readonly measuredCloudShare: number | null;
  /** Highest cloud share the router published during the bucket. */
  readonly publishedShare: number;
}

export type ExpectationStatus = 'passed' | 'failed' | 'not-applicable';

export interface ExpectationResult {
  readonly name: string;
  readonly expected: number;
  readonly actual: number | null;
  readonly status: ExpectationStatus;
  readonly detail: string;
}

export interface TimelineEvent {
  readonly t: number;
  readonly event: 'applied' | 'undone' | 'detected' | 'failed-over' | 'error' | 'end';
  readonly entry?: number;
  readonly detail: string;
}

export interface DrillReport {
  readonly drill: {
    readonly name: string;
    readonly description: string;
    readonly mode: DrillFile['mode'];
    readonly service: string;
  };
  readonly outcome: DrillOutcome;
  readonly end: DrillEnd;
  readonly ranSeconds: number;
  readonly requests: {
    readonly total: number;
    readonly failed: number;
    readonly errorRatio: number | null;
    /** Planned sends the probes skipped (too many requests in flight): not in `total`. */
    readonly skipped: number;
    readonly answeredBy: { readonly onprem: number; readonly cloud: number };
  };
  readonly entries: readonly EntryReport[];
  readonly share: readonly ShareBucket[];
  /**
   * What every client of the service reported over LRS during the run (real clients and the
   * probes), from the router; null when load reporting is off or nothing could be read.
   */
  readonly reportedLoad: MeasuredLoad | null;
  /** What the target's bursts that ran during the drill cost; null without prices or bursts. */
  readonly cost: DrillCost | null;
  readonly timeline: readonly TimelineEvent[];
  readonly expectations: readonly ExpectationResult[];
  readonly error?: string;
}

/** Kinds the router is expected to react to; a router restart changes nothing it publishes. */
const DETECTABLE: ReadonlySet<DrillAction['kind']> = new Set([
  'zone-down',
  'site-down',
  'region-down',
  'latency',
  'drain',
  'force-share',
]);

/** Turns what a run observed into the report. Pure: the same recording gives the same report. */
export function evaluateDrill(drill: DrillFile, recording: DrillRecording): DrillReport {
  const samples = [...recording.samples].sort((a, b) => a.t - b.t);
  const entries = drill.timeline.map((_entry, index) => entryReport(drill, recording, samples, index));
  const failed = samples.filter((sample) => !sample.ok).length;
  const expectations = checkExpectations(drill, recording, samples, entries);
  return {
    drill: { name: drill.name, description: drill.description, mode: drill.mode, service: drill.target.service },
    outcome: outcomeOf(recording, entries, expectations),
    end: recording.end,
    ranSeconds: round(recording.endedAt),
    requests: {
      total: samples.length,
      failed,
      errorRatio: samples.length === 0 ? null : failed / samples.length,
      skipped: recording.skippedSends ?? 0,
      answeredBy: {
        onprem: samples.filter((sample) => sample.ok && sample.endpoint?.environment === 'onprem').length,
        cloud: samples.filter((sample) => sample.ok && sample.endpoint?.environment === 'cloud').length,
      },
    },
    entries,
    share: shareBuckets(drill, recording, samples),
    reportedLoad: recording.reportedLoad ?? null,
    cost: recording.cost ?? null,
    timeline: timelineEvents(recording, entries),
    expectations,
    ...(recording.error ? { error: recording.error } : {}),
  };
}

function entryReport(
  drill: DrillFile,
  recording: DrillRecording,
  samples: readonly DrillSample[],
  index: number,
): EntryReport {
  const entry = drill.timeline[index]!;
  const applied = recording.applied.find((a) => a.index === index);
  const start = applied?.appliedAt;
  const until =
    start === undefined
      ? entry.atSeconds
      : (applied?.undoneAt ?? Math.min(entryEndSeconds(drill, entry), recording.endedAt));
  const window = start === undefined ? [] : samples.filter((sample) => sample.t >= start && sample.t < until);
  const place = brokenPlace(entry.action);
  return {
    index,
    action: entry.action,
    atSeconds: round(start ?? entry.atSeconds),
    untilSeconds: round(until),
    detectSeconds:
      start === undefined || !DETECTABLE.has(entry.action.kind) ? null : detectAfter(recording.views, start, until),
    failoverSeconds: start === undefined || !place ? null : failoverAfter(window, place, start, until, drill),
    requests: window.length,
    failedRequests: window.filter((sample) => !sample.ok).length,
    answeredBy: answeredByPlace(window),
    ...(applied?.error ? { error: applied.error } : {}),
  };
}

function answeredByPlace(samples: readonly DrillSample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    if (!sample.ok || !sample.endpoint) continue;
    const place = `${sample.endpoint.cluster}/${sample.endpoint.zone}`;
    counts[place] = (counts[place] ?? 0) + 1;
  }
  return counts;
}

/** First change in the router's view of the target at or after `start`, before `until`. */
function detectAfter(views: readonly ViewSample[], start: number, until: number): number | null {
  let before: ViewSample | undefined;
  for (const view of views) {
    if (view.t < start) {
      before = view;
      continue;
    }
    if (view.t >= until) break;
    if (!before || view.share !== before.share || view.servable !== before.servable) return round(view.t - start);
  }
  return null;
}

/**
 * The target has failed over once probes neither fail nor reach the broken place, for at least
 * settleSeconds before the entry ends. Measured to the first good request after the last bad one.
 */
function failoverAfter(
  window: readonly DrillSample[],
  place: BrokenPlace,
  start: number,
  until: number,
  drill: DrillFile,
): number | null {
  const bad = (sample: DrillSample) => !sample.ok || (sample.endpoint !== undefined && inPlace(sample.endpoint, place));
  let lastBad = -1;
  window.forEach((sample, i) => {
    if (bad(sample)) lastBad = i;
  });
  if (lastBad === -1) return window.length > 0 ? 0 : null;
  const firstGood = window[lastBad + 1];
  if (!firstGood || until - firstGood.t < drill.settleSeconds) return null;
  return round(firstGood.t - start);
}

function checkExpectations(
  drill: DrillFile,
  recording: DrillRecording,
  samples: readonly DrillSample[],
  entries: readonly EntryReport[],
): ExpectationResult[] {
  const expect = drill.expect;
  const results: ExpectationResult[] = [];
  if (expect.failoverWithinSeconds !== undefined) {
    const measured = entries.filter((entry) => brokenPlace(entry.action));
    results.push(
      worstWithin('failoverWithinSeconds', expect.failoverWithinSeconds, measured, (e) => e.failoverSeconds),
    );
  }
  if (expect.detectWithinSeconds !== undefined) {
    const measured = entries.filter((entry) => DETECTABLE.has(entry.action.kind));
    results.push(worstWithin('detectWithinSeconds', expect.detectWithinSeconds, measured, (e) => e.detectSeconds));
  }
  if (expect.errorRatioBelow !== undefined) {
    const failed = samples.filter((sample) => !sample.ok).length;
    const ratio = samples.length === 0 ? null : failed / samples.length;
    results.push({
      name: 'errorRatioBelow',
      expected: expect.errorRatioBelow,
      actual: ratio,
      status: ratio !== null && ratio < expect.errorRatioBelow ? 'passed' : 'failed',
      detail: ratio === null ? 'no probe request was sent' : `${failed} of ${samples.length} probe requests failed`,
    });
  }
  if (expect.maxFailedRequests !== undefined) {
    const failed = samples.filter((sample) => !sample.ok).length;
    results.push({
      name: 'maxFailedRequests',
      expected: expect.maxFailedRequests,
      actual: samples.length === 0 ? null : failed,
      status: samples.length > 0 && failed <= expect.maxFailedRequests ? 'passed' : 'failed',
      detail:
        samples.length === 0 ? 'no probe request was sent' : `${failed} of ${samples.length} probe requests failed`,
    });
  }
  if (expect.shareNeverAbove !== undefined) {
    const inRun = recording.views.filter((view) => view.t <= recording.endedAt);
    const highest = inRun.length === 0 ? null : Math.max(...inRun.map((view) => view.share));
    results.push({
      name: 'shareNeverAbove',
      expected: expect.shareNeverAbove,
      actual: highest,
      status: highest !== null && highest <= expect.shareNeverAbove ? 'passed' : 'failed',
      detail: highest === null ? 'the router view was never observed' : `highest published cloud share ${highest}`,
    });
  }
  return results;
}

function worstWithin(
  name: string,
  limit: number,
  entries: readonly EntryReport[],
  measure: (entry: EntryReport) => number | null,
): ExpectationResult {
  if (entries.length === 0) {
    return { name, expected: limit, actual: null, status: 'not-applicable', detail: 'no timeline entry it applies to' };
  }
  const missing = entries.filter((entry) => measure(entry) === null);
  const worst = Math.max(...entries.map((entry) => measure(entry) ?? Number.POSITIVE_INFINITY));
  const passed = missing.length === 0 && worst <= limit;
  const detail =
    missing.length > 0
      ? `never reached for entr${missing.length === 1 ? 'y' : 'ies'} ${missing.map((e) => `#${e.index + 1} (${e.action.kind})`).join(', ')}`
      : `worst ${worst}s over ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`;
  return {
    name,
    expected: limit,
    actual: Number.isFinite(worst) ? worst : null,
    status: passed ? 'passed' : 'failed',
    detail,
  };
}

function outcomeOf(
  recording: DrillRecording,
  entries: readonly EntryReport[],
  expectations: readonly ExpectationResult[],
): DrillOutcome {
  if (recording.end === 'aborted') return 'aborted';
  if (recording.end === 'deadline') return 'rolled-back';
  if (recording.end === 'error' || entries.some((entry) => entry.error)) return 'error';
  return expectations.some((result) => result.status === 'failed') ? 'failed' : 'passed';
}

/** About 60 buckets over the run, at least one second each. */
function shareBuckets(drill: DrillFile, recording: DrillRecording, samples: readonly DrillSample[]): ShareBucket[] {
  const length = Math.max(recording.endedAt, 0);
  const width = Math.max(1, Math.ceil(Math.min(length, drill.durationSeconds) / 60));
  const buckets: ShareBucket[] = [];
  for (let t = 0; t < length; t += width) {
    const inBucket = samples.filter((sample) => sample.t >= t && sample.t < t + width);
    const answered = inBucket.filter((sample) => sample.ok && sample.endpoint);
    const cloud = answered.filter((sample) => sample.endpoint?.environment === 'cloud').length;
    buckets.push({
      t,
      requests: inBucket.length,
      failed: inBucket.filter((sample) => !sample.ok).length,
      measuredCloudShare: answered.length === 0 ? null : round(cloud / answered.length),
      publishedShare: publishedShareBetween(recording.views, t, t + width),
    });
  }
  return buckets;
}

function publishedShareBetween(views: readonly ViewSample[], from: number, to: number): number {
  let share = 0;
  for (const view of views) {
    if (view.t <= from) share = view.share;
    else if (view.t < to) share = Math.max(share, view.share);
  }
  return share;
}

function timelineEvents(recording: DrillRecording, entries: readonly EntryReport[]): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  for (const applied of recording.applied) {
    const kind = entries[applied.index]?.action.kind ?? 'entry';
    if (applied.appliedAt !== undefined) {
      events.push({ t: round(applied.appliedAt), event: 'applied', entry: applied.index, detail: kind });
    }
    if (applied.undoneAt !== undefined) {
      events.push({ t: round(applied.undoneAt), event: 'undone', entry: applied.index, detail: kind });
    }
    if (applied.error)
      events.push({ t: round(applied.appliedAt ?? 0), event: 'error', entry: applied.index, detail: applied.error });
  }
  for (const entry of entries) {
    if (entry.detectSeconds !== null) {
      events.push({
        t: round(entry.atSeconds + entry.detectSeconds),
        event: 'detected',
        entry: entry.index,
        detail: 'router view changed',
      });
    }
    if (entry.failoverSeconds !== null) {
      events.push({
        t: round(entry.atSeconds + entry.failoverSeconds),
        event: 'failed-over',
        entry: entry.index,
        detail: 'probes healthy elsewhere',
      });
    }
  }
  events.push({ t: round(recording.endedAt), event: 'end', detail: recording.end });
  return events.sort((a, b) => a.t - b.t);
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
