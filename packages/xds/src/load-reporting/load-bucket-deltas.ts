import {
  LOAD_BUCKET_SECONDS,
  type LoadBucket,
  loadBucketOf,
  type MeasuredLoad,
  type MeasuredLocalityLoad,
} from '@spillway/model';

/**
 * The last `depth + 1` buckets of one service (the current one included), each as what it adds
 * to a window: windowed(k × 5 s) − windowed((k − 1) × 5 s) at the same `at`. Summing buckets
 * from..to therefore gives exactly the window that starts in `from`, in-progress gauges
 * included (a gauge counts in the bucket of its reporter's last report). The current bucket and
 * the ones a reporter may still move its gauge out of change until they are `depth` old, so a
 * caller re-sends them, empty ones too (a gauge that moved on or ended must not stay behind).
 * Nothing when load reporting is off. Pure: `windowed` is the router's
 * measuredLoad at a fixed time.
 */
export function loadBucketDeltas(
  service: string,
  windowed: (windowSeconds: number) => MeasuredLoad | undefined,
  at: number,
  depth: number,
): LoadBucket[] {
  const current = loadBucketOf(at);
  const widest = windowed(depth * LOAD_BUCKET_SECONDS);
  if (!widest) return [];
  const deltas: LoadBucket[] = [];
  if (widest.localities.length === 0) {
    for (let k = 0; k <= depth; k++) deltas.push({ service, bucket: current - k, localities: [] });
    return deltas;
  }
  let newer: readonly MeasuredLocalityLoad[] = [];
  for (let k = 0; k <= depth; k++) {
    const cumulative = k === depth ? widest.localities : (windowed(k * LOAD_BUCKET_SECONDS)?.localities ?? []);
    deltas.push({ service, bucket: current - k, localities: difference(cumulative, newer) });
    newer = cumulative;
  }
  return deltas;
}

/** `wider` − `narrower` per (region, zone); both windows end at the same time, so nothing goes below 0. */
function difference(
  wider: readonly MeasuredLocalityLoad[],
  narrower: readonly MeasuredLocalityLoad[],
): MeasuredLocalityLoad[] {
  const before = new Map(narrower.map((load) => [`${load.region}/${load.zone}`, load]));
  const added: MeasuredLocalityLoad[] = [];
  for (const load of wider) {
    const old = before.get(`${load.region}/${load.zone}`);
    const requests = load.requests - (old?.requests ?? 0);
    const errors = load.errors - (old?.errors ?? 0);
    if (requests > 0 || errors > 0) added.push({ ...load, requests, errors });
  }
  return added;
}
