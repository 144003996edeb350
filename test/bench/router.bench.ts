/**
 * Locality router benchmark: 2,000 ADS streams, 1,000 services, 100,000 endpoints.
 *   npm run bench:router
 * The router (`XdsServer`, what `startRouter` runs) serves raw @grpc/grpc-js ADS clients that
 * run in a child process (router/clients.ts), each on its own HTTP/2 connection, each watching
 * 10–50 ClusterLoadAssignments (10% over Delta, the rest SotW) from one of six localities. It
 * measures one endpoint change → every watcher holds the new assignment, one traffic-policy
 * change → every watcher holds it, the server's CPU seconds and peak RSS, and the bytes the
 * clients received; then the same clients connect to a floor (router/floor-server.ts) that
 * writes the same assignments with the least possible work, and the same changes are replayed.
 * Sizes: BENCH_STREAMS, BENCH_SERVICES, BENCH_ENDPOINTS_PER_SERVICE, BENCH_MIN_WATCH,
 * BENCH_MAX_WATCH, BENCH_DELTA_SHARE, BENCH_CHANGES, BENCH_POLICY_CHANGES, BENCH_WARMUP_CHANGES (made
 * before each kind's measured changes, on both servers, and reported apart), BENCH_TIMEOUT_MS.
 * BENCH_PROFILE=DIR writes a CPU profile of each server's endpoint-change fan-out there.
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Service, ServiceKey } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { XdsServer } from '@spillway/xds';
import { InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { profiled } from './profile.js';
import { Clients } from './router/clients-process.js';
import { encodeView, FloorServer } from './router/floor-server.js';
import { type ClientStats, preciseNow } from './router/messages.js';
import {
  type BenchConfig,
  CLIENT_LOCALITIES,
  changedService,
  clientPlans,
  configFromEnv,
  flipEndpointHealth,
  generateServices,
  nextCloudShare,
  subscribersByService,
} from './router/scenario.js';
import { collectGarbage, fmt, percentile } from './stats.js';

/** Never hit on a healthy run: every wait below is bounded by BENCH_TIMEOUT_MS. */
const DEADLINE_MS = 15 * 60_000;
/** Lets the ACKs of one change drain before the next change starts. */
const PAUSE_BETWEEN_CHANGES_MS = 20;
/** How long the router process sits idle to measure the floor of an event-loop stall. */
const IDLE_WINDOW_MS = 3_000;

interface Change {
  readonly kind: 'endpoint' | 'policy';
  /** Made before the measured changes of its kind, and not counted in their figures. */
  readonly warmup: boolean;
  readonly key: ServiceKey;
  readonly service: Service;
  readonly cloudShare: number | undefined;
  /** The new assignment's version per client locality: what each watcher must end up holding. */
  readonly versions: readonly string[];
  readonly watchers: number;
  /** Bytes of the changed assignment summed over its watchers: what a Delta-only fan-out carries. */
  readonly minimumBytes: number;
}

/** The whole change sequence, computed before anything is timed, so both servers replay the same one. */
function planChanges(config: BenchConfig, services: Map<ServiceKey, Service>): Change[] {
  const plans = clientPlans(config);
  const subscribers = subscribersByService(plans);
  const state = new Map(services);
  const shares = new Map<ServiceKey, number>();
  const changes: Change[] = [];
  const add = (
    kind: Change['kind'],
    warmup: boolean,
    key: ServiceKey,
    service: Service,
    cloudShare: number | undefined,
  ) => {
    const views = CLIENT_LOCALITIES.map((locality) => encodeView(key, service, locality, cloudShare));
    const watchers = subscribers.get(key) ?? [];
    changes.push({
      kind,
      warmup,
      key,
      service,
      cloudShare,
      versions: views.map((view) => view.version),
      watchers: watchers.length,
      minimumBytes: watchers.reduce((sum, index) => sum + views[plans[index]!.localityIndex]!.value.length, 0),
    });
  };
  const endpointChange = (warmup: boolean, n: number, stride: number) => {
    const key = changedService(config, subscribers, n, stride);
    const service = flipEndpointHealth(config, state.get(key)!, n);
    state.set(key, service);
    add('endpoint', warmup, key, service, shares.get(key));
  };
  const policyChange = (warmup: boolean, n: number, stride: number) => {
    const key = changedService(config, subscribers, n + 1, stride);
    const share = nextCloudShare(n, shares.get(key) ?? 0);
    shares.set(key, share);
    add('policy', warmup, key, state.get(key)!, share);
  };
  // Warm-ups touch other services (another stride), so the measured sequence is the same with or without them.
  for (let n = 0; n < config.warmupChanges; n++) endpointChange(true, n, 104_723);
  for (let n = 0; n < config.endpointChanges; n++) endpointChange(false, n, 7919);
  for (let n = 0; n < config.warmupChanges; n++) policyChange(true, n, 7_907);
  for (let n = 0; n < config.policyChanges; n++) policyChange(false, n, 104_729);
  return changes;
}

