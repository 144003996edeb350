/**
 * Routers side by side: N router processes follow one federation and share the clients.
 *   npm run bench:router-horizontal
 * The federation (`startFederation`, in this process) holds the router benchmark's catalog
 * (1,000 services, 100,000 endpoints, reported by one source). For N = 1 … BENCH_ROUTERS
 * (default 3), N router processes (router/router-process.ts: `startRouter` following the
 * federation's change feed, as `spillway router` does) start; the same BENCH_STREAMS clients
 * (router/clients.ts, in a process of their own) connect, client i to router i mod N, and
 * each endpoint change is made at the federation: latency runs from the source reporting it
 * until the last watcher, whichever router it is on, holds the new assignment. For each N it
 * prints the initial sync, the change fan-out, each router's CPU and peak RSS and the
 * federation's CPU; then what each router added against one. The single router (N = 1) is
 * the reference measured in the same run.
 * Sizes: as the router benchmark (BENCH_STREAMS, BENCH_SERVICES, …, BENCH_CHANGES), plus BENCH_ROUTERS.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mergeService } from '@spillway/catalog';
import { buildConfig } from '@spillway/config';
import { startFederation } from '@spillway/federation';
import type { Endpoint, Service, ServiceKey } from '@spillway/model';
import { silentLogger } from '@spillway/observability';
import { ManualSource } from '@spillway/test/support/manual-source';
import { Clients } from './router/clients-process.js';
import { encodeView } from './router/floor-server.js';
import { preciseNow } from './router/messages.js';
import type { RouterCommand, RouterReply } from './router/router-process.js';
import {
  type BenchConfig,
  CLIENT_LOCALITIES,
  changedService,
  clientPlans,
  configFromEnv,
  flipEndpointHealth,
  generateServices,
  subscribersByService,
} from './router/scenario.js';
import { fmt, percentile } from './stats.js';

const DEADLINE_MS = 30 * 60_000;
const PAUSE_BETWEEN_CHANGES_MS = 20;
const SOURCE = 'bench';

interface PlannedChange {
  readonly key: ServiceKey;
  readonly endpoints: readonly Endpoint[];
  readonly versions: readonly string[];
  readonly watchers: number;
}

/** Every change, with the versions the watchers must end up with, computed before anything is timed. */
function planChanges(config: BenchConfig, initial: ReadonlyMap<ServiceKey, Service>): PlannedChange[] {
  const subscribers = subscribersByService(clientPlans(config));
  const state = new Map(initial);
  const changes: PlannedChange[] = [];
  for (let n = 0; n < config.endpointChanges; n++) {
    const key = changedService(config, subscribers, n, 7919);
    const service = flipEndpointHealth(config, state.get(key)!, n);
    state.set(key, service);
    // What the router will serve: the federation's merge of what the source reports.
    const merged = mergeService(key, [{ source: SOURCE, state: 'live', endpoints: service.endpoints }])!;
    changes.push({
      key,
      endpoints: service.endpoints,
      versions: CLIENT_LOCALITIES.map((locality) => encodeView(key, merged, locality, undefined).version),
      watchers: subscribers.get(key)?.length ?? 0,
    });
  }
  return changes;
}

