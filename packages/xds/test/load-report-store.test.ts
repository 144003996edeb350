import { describe, expect, it } from 'vitest';
import { LoadReportStore, type ReportedLocalityLoad } from '../src/index.js';

const load = (zone: string, successful: number, inProgress = 0): ReportedLocalityLoad => ({
  region: 'dc1',
  zone,
  subZone: '',
  successful,
  errors: 0,
  inProgress,
  issued: successful,
});
const T0 = 1_000_000_000;

describe('LoadReportStore', () => {
  it('sums reports inside the window and forgets what is older', () => {
    const store = new LoadReportStore({ bucketSeconds: 5, retentionSeconds: 60 });
    store.record('a', 'svc', [load('a', 10)], T0);
    store.record('b', 'svc', [load('a', 5)], T0 + 30_000);
    expect(store.window('svc', 60, T0 + 31_000).map((l) => l.completed)).toEqual([15]);
    expect(store.window('svc', 10, T0 + 31_000).map((l) => l.completed)).toEqual([5]);
    // Past retention the old bucket is reused, never summed twice.
    store.record('a', 'svc', [load('a', 1)], T0 + 65_000);
    expect(store.window('svc', 60, T0 + 65_000).map((l) => l.completed)).toEqual([6]);
  });

  it('covers at least the window asked for, even just after a bucket starts', () => {
    const store = new LoadReportStore({ bucketSeconds: 5, retentionSeconds: 60 });
    store.record('a', 'svc', [load('a', 7)], T0 + 4_000);
    // 5 s after the report, in the next bucket's first second: still counted.
    expect(store.window('svc', 5, T0 + 5_200).map((l) => l.completed)).toEqual([7]);
    // Past W + one bucket: gone.
    expect(store.window('svc', 5, T0 + 10_000)).toEqual([]);
  });

  it('counts in-progress once per reporter, and drops it when the reporter goes', () => {
    const store = new LoadReportStore({ bucketSeconds: 5, retentionSeconds: 60 });
    store.record('a', 'svc', [load('a', 0, 4)], T0);
    store.record('a', 'svc', [load('a', 0, 3)], T0 + 1000);
    expect(store.window('svc', 60, T0 + 2000)[0]?.inProgress).toBe(3);
    store.forget('a');
    expect(store.window('svc', 60, T0 + 2000)).toEqual([]);
  });

  it('keeps at most maxLocalitiesPerService and maxSeries, dropping the stalest', () => {
    const evicted: string[] = [];
    const store = new LoadReportStore({
      bucketSeconds: 5,
      retentionSeconds: 60,
      maxSeries: 5,
      maxLocalitiesPerService: 3,
      onEvict: (reason) => evicted.push(reason),
    });
    for (let n = 0; n < 10; n++) store.record('outsider', 'svc', [load(`z${n}`, 1)], T0 + n);
    expect(store.window('svc', 60, T0 + 10).map((l) => l.locality.zone)).toEqual(['z7', 'z8', 'z9']);
    for (let n = 0; n < 3; n++) store.record('other', `svc${n}`, [load('a', 1)], T0 + 20 + n);
    expect(store.size).toBe(5);
    expect(store.window('svc', 60, T0 + 30).map((l) => l.locality.zone)).toEqual(['z8', 'z9']);
    expect(evicted).toEqual([...Array(7).fill('locality-cap'), 'series-cap']);
  });
});