/** The planned changes by kind, warm-ups apart. */
interface ChangeGroups {
  readonly endpointWarmups: readonly Change[];
  readonly endpoints: readonly Change[];
  readonly policyWarmups: readonly Change[];
  readonly policies: readonly Change[];
}

function groupChanges(changes: readonly Change[]): ChangeGroups {
  const of = (kind: Change['kind'], warmup: boolean) =>
    changes.filter((change) => change.kind === kind && change.warmup === warmup);
  return {
    endpointWarmups: of('endpoint', true),
    endpoints: of('endpoint', false),
    policyWarmups: of('policy', true),
    policies: of('policy', false),
  };
}

/** The first (cold) change of each kind, from the warm-ups: ms to reach every watcher, or null without warm-ups. */
interface FirstChanges {
  readonly endpoint: number | null;
  readonly policy: number | null;
}

interface FanOut {
  /** Change made → last watcher holds the new version (ms). */
  readonly latencies: number[];
  /** The synchronous part of the change on the server: catalog/policy update → every write queued (ms). */
  readonly synchronous: number[];
  /** The CPU time of that part (ms): unlike its wall time, hardly moved by other processes on the machine. */
  readonly synchronousCpu: number[];
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly responses: number;
  readonly watchers: number;
  readonly minimumBytes: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Replays `changes` through `apply`, waiting each time until every watcher holds the new version. */
async function fanOut(
  clients: Clients,
  config: BenchConfig,
  changes: readonly Change[],
  apply: (change: Change) => void,
): Promise<FanOut> {
  const latencies: number[] = [];
  const synchronous: number[] = [];
  const synchronousCpu: number[] = [];
  const before = await clients.stats();
  const cpu = process.cpuUsage();
  let watchers = 0;
  let minimumBytes = 0;
  for (const change of changes) {
    minimumBytes += change.minimumBytes;
    const seq = clients.send({ kind: 'expect', service: change.key, versions: change.versions });
    const armed = clients.answer(seq, 'armed', config.timeoutMs);
    const reached = clients.answer(seq, 'reached', config.timeoutMs);
    const { targets } = await armed;
    if (targets !== change.watchers) throw new Error(`${change.key}: ${targets} watchers, expected ${change.watchers}`);
    watchers += targets;
    const started = preciseNow();
    const startedCpu = process.cpuUsage();
    apply(change);
    synchronous.push(preciseNow() - started);
    synchronousCpu.push(cpuSeconds(startedCpu) * 1000);
    const { at } = await reached;
    latencies.push(at - started);
    await sleep(PAUSE_BETWEEN_CHANGES_MS);
  }
  const cpuUsed = cpuSeconds(cpu);
  const after = await clients.stats();
  return {
    latencies,
    synchronous,
    synchronousCpu,
    cpuSeconds: cpuUsed,
    bytes: after.bytes - before.bytes,
    responses: after.responses - before.responses,
    watchers,
    minimumBytes,
  };
}

function firstChanges(endpointWarmups: FanOut, policyWarmups: FanOut): FirstChanges {
  return { endpoint: endpointWarmups.latencies[0] ?? null, policy: policyWarmups.latencies[0] ?? null };
}

interface Sync {
  readonly ms: number;
  readonly cpuSeconds: number;
  readonly bytes: number;
  readonly connectErrors: number;
}

/** All clients connect at once; resolves when every one holds its whole subscription. */
async function connectAll(clients: Clients, config: BenchConfig, port: number): Promise<Sync> {
  const before = await clients.stats();
  const cpu = process.cpuUsage();
  const started = preciseNow();
  const { at, connectErrors } = await clients.ask(
    { kind: 'connect', config, ports: [port] },
    'ready',
    config.timeoutMs * 2,
  );
  const cpuUsed = cpuSeconds(cpu);
  const after = await clients.stats();
  return { ms: at - started, cpuSeconds: cpuUsed, bytes: after.bytes - before.bytes, connectErrors };
}

async function disconnectAll(clients: Clients) {
  await clients.ask({ kind: 'disconnect' }, 'disconnected', 10_000);
}

const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MiB`;
const pct = (values: readonly number[]) =>
  `p50 ${fmt(percentile(values, 50), 1)} ms  p99 ${fmt(percentile(values, 99), 1)} ms`;

function describe(label: string, run: FanOut): string {
  return (
    `${label}: ${pct(run.latencies)}   (server CPU ${fmt(run.cpuSeconds, 2)} s, ` +
    `sync part p50 ${fmt(percentile(run.synchronous, 50), 1)} ms / ${fmt(percentile(run.synchronousCpu, 50), 1)} ms CPU, ${mib(run.bytes)} to ${run.watchers} watchers in ${run.responses} responses)`
  );
}

type Phase = 'router' | 'floor';

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`router benchmark: still running after ${DEADLINE_MS / 60_000} min, giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const phase = process.env['BENCH_PHASE'];
  if (phase === 'router' || phase === 'floor') return runPhase(phase);

