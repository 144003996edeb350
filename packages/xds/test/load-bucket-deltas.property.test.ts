import { loadBucketsOfWindow, type MeasuredLocalityLoad, sumMeasuredLoads } from '@spillway/model';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoadReportStore, loadBucketDeltas, measuredLoad } from '../src/index.js';
import { endpoint, InMemoryCatalog } from './support/in-memory-catalog.js';

const SERVICE = 'cart.shop';
const REPORT_INTERVAL_SECONDS = 10;
const DEPTH = Math.ceil(REPORT_INTERVAL_SECONDS / 5) + 1;
const T0 = 1_700_000_000_000;

const catalog = new InMemoryCatalog();
catalog.setService({
  name: 'cart',
  namespace: 'shop',
  endpoints: [
    endpoint('10.0.0.1', 80, { region: 'dc1', zone: 'a' }),
    endpoint('10.1.0.1', 80, { region: 'aws', zone: 'b' }),
  ],
});

const REPORTERS = ['r1', 'r2', 'r3'] as const;
const ZONES = ['a', 'b', 'c'] as const;
const counts = fc.record({ successful: fc.nat(50), errors: fc.nat(5), inProgress: fc.nat(4) });
/**
 * Each step: time passes, at most one report interval (clients report at least that often, for
 * every locality they have requests in), every reporter reports every zone, and one may close.
 */
const steps = fc.array(
  fc.record({
    elapsedMs: fc.integer({ min: 0, max: REPORT_INTERVAL_SECONDS * 1000 }),
    reports: fc.array(counts, {
      minLength: REPORTERS.length * ZONES.length,
      maxLength: REPORTERS.length * ZONES.length,
    }),
    closing: fc.option(fc.constantFrom(...REPORTERS)),
  }),
  { maxLength: 60 },
);

/**
 * What the controller sums (every published bucket of a window) must be exactly what the router
 * answers for that window, in-progress gauges included, whatever the reports' timing — with
 * publications after every step, each one rewriting the recent buckets as Redis fields do.
 */
describe('loadBucketDeltas', () => {
  it('published buckets sum to the router’s own windowed load', () => {
    fc.assert(
      fc.property(steps, fc.constantFrom(5, 17, 60, 600), (script, windowSeconds) => {
        const store = new LoadReportStore({ bucketSeconds: 5, retentionSeconds: 600 });
        const published = new Map<number, readonly MeasuredLocalityLoad[]>();
        const windowed = (at: number) => (w: number) =>
          measuredLoad(SERVICE, w, store.window(SERVICE, w, at), catalog.current());
        let at = T0;
        for (const step of script) {
          at += step.elapsedMs;
          step.reports.forEach((load, index) => {
            const reporter = REPORTERS[Math.floor(index / ZONES.length)] ?? 'r1';
            const zone = ZONES[index % ZONES.length] ?? 'a';
            const region = zone === 'b' ? 'aws' : 'dc1';
            store.record(reporter, SERVICE, [{ region, zone, subZone: '', ...load, issued: load.successful }], at);
          });
          if (step.closing) store.forget(step.closing);
          for (const bucket of loadBucketDeltas(SERVICE, windowed(at), at, DEPTH))
            published.set(bucket.bucket, bucket.localities);
        }
        const { from, to } = loadBucketsOfWindow(windowSeconds, at);
        const parts = [...published].filter(([bucket]) => bucket >= from && bucket <= to).map(([, part]) => part);
        expect(sumMeasuredLoads(SERVICE, windowSeconds, parts)).toEqual(windowed(at)(windowSeconds));
      }),
      { numRuns: 200 },
    );
  });

  it('says nothing when load reporting is off, and empty buckets when there is no load', () => {
    expect(loadBucketDeltas(SERVICE, () => undefined, T0, DEPTH)).toEqual([]);
    const empty = loadBucketDeltas(SERVICE, (w) => sumMeasuredLoads(SERVICE, w, []), T0, DEPTH);
    expect(empty).toHaveLength(DEPTH + 1);
    expect(empty.every((bucket) => bucket.localities.length === 0)).toBe(true);
  });
});
