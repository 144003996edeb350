/**
 * Federation benchmark: five sources, 10,000 services, 100,000 endpoints.
 *   npm run bench:federation
 * Prints time to the first full merged catalog, change-to-event latency (in process and through
 * the HTTP long-poll feed to FOLLOWERS followers), and heap and RSS bytes per endpoint, each
 * beside a floor measured in the same run on the same data.
 *
 * Sizes: BENCH_ENDPOINTS (default 100,000; 10 per service), BENCH_SERVICES (overrides the
 * service count), BENCH_CHANGES (default 2,000), BENCH_FOLLOWERS (default 10).
 */
import { CatalogStore, mergeService } from '@spillway/catalog';
import { buildConfig } from '@spillway/config';
import type { Endpoint, ServiceKey, SourceSink } from '@spillway/model';
import { silentLogger } from '@spillway/observability';
import { ManualSource } from '@spillway/test/support/manual-source';
import { startFederation } from '../../apps/federation/src/federation-service.js';
import { collectGarbage, fmt, ms, percentile } from './stats.js';

const ENDPOINTS_PER_SERVICE = 10;
const SERVICES = Number(
  process.env.BENCH_SERVICES ?? Math.ceil(Number(process.env.BENCH_ENDPOINTS ?? 100_000) / ENDPOINTS_PER_SERVICE),
);
const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 10);
const FEED_CHANGES = 200;
const CHANGES = Number(process.env.BENCH_CHANGES ?? 2_000);
const SOURCES = [
  { name: 'k8s-dc1', environment: 'onprem', region: 'dc1' },
  { name: 'k8s-dc2', environment: 'onprem', region: 'dc2' },
  { name: 'consul-dc1', environment: 'onprem', region: 'dc1' },
  { name: 'nomad-dc2', environment: 'onprem', region: 'dc2' },
  { name: 'eks-use1', environment: 'cloud', region: 'us-east-1' },
] as const;

type Views = Map<string, Map<ServiceKey, Endpoint[]>>;

/** Each service has endpoints in two or three sources; every address:port is distinct. */
function generate(): Views {
  const views: Views = new Map(SOURCES.map((s) => [s.name, new Map()]));
  for (let i = 0; i < SERVICES; i++) {
    const key = `svc-${i}.ns-${i % 50}`;
    for (let j = 0; j < ENDPOINTS_PER_SERVICE; j++) {
      const source = SOURCES[(i + Math.floor(j / 4)) % SOURCES.length]!;
      const n = i * ENDPOINTS_PER_SERVICE + j;
      const endpoint: Endpoint = {
        address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        port: 8080,
        cluster: source.name,
        environment: source.environment,
        locality: { region: source.region, zone: `${source.region}-${String.fromCharCode(97 + (j % 3))}`, subZone: '' },
        health: 'healthy',
        weight: 1,
        labels: {},
      };
      const view = views.get(source.name)!;
      const list = view.get(key) ?? [];
      list.push(endpoint);
      view.set(key, list);
    }
  }
  return views;
}