  const config = configFromEnv();
  const plans = clientPlans(config);
  const delta = plans.filter((plan) => plan.protocol === 'delta').length;
  const watches = plans.reduce((sum, plan) => sum + plan.watched.length, 0);
  console.log(
    `router benchmark: ${config.streams} ADS streams (${config.streams - delta} SotW, ${delta} Delta) over as many ` +
      `connections, ${config.services} services, ${config.services * config.endpointsPerService} endpoints, ` +
      `${CLIENT_LOCALITIES.length} client localities, ${config.minWatch}-${config.maxWatch} ` +
      `ClusterLoadAssignments per client (${watches} watches, ${fmt(watches / config.streams, 1)} per client)`,
  );
  // Each server in a fresh process of its own (with its clients in another): CPU and RSS are its alone.
  const router = await inOwnProcess<RouterRun>('router');
  const floor = await inOwnProcess<FloorRun>('floor');
  report(config, router, floor);
}

/** One server phase, in this process; the result goes to the parent. */
async function runPhase(phase: Phase): Promise<void> {
  // Orphaned (the parent gave up): stop too.
  if (process.send) process.on('disconnect', () => process.exit(1));
  const config = configFromEnv();
  const initial = generateServices(config);
  const changes = groupChanges(planChanges(config, initial));
  const result =
    phase === 'router' ? await runRouter(config, initial, changes) : await runFloor(config, initial, changes);
  const send = process.send?.bind(process);
  // Run by hand (BENCH_PHASE=router node ...), e.g. to profile one phase: print the raw result.
  if (!send) {
    console.log(JSON.stringify(result, null, 1));
    return;
  }
  await new Promise<void>((resolve, reject) =>
    send(result, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

function inOwnProcess<T>(phase: Phase): Promise<T> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, BENCH_PHASE: phase },
    serialization: 'advanced',
  });
  return new Promise((resolve, reject) => {
    let result: T | undefined;
    child.on('message', (message: T) => {
      result = message;
    });
    child.on('exit', (code) =>
      code === 0 && result !== undefined ? resolve(result) : reject(new Error(`${phase} phase failed (exit ${code})`)),
    );
  });
}

interface RouterRun {
  readonly sync: Sync;
  readonly first: FirstChanges;
  readonly encodesAtSync: number;
  readonly encodes: number;
  /** Live heap with every stream still connected, after everything was measured. */
  readonly heapLive: number;
  readonly endpoints: FanOut;
  readonly policies: FanOut;
  readonly refresh: {
    readonly ms: number;
    readonly blockedMs: number;
    /** The longest stall of the same process idle for IDLE_WINDOW_MS just before (the floor). */
    readonly idleBlockedMs: number;
    readonly cpuSeconds: number;
    readonly bytes: number;
  };
  /** The whole router phase in its process: start, sync, fan-outs, re-send. */
  readonly cpu: NodeJS.CpuUsage;
  readonly maxRss: number;
  readonly clients: ClientStats;
}

