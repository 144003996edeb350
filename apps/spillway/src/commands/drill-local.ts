import { userInfo } from 'node:os';
import { registerAuth, TokenAuthenticator } from '@spillway/auth';
import type { DrillFile, DrillProgress, DrillReport } from '@spillway/drill';
import { createMetricsRegistry, stderrLogger } from '@spillway/observability';
import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { startDemoFleet } from '../demo-fleet.js';
import { startEmbeddedStack } from '../embedded-stack.js';
import { CliError } from '../load-config.js';

export interface LocalDrillOptions {
  readonly onProgress: (progress: DrillProgress) => void;
  /** How long the fleet may take to show the target in the catalog (default 30 s). */
  readonly catalogTimeoutMs?: number;
}

/**
 * Runs a simulated drill on this machine: a fresh simulated fleet (the default scenario) and the
 * three services in this process on free loopback ports, as `spillway up` runs them. Ctrl-C
 * aborts the drill (everything rolls back) and still prints the report.
 */
export async function runDrillLocally(drill: DrillFile, options: LocalDrillOptions): Promise<DrillReport> {
  // Errors only, on stderr: the progress lines are the drill's voice here, stdout its report.
  const logger = stderrLogger('spillway');
  const registry = createMetricsRegistry({ process: 'drill' });
  const traffic = new InMemoryTrafficPolicyStore();
  const demo = await startDemoFleet(logger, traffic, { mtls: drill.mtls });
  // Nobody calls this API but the drill service itself; it still never runs open.
  const locked = new TokenAuthenticator([]);
  let stack: Awaited<ReturnType<typeof startEmbeddedStack>> | undefined;
  try {
    stack = await startEmbeddedStack({
      config: { ...demo.config, listen: { http: '127.0.0.1:0', xds: '127.0.0.1:0' } },
      logger,
      registry,
      traffic,
      fleet: demo.fleet,
      httpAddress: '127.0.0.1:0',
      xdsAddress: '127.0.0.1:0',
      auth: (app) => registerAuth(app, { authenticator: locked, openReads: false }),
    });
    await untilInCatalog(stack, drill.target.service, options.catalogTimeoutMs ?? 30_000);
    const refused = stack.admit(drill);
    if (refused) throw new CliError(`drill refused: ${refused}`, 2);
    const view = stack.drills.start(drill, userInfo().username);
    const running = stack;
    const onSignal = () => running.drills.abort(view.id);
    process.once('SIGINT', onSignal);
    const ticker = setInterval(() => {
      const progress = running.drills.get(view.id)?.progress;
      if (progress) options.onProgress(progress);
    }, 250);
    try {
      const report = await stack.drills.report(view.id);
      if (!report) throw new CliError(`drill ${view.id} ended without a report`);
      return report;
    } finally {
      clearInterval(ticker);
      process.off('SIGINT', onSignal);
    }
  } finally {
    await stack?.stop();
    await demo.fleet.stop();
  }
}

/**
 * Waits until every simulated site has reported once (a heartbeat), then checks the target:
 * a name the fleet does not have is a typo, said at once with the names it has.
 */
async function untilInCatalog(
  stack: Awaited<ReturnType<typeof startEmbeddedStack>>,
  service: string,
  timeoutMs: number,
): Promise<void> {
  const store = stack.federation.store;
  const synced = () => {
    const sources = store.current().sources;
    return sources.length > 0 && sources.every((source) => source.lastSyncAt !== null);
  };
  if (!synced()) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new CliError(`the simulated fleet did not report within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const unsubscribe = store.subscribe(() => {
        if (!synced()) return;
        clearTimeout(timer);
        unsubscribe();
        resolve();
      });
    });
  }
  if (!store.current().services.has(service)) {
    const known = [...store.current().services.keys()].sort().join(', ');
    throw new CliError(`no service ${service} in the simulated fleet (it has: ${known})`, 2);
  }
}