function attachAll(store: CatalogStore): Map<string, SourceSink> {
  return new Map(SOURCES.map((s) => [s.name, store.attach({ ...s, kind: 'static' })]));
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function firstCatalog(views: Views) {
  const store = new CatalogStore({ staleAfterMs: 60_000 });
  const sinks = attachAll(store);
  const started = process.hrtime.bigint();
  const ready = new Promise<void>((resolve) => {
    store.subscribe(() => {
      if (store.current().services.size === SERVICES && store.allSourcesSynced()) resolve();
    });
  });
  for (const source of SOURCES) sinks.get(source.name)!.replaceAll(views.get(source.name)!);
  await ready;
  return { store, sinks, elapsedMs: ms(process.hrtime.bigint() - started) };
}

/** Floor: the least any merge must do — visit every endpoint once and index it by service. */
function floorIndexAll(views: Views): number {
  const started = process.hrtime.bigint();
  const index = new Map<ServiceKey, Endpoint[]>();
  for (const view of views.values()) {
    for (const [key, endpoints] of view) {
      const list = index.get(key);
      if (list) list.push(...endpoints);
      else index.set(key, [...endpoints]);
    }
  }
  if (index.size !== SERVICES) throw new Error('floor lost services');
  return ms(process.hrtime.bigint() - started);
}

function flipHealth(views: Views, n: number) {
  const i = (n * 7919) % SERVICES;
  const key = `svc-${i}.ns-${i % 50}`;
  // The source that holds the service's first endpoints (see generate()).
  const source = SOURCES[i % SOURCES.length]!.name;
  const current = views.get(source)!.get(key)!;
  const updated = current.map((e, i) =>
    i === 0 ? { ...e, health: e.health === 'healthy' ? 'unhealthy' : 'healthy' } : e,
  ) as Endpoint[];
  views.get(source)!.set(key, updated);
  return { key, source, updated };
}

async function changeLatency(views: Views, store: CatalogStore, sinks: Map<string, SourceSink>) {
  const samples: number[] = [];
  const floor: number[] = [];
  let resolveEvent: (() => void) | undefined;
  store.subscribe(() => resolveEvent?.());
  for (let n = 0; n < CHANGES; n++) {
    const { key, source, updated } = flipHealth(views, n);
    const event = new Promise<void>((resolve) => {
      resolveEvent = resolve;
    });
    const started = process.hrtime.bigint();
    sinks.get(source)!.replaceServices(new Map([[key, updated]]));
    await event;
    samples.push(ms(process.hrtime.bigint() - started));
    // Floor: the pure merge of the same service from the same contributions.
    const contributions = SOURCES.flatMap((s) => {
      const endpoints = views.get(s.name)!.get(key);
      return endpoints ? [{ source: s.name, state: 'live' as const, endpoints }] : [];
    });
    const floorStart = process.hrtime.bigint();
    mergeService(key, contributions);
    floor.push(ms(process.hrtime.bigint() - floorStart));
  }
  return { samples, floor };
}

/**
 * One change, seen by FOLLOWERS HTTP followers long-polling /v1/catalog/changes (the routers'
 * path); a sample ends when the last follower has it.
 */
async function feedLatency(views: Views) {
  const sources = SOURCES.map((s) => new ManualSource(s.name, s.environment, s.region));
  const federation = await startFederation({
    config: buildConfig({}),
    logger: silentLogger(),
    sources,
    httpAddress: '127.0.0.1:0',
  });
  for (const source of sources) source.sink.replaceAll(views.get(source.name)!);
  await nextTick();
  let index = federation.store.current().version;
  const first: number[] = [];
  const last: number[] = [];
  for (let n = 0; n < FEED_CHANGES; n++) {
    const polls = Array.from({ length: FOLLOWERS }, () =>
      fetch(`${federation.url}/v1/catalog/changes?index=${index}&wait=30s`)
        .then((r) => r.json())
        .then((body) => ({ body: body as { index: number; services: unknown[] }, at: process.hrtime.bigint() })),
    );
    // Every follower's request has reached the server and waits (the store holds their waits).
    for (let turns = 0; federation.store.waiting() < FOLLOWERS; turns++) {
      if (turns > 10_000) throw new Error('the followers did not all reach the long poll');
      await nextTick();
    }
    const { key, source, updated } = flipHealth(views, n + CHANGES);
    const started = process.hrtime.bigint();
    sources.find((s) => s.name === source)!.sink.replaceServices(new Map([[key, updated]]));
    const answers = await Promise.all(polls);
    const times = answers.map((a) => ms(a.at - started)).sort((a, b) => a - b);
    first.push(times[0]!);
    last.push(times[times.length - 1]!);
    for (const { body } of answers) {
      if (body.services.length !== 1) throw new Error(`expected one changed service, got ${body.services.length}`);
    }
    index = answers[0]!.body.index;
  }
  await federation.stop();
  return { first, last };
}

async function main() {
  const views = generate();
  const endpoints = SERVICES * ENDPOINTS_PER_SERVICE;
  console.log(`federation benchmark: ${SOURCES.length} sources, ${SERVICES} services, ${endpoints} endpoints`);

  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  const { store, sinks, elapsedMs } = await firstCatalog(views);
  collectGarbage();
  const catalogHeap = process.memoryUsage().heapUsed - heapBefore;
  const floorMs = floorIndexAll(views);
  console.log(
    `first full catalog:        ${fmt(elapsedMs, 1)} ms   (floor, index every endpoint once: ${fmt(floorMs, 1)} ms; ratio ${fmt(elapsedMs / floorMs, 1)}x)`,
  );
  console.log(
    `catalog heap:              ${fmt(catalogHeap / endpoints, 0)} bytes/endpoint beyond the sources' own objects (${fmt(catalogHeap / 2 ** 20, 1)} MiB)`,
  );

  const { samples, floor } = await changeLatency(views, store, sinks);
  console.log(
    `change -> event (${CHANGES}):    p50 ${fmt(percentile(samples, 50))} ms  p99 ${fmt(percentile(samples, 99))} ms   (floor, pure merge of that service: p50 ${fmt(percentile(floor, 50))} ms  p99 ${fmt(percentile(floor, 99))} ms)`,
  );
  store.close();

  const feed = await feedLatency(views);
  console.log(
    `change -> ${FOLLOWERS} HTTP followers (${FEED_CHANGES}): last p50 ${fmt(percentile(feed.last, 50))} ms  p99 ${fmt(percentile(feed.last, 99))} ms   (first p50 ${fmt(percentile(feed.first, 50))} ms  p99 ${fmt(percentile(feed.first, 99))} ms)`,
  );

  collectGarbage();
  const memory = process.memoryUsage();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    `process heap with views:   ${fmt(memory.heapUsed / endpoints, 0)} bytes/endpoint in all (${fmt(memory.heapUsed / 2 ** 20, 1)} MiB)`,
  );
  console.log(
    `process RSS with views:    ${fmt(memory.rss / endpoints, 0)} bytes/endpoint now (${fmt(memory.rss / 2 ** 20, 1)} MiB), peak ${fmt(peakRss / endpoints, 0)} bytes/endpoint (${fmt(peakRss / 2 ** 20, 1)} MiB)`,
  );
}

await main();