async function runRouter(
  config: BenchConfig,
  initial: ReadonlyMap<ServiceKey, Service>,
  changes: ChangeGroups,
): Promise<RouterRun> {
  const catalog = new InMemoryCatalog();
  for (const service of initial.values()) catalog.setService(service);
  const policies = new InMemoryTrafficPolicyStore();
  collectGarbage();
  const phaseCpu = process.cpuUsage();
  const router = new XdsServer({
    catalog,
    policies,
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    // The periodic re-send is measured on its own below, not left to fire inside a fan-out.
    refreshIntervalMs: 3_600_000,
  });
  const port = await router.listen('127.0.0.1:0');
  const clients = new Clients();
  try {
    const sync = await connectAll(clients, config, port);
    const encodesAtSync = router.encodes;
    const setService = (change: Change) => catalog.setService(change.service);
    const setPolicy = (change: Change) => {
      void policies.set({
        service: change.key,
        cloudShare: change.cloudShare ?? 0,
        reason: 'bench',
        updatedAt: new Date().toISOString(),
      });
    };
    const endpointWarmups = await fanOut(clients, config, changes.endpointWarmups, setService);
    const endpoints = await profiled('router-endpoint-changes', () =>
      fanOut(clients, config, changes.endpoints, setService),
    );
    const policyWarmups = await fanOut(clients, config, changes.policyWarmups, setPolicy);
    const policyRun = await fanOut(clients, config, changes.policies, setPolicy);
    const first = firstChanges(endpointWarmups, policyWarmups);
    // The periodic re-send (every 60 s by default) of every assignment to every stream.
    // The floor of the stall: the same process with nothing to do, for as long, just before.
    // On a shared machine it is mostly the time the OS did not run the process.
    const idle = monitorEventLoopDelay({ resolution: 5 });
    idle.enable();
    await sleep(IDLE_WINDOW_MS);
    idle.disable();
    const idleBlockedMs = idle.max / 1e6;
    const refreshCpu = process.cpuUsage();
    const beforeRefresh = await clients.stats();
    const seq = clients.send({ kind: 'expect-any' });
    const armed = clients.answer(seq, 'armed', config.timeoutMs);
    const reached = clients.answer(seq, 'reached', config.timeoutMs);
    await armed;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const refreshStarted = preciseNow();
    // Private on purpose (a timer drives it); the benchmark triggers it once to measure it.
    (router as unknown as { refreshAssignments(): void }).refreshAssignments();
    const refreshMs = (await reached).at - refreshStarted;
    await sleep(PAUSE_BETWEEN_CHANGES_MS);
    loop.disable();
    // The longest the event loop went without turning while the re-send went out.
    const blockedMs = loop.max / 1e6;
    const refreshCpuSeconds = cpuSeconds(refreshCpu);
    const afterRefresh = await clients.stats();
    // Forced collections only now, with everything measured: V8 sizes the next old-generation
    // limit from the mutator utilisation of the last collection, which is 0 for gc() called
    // twice in a row, so forcing them after the sync (as this benchmark did) made the router
    // mark-compact its 160 MiB heap every ~0.4 s through the fan-outs (--trace-gc), a cost no
    // running router has and the floor never paid.
    collectGarbage();
    const heapLive = process.memoryUsage().heapUsed;
    const result: RouterRun = {
      sync,
      first,
      encodesAtSync,
      encodes: router.encodes,
      heapLive,
      endpoints,
      policies: policyRun,
      refresh: {
        ms: refreshMs,
        blockedMs,
        idleBlockedMs,
        cpuSeconds: refreshCpuSeconds,
        bytes: afterRefresh.bytes - beforeRefresh.bytes,
      },
      cpu: process.cpuUsage(phaseCpu),
      maxRss: process.resourceUsage().maxRSS * 1024,
      clients: afterRefresh,
    };
    await disconnectAll(clients);
    return result;
  } finally {
    await clients.close();
    await router.stop();
  }
}

interface FloorRun {
  readonly sync: Sync;
  readonly first: FirstChanges;
  readonly encodes: number;
  readonly prepareMs: number;
  readonly prepareCpuSeconds: number;
  readonly endpoints: FanOut;
  readonly policies: FanOut;
  readonly cpu: NodeJS.CpuUsage;
  readonly maxRss: number;
}