/** One router process and its IPC. */
class RouterProcess {
  private readonly child: ChildProcess;
  private readonly replies: RouterReply[] = [];
  private readonly waiters: ((reply: RouterReply) => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(federationUrl: string, services: number) {
    this.child = fork(new URL('./router/router-process.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, FEDERATION_URL: federationUrl, BENCH_SERVICES_EXPECTED: String(services) },
      serialization: 'advanced',
    });
    this.child.on('message', (reply: RouterReply) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter(reply);
      else this.replies.push(reply);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
  }

  private next(timeoutMs: number): Promise<RouterReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`router process: no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  async listening(): Promise<number> {
    const reply = await this.next(180_000);
    if (reply.kind !== 'listening')
      throw new Error(`router process: ${reply.kind === 'failed' ? reply.error : reply.kind}`);
    return reply.port;
  }

  async stats(): Promise<Extract<RouterReply, { kind: 'stats' }>> {
    this.child.send({ kind: 'stats' } satisfies RouterCommand);
    const reply = await this.next(30_000);
    if (reply.kind !== 'stats') throw new Error(`router process: expected stats, got ${reply.kind}`);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ kind: 'stop' } satisfies RouterCommand);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Stage {
  readonly routers: number;
  readonly syncMs: number;
  readonly connectErrors: number;
  readonly latencies: number[];
  readonly watchers: number;
  /** Per router: CPU seconds over the fan-outs, over its whole life, peak RSS, streams it served. */
  readonly perRouter: { fanOutCpu: number; totalCpu: number; maxRss: number; streams: number }[];
  readonly federationCpu: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runStage(
  routers: number,
  config: BenchConfig,
  federation: { url: string; source: ManualSource },
  changes: readonly PlannedChange[],
): Promise<Stage> {
  const processes = Array.from({ length: routers }, () => new RouterProcess(federation.url, config.services));
  const clients = new Clients();
  try {
    const ports = await Promise.all(processes.map((router) => router.listening()));
    const started = preciseNow();
    const ready = await clients.ask({ kind: 'connect', config, ports }, 'ready', config.timeoutMs * 2);
    const syncMs = ready.at - started;
    const before = await Promise.all(processes.map((router) => router.stats()));
    const federationCpu = process.cpuUsage();
    const latencies: number[] = [];
    let watchers = 0;
    for (const change of changes) {
      const seq = clients.send({ kind: 'expect', service: change.key, versions: change.versions });
      const armed = clients.answer(seq, 'armed', config.timeoutMs);
      const reached = clients.answer(seq, 'reached', config.timeoutMs);
      const { targets } = await armed;
      if (targets !== change.watchers)
        throw new Error(`${change.key}: ${targets} watchers, expected ${change.watchers}`);
      watchers += targets;
      const changedAt = preciseNow();
      federation.source.sink.replaceServices(new Map([[change.key, change.endpoints]]));
      latencies.push((await reached).at - changedAt);
      await sleep(PAUSE_BETWEEN_CHANGES_MS);
    }
    const federationUsed = process.cpuUsage(federationCpu);
    const after = await Promise.all(processes.map((router) => router.stats()));
    await clients.ask({ kind: 'disconnect' }, 'disconnected', 30_000);
    return {
      routers,
      syncMs,
      connectErrors: ready.connectErrors,
      latencies,
      watchers,
      perRouter: after.map((stats, index) => ({
        fanOutCpu: (stats.cpuMicros - before[index]!.cpuMicros) / 1e6,
        totalCpu: stats.cpuMicros / 1e6,
        maxRss: stats.maxRssBytes,
        streams: before[index]!.streams,
      })),
      federationCpu: (federationUsed.user + federationUsed.system) / 1e6,
    };
  } finally {
    await clients.close();
    await Promise.all(processes.map((router) => router.stop()));
  }
}

/** Undoes the stage's changes at the federation, so every stage starts from the same catalog. */
function restore(source: ManualSource, initial: ReadonlyMap<ServiceKey, Service>, changes: readonly PlannedChange[]) {
  const keys = new Set(changes.map((change) => change.key));
  source.sink.replaceServices(new Map([...keys].map((key) => [key, initial.get(key)!.endpoints])));
}

const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 0)} MiB`;
const list = (values: readonly number[], format: (value: number) => string) => values.map(format).join(' / ');

function report(config: BenchConfig, stages: readonly Stage[]): void {
  for (const stage of stages) {
    const label = `${stage.routers} router${stage.routers === 1 ? ' ' : 's'}`;
    const indent = ' '.repeat(label.length + 2);
    const rss = stage.perRouter.map((router) => router.maxRss);
    console.log(
      `${label}: initial sync ${fmt(stage.syncMs, 0)} ms; endpoint change -> all watchers (${stage.latencies.length}, ` +
        `${stage.watchers} watchers): p50 ${fmt(percentile(stage.latencies, 50), 1)} ms  p99 ${fmt(percentile(stage.latencies, 99), 1)} ms`,
    );
    console.log(
      `${indent}per router: streams ${list(
        stage.perRouter.map((router) => router.streams),
        (n) => String(n),
      )}, fan-out CPU ${list(
        stage.perRouter.map((router) => router.fanOutCpu),
        (s) => `${fmt(s, 2)} s`,
      )}, ` +
        `CPU in all ${list(
          stage.perRouter.map((router) => router.totalCpu),
          (s) => `${fmt(s, 1)} s`,
        )}, peak RSS ${list(rss, mib)}`,
    );
    const fanOutCpu = stage.perRouter.reduce((sum, router) => sum + router.fanOutCpu, 0);
    console.log(
      `${indent}aggregate: ${config.streams} streams, fan-out CPU ${fmt(fanOutCpu, 2)} s over the routers ` +
        `+ ${fmt(stage.federationCpu, 2)} s federation, RSS ${mib(rss.reduce((sum, value) => sum + value, 0))} over the routers` +
        (stage.connectErrors > 0 ? `, ${stage.connectErrors} stream errors while connecting` : ''),
    );
  }
  const one = stages[0]!;
  const oneCpu = one.perRouter[0]!.fanOutCpu;
  const oneRss = one.perRouter[0]!.maxRss;
  for (const stage of stages.slice(1)) {
    const cpu = stage.perRouter.reduce((sum, router) => sum + router.fanOutCpu, 0);
    const rss = stage.perRouter.reduce((sum, router) => sum + router.maxRss, 0);
    const ratio = (p: number) => fmt(percentile(stage.latencies, p) / percentile(one.latencies, p), 2);
    console.log(
      `${stage.routers} routers against 1: change p50 ${ratio(50)}x  p99 ${ratio(99)}x, sync ${fmt(stage.syncMs / one.syncMs, 2)}x, ` +
        `fan-out CPU in all ${fmt(cpu / oneCpu, 2)}x, RSS in all ${fmt(rss / oneRss, 2)}x; ` +
        `each router added ${mib((rss - oneRss) / (stage.routers - 1))} RSS and ` +
        `${fmt((cpu - oneCpu) / (stage.routers - 1), 2)} s fan-out CPU for the ${stage.latencies.length} changes`,
    );
  }
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error(`horizontal router benchmark: still running after ${DEADLINE_MS / 60_000} min, giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const config = configFromEnv();
  const maxRouters = Number(process.env['BENCH_ROUTERS'] ?? 3);
  if (!Number.isInteger(maxRouters) || maxRouters < 1) throw new Error('BENCH_ROUTERS must be an integer >= 1');
  const initial = generateServices(config);
  const changes = planChanges(config, initial);
  const source = new ManualSource(SOURCE, 'onprem', 'dc1');
  const federation = await startFederation({
    config: buildConfig({}),
    logger: silentLogger(),
    sources: [source],
    httpAddress: '127.0.0.1:0',
  });
  source.sink.replaceAll(new Map([...initial].map(([key, service]) => [key, service.endpoints])));
  console.log(
    `horizontal router benchmark: 1-${maxRouters} router processes following one federation (${federation.url}), ` +
      `${config.streams} ADS streams shared between them, ${config.services} services, ` +
      `${config.services * config.endpointsPerService} endpoints; changes made at the federation's source`,
  );
  const stages: Stage[] = [];
  try {
    for (let routers = 1; routers <= maxRouters; routers++) {
      stages.push(await runStage(routers, config, { url: federation.url, source }, changes));
      restore(source, initial, changes);
    }
  } finally {
    await federation.stop();
  }
  report(config, stages);
}

await main();
process.exit(0);
