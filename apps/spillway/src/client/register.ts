import { type Command, type CommanderError, Option } from 'commander';
import { burstAbort, burstList, burstShow, burstStart } from './burst-commands.js';
import { catalogCommand } from './catalog-command.js';
import { addClientOptions } from './connection.js';
import type { DrillRunOptions } from './drill-commands.js';
import { parseDuration, parseLimit, parseShare, parseSteps } from './format.js';
import { statusCommand } from './status-command.js';

/** Exit code of a usage error (unknown option, missing argument, bad value). */
export const USAGE_EXIT_CODE = 2;

/** Commander exits 1 on a usage error; the client commands exit 2, and 0 after --help. */
function usageExit(error: CommanderError): never {
  process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
}

function waitTimeout(): Option {
  return new Option('--timeout <duration>', 'deadline for --wait (exit 3 when it passes)')
    .argParser(parseDuration)
    .default(parseDuration('10m'), '10m');
}

/** The API-client commands: status, catalog, burst start|list|show|abort, drill run. */
export function registerClientCommands(cli: Command): void {
  registerStatus(cli);
  registerCatalog(cli);
  registerBurst(cli);
  registerDrill(cli);
}

// A drill loads the probes (grpc-js-xds) and maybe the whole stack: only when it runs.
const drillRun = async (file: string, options: DrillRunOptions) =>
  (await import('./drill-commands.js')).drillRun(file, options);

function registerDrill(cli: Command): void {
  const drill = cli.command('drill').exitOverride(usageExit).description('game-day drills (see docs/drills.md)');
  addClientOptions(drill.command('run <file>'))
    .description(
      'run a drill file: simulated ones here on a fresh simulated fleet, live ones (or with --api) on that server; exit 0 only when it passed',
    )
    .option('--local', 'run a simulated drill here even when --api or $SPILLWAY_API is set')
    .action(drillRun);
}

function registerStatus(cli: Command): void {
  addClientOptions(cli.command('status').exitOverride(usageExit))
    .description('health, sources, bursts in progress, controller and xDS clients on one screen')
    .option('--controller-api <url>', 'the burst controller API when it runs apart (default: --api)')
    .option('--router-api <url>', "the router's API when it runs apart (default: --api)")
    .action(statusCommand);
}

function registerCatalog(cli: Command): void {
  addClientOptions(cli.command('catalog [service]').exitOverride(usageExit))
    .description('list the federated services, or with NAME.NS the endpoints of one service')
    .option('-n, --namespace <ns>', 'only services in this namespace')
    .action(catalogCommand);
}

function registerBurst(cli: Command): void {
  const burst = cli.command('burst').exitOverride(usageExit).description('start, list, show and abort bursts');
  addClientOptions(burst.command('start <service>'))
    .description('request a manual burst of SERVICE (NAME.NS) to a cloud share; prints its id')
    .requiredOption('--share <share>', 'cloud share to go to, in (0, 1], e.g. 0.3', parseShare)
    .requiredOption('--reason <text>', 'why (it goes to the audit log)')
    .option('--steps <shares>', 'intermediate shares to step through, e.g. 0.1,0.2', parseSteps)
    .option('--expires <duration>', 'end the burst by itself after this long, e.g. 30m', parseDuration)
    .option('--wait', 'follow the burst until it holds at its share (progress on stderr)')
    .addOption(waitTimeout())
    .action(burstStart);
  addClientOptions(burst.command('list'))
    .description('bursts in progress (newest first)')
    .option('--service <NAME.NS>', 'only bursts of this service')
    .option('--all', 'ended bursts too')
    .option('--limit <n>', 'at most this many (1-100000, default 100; pages are followed)', parseLimit)
    .action(burstList);
  addClientOptions(burst.command('show <id>'))
    .description("a burst's phase, share, what it waits on, and its history")
    .action(burstShow);
  addClientOptions(burst.command('abort <id>'))
    .description('abort a burst: traffic back on-prem first, capacity after')
    .option('--reason <text>', 'why (it goes to the audit log)')
    .option('--wait', 'follow the burst until it has ended (progress on stderr)')
    .addOption(waitTimeout())
    .action(burstAbort);
}