async function runFloor(
  config: BenchConfig,
  initial: ReadonlyMap<ServiceKey, Service>,
  changes: ChangeGroups,
): Promise<FloorRun> {
  const floor = new FloorServer(clientPlans(config), initial);
  collectGarbage();
  const phaseCpu = process.cpuUsage();
  const prepareCpu = process.cpuUsage();
  const prepareStarted = preciseNow();
  const encodes = floor.prepare();
  const prepareMs = preciseNow() - prepareStarted;
  const prepareCpuSeconds = cpuSeconds(prepareCpu);
  const port = await floor.listen();
  const clients = new Clients();
  try {
    const sync = await connectAll(clients, config, port);
    const apply = (change: Change) => floor.change(change.key, change.service, change.cloudShare);
    const endpointWarmups = await fanOut(clients, config, changes.endpointWarmups, apply);
    const endpoints = await profiled('floor-endpoint-changes', () => fanOut(clients, config, changes.endpoints, apply));
    const policyWarmups = await fanOut(clients, config, changes.policyWarmups, apply);
    const policies = await fanOut(clients, config, changes.policies, apply);
    const first = firstChanges(endpointWarmups, policyWarmups);
    await disconnectAll(clients);
    const cpu = process.cpuUsage(phaseCpu);
    return {
      sync,
      first,
      encodes,
      prepareMs,
      prepareCpuSeconds,
      endpoints,
      policies,
      cpu,
      maxRss: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await clients.close();
    await floor.stop();
  }
}

function report(config: BenchConfig, router: RouterRun, floor: FloorRun): void {
  const ratio = (a: readonly number[], b: readonly number[], p: number) => fmt(percentile(a, p) / percentile(b, p), 1);
  const cpu = (usage: NodeJS.CpuUsage) =>
    `${fmt((usage.user + usage.system) / 1e6, 1)} s CPU (user ${fmt(usage.user / 1e6, 1)}, system ${fmt(usage.system / 1e6, 1)})`;
  console.log(
    `initial sync (all ${config.streams} connect at once -> all hold their set): router ${fmt(router.sync.ms, 0)} ms, ` +
      `${fmt(router.sync.cpuSeconds, 2)} s CPU, ${mib(router.sync.bytes)}, ${router.encodesAtSync} assignments encoded ` +
      `(floor: ${fmt(floor.sync.ms, 0)} ms, ${fmt(floor.sync.cpuSeconds, 2)} s CPU, ${mib(floor.sync.bytes)}, ` +
      `after encoding ${floor.encodes} assignments up front in ${fmt(floor.prepareMs, 0)} ms / ${fmt(floor.prepareCpuSeconds, 2)} s CPU)`,
  );
  for (const [label, routerRun, floorRun] of [
    ['endpoint change', router.endpoints, floor.endpoints],
    ['policy change  ', router.policies, floor.policies],
  ] as const) {
    const prefix = `${label} -> all watchers ${`(${routerRun.latencies.length})`.padEnd(5)}`;
    const indent = ' '.repeat(prefix.length);
    console.log(describe(`${prefix}router`, routerRun));
    console.log(describe(`${indent}floor `, floorRun));
    console.log(
      `${indent}ratio router/floor: ` +
        `p50 ${ratio(routerRun.latencies, floorRun.latencies, 50)}x  p99 ${ratio(routerRun.latencies, floorRun.latencies, 99)}x  ` +
        `CPU ${fmt(routerRun.cpuSeconds / floorRun.cpuSeconds, 1)}x  ` +
        `sync part CPU p50 ${ratio(routerRun.synchronousCpu, floorRun.synchronousCpu, 50)}x   ` +
        `(had each watcher got only the changed assignment: ${mib(routerRun.minimumBytes)})`,
    );
  }
  const ms = (value: number | null) => (value === null ? '-' : `${fmt(value, 1)} ms`);
  if (config.warmupChanges > 0) {
    console.log(
      `first change after the sync (cold: the change path's first run, one of ${config.warmupChanges} warm-ups per kind ` +
        `not in the figures above): endpoint router ${ms(router.first.endpoint)}, floor ${ms(floor.first.endpoint)}; ` +
        `policy router ${ms(router.first.policy)}, floor ${ms(floor.first.policy)}`,
    );
  }
  console.log(
    `periodic re-send of every assignment (once): ${fmt(router.refresh.ms, 0)} ms to reach all ${config.streams} streams, ` +
      `longest event-loop stall ${fmt(router.refresh.blockedMs, 0)} ms (idle, same process just before: ${fmt(router.refresh.idleBlockedMs, 0)} ms), ` +
      `${fmt(router.refresh.cpuSeconds, 2)} s CPU, ${mib(router.refresh.bytes)}`,
  );
  console.log(
    `router process (start, sync, fan-outs, re-send): ${cpu(router.cpu)}, peak RSS ${mib(router.maxRss)}, ` +
      `live heap with all streams connected ${mib(router.heapLive)}, ${router.encodes} assignments encoded in all`,
  );
  console.log(`floor process (prepare, sync, fan-outs):           ${cpu(floor.cpu)}, peak RSS ${mib(floor.maxRss)}`);
  console.log(
    `clients process (router phase): ${fmt(router.clients.cpuMicros / 1e6, 1)} s CPU, peak RSS ${mib(router.clients.maxRssBytes)}, ` +
      `${router.clients.responses} responses, ${mib(router.clients.bytes)} received`,
  );
  if (router.sync.connectErrors + floor.sync.connectErrors > 0) {
    console.log(
      `stream errors while connecting: router ${router.sync.connectErrors}, floor ${floor.sync.connectErrors}`,
    );
  }
}

await main();
process.exit(0);
