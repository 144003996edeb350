import { embeddedDefaultConfig } from '@spillway/config';
import { alertBookLimits, describeChange, type RunningController, redisStores } from '@spillway/controller';
import { type Federation, formatCatalogSummary } from '@spillway/federation';
import { createMetricsRegistry, DEFAULT_RUN_LOG_FILE, logLevelFrom, openRunLog } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { setUpAuth } from '../auth-setup.js';
import { reloadConfigOnChange } from '../config-reload.js';
import { DEMO_SPEED, type DemoFleet, demoStatusLines, startDemoFleet } from '../demo-fleet.js';
import { startEmbeddedStack } from '../embedded-stack.js';
import { httpTransport } from '../http-transport.js';
import { CliError, loadConfigOrDefault } from '../load-config.js';
import { describePolicyCount } from '../policy-count.js';
import { redisAccessFromConfig } from '../redis-access.js';
import { stopOnSignals } from '../shutdown.js';
import { CatalogSummaryPrinter, StatusPrinter } from '../status-printer.js';
import { preflightXdsPort } from '../xds-exposure.js';

export interface UpOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly xds?: string;
  readonly prometheus?: string;
  /** The log file's level (stderr shows warn and above); default LOG_LEVEL, else info. */
  readonly logLevel?: string;
  /** Default SPILLWAY_LOG_FILE, else ~/.spillway/logs/up.log (rolled; `current.log` beside it). */
  readonly logFile?: string;
}

/**
 * `spillway up`: every service in one process (embedded mode) — the federation's catalog
 * feeds the router in memory, traffic policies live in memory, one HTTP server serves all APIs.
 */
export async function up(options: UpOptions): Promise<void> {
  // stdout is for a person: the banner and status lines. The JSON log goes to a file.
  const runLog = await openRunLog({
    name: 'spillway',
    level: usage(() => logLevelFrom(options.logLevel, process.env.LOG_LEVEL)),
    file: options.logFile ?? process.env.SPILLWAY_LOG_FILE ?? DEFAULT_RUN_LOG_FILE,
  }).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`${message} (choose another with --log-file or SPILLWAY_LOG_FILE)`, 2);
  });
  const { logger } = runLog;
  const registry = createMetricsRegistry({ process: 'embedded' });
  const fileConfig = options.config ? await loadConfigOrDefault(options.config) : undefined;
  // Before anything starts: the demo config's xDS address is loopback, a file's may not be.
  const planned = fileConfig ?? embeddedDefaultConfig();
  await preflightXdsPort(planned, options.xds ?? planned.listen.xds);
  // With a Redis URL, state, lease, jobs and policies live there (and survive this process).
  const stores = fileConfig?.redis
    ? await redisStores(fileConfig.redis, {
        logger,
        access: redisAccessFromConfig(fileConfig),
        alerts: alertBookLimits(fileConfig),
        retention: fileConfig.retention,
        controller: fileConfig.controller,
      })
    : undefined;
  const traffic = stores?.traffic ?? new InMemoryTrafficPolicyStore();
  const demo = fileConfig ? undefined : await startDemoFleet(logger, traffic);
  const config = fileConfig ?? demo!.config;
  const httpAddress = options.listen ?? config.listen.http;
  const xdsAddress = options.xds ?? config.listen.xds;
  const auth = await setUpAuth(config, httpAddress);
  const transport = await httpTransport(config, httpAddress, { logger, registry });
  const stack = await startEmbeddedStack({
    config,
    logger,
    registry,
    traffic,
    ...(stores ? { stores } : {}),
    ...(demo ? { fleet: demo.fleet } : {}),
    ...(options.prometheus ? { prometheusUrl: options.prometheus } : {}),
    httpAddress,
    xdsAddress,
    auth: auth.register,
    ...(transport.https ? { https: transport.https } : {}),
  });
  const { federation, controller } = stack;
  const watchingResources = config.customResources !== undefined;
  const policyCount = () => describePolicyCount(controller.policies.counts(), watchingResources);
  process.stdout.write(
    (demo
      ? `Spillway (embedded): the simulated fleet (sites dc1, dc2, us-east-1; a surge on checkout.shop, a slow climb on cart.shop), ${DEMO_SPEED}× real time\n`
      : `Spillway (embedded): ${config.clusters.length} cluster(s) from ${options.config}\n`) +
      `  console  ${federation.url}/ui\n` +
      `  API      ${federation.url}/v1/services  ${federation.url}/v1/xds/clients\n` +
      `  metrics  ${federation.url}/metrics\n` +
      `  xDS      ${xdsAddress.replace(/:\d+$/, '')}:${stack.xdsPort}  (dial xds:///NAME.NS)\n` +
      `  bursts   ${federation.url}/v1/bursts  (${policyCount()})\n` +
      `  drills   ${federation.url}/v1/drills  (spillway drill run FILE --api ${federation.url})\n` +
      `${auth.banner}\n` +
      `  logs     ${runLog.currentFile}  (JSON, level ${runLog.level}; warnings and errors also on stderr)\n`,
  );
  const stopStatus = demo ? printDemoStatus(demo, controller) : printCatalogChanges(federation);
  // A reload or a BurstPolicy resource changes the set the banner counted: say so.
  const stopPolicyLines = controller.policies.subscribe((change) =>
    process.stdout.write(`  policies ${policyCount()}  (${describeChange(change)})\n`),
  );
  const stopReloads = options.config ? await reloadConfigOnChange(options.config, controller, logger) : undefined;
  stopOnSignals(logger, async () => {
    stopReloads?.();
    stopStatus();
    stopPolicyLines();
    await stack.stop();
    await demo?.fleet.stop();
    await stores?.close?.();
  });
}

/** With real clusters: the catalog summary, each time what it says changes. */
function printCatalogChanges(federation: Federation): () => void {
  const printer = new CatalogSummaryPrinter();
  const print = () => {
    const summary = printer.next(formatCatalogSummary(federation.store.current()));
    if (summary) process.stdout.write(`${summary}\n`);
  };
  if (federation.store.current().version > 0) print();
  return federation.store.subscribe(print);
}

/**
 * With the simulated fleet: a line per burst policy when it changes (its clock aside), looked
 * at every two seconds, and again after 30 s of wall time without output.
 */
function printDemoStatus(demo: DemoFleet, controller: RunningController): () => void {
  const printer = new StatusPrinter();
  const timer = setInterval(() => {
    demoStatusLines(demo.fleet, controller).then(
      (lines) => {
        const out = printer.next(lines, performance.now());
        if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
      },
      () => undefined,
    );
  }, 2000);
  return () => clearInterval(timer);
}

/** A bad flag or variable: exit 2 with the one-line reason. */
function usage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
}
