import { escapeUnprintable } from '@spillway/model';
import { Command } from 'commander';
import cliPackage from '../package.json' with { type: 'json' };
import { registerClientCommands } from './client/register.js';
import { configValidate } from './commands/config-validate.js';
import type { ControllerCommandOptions } from './commands/controller.js';
import type { ManifestsOptions } from './commands/manifests.js';
import type { RouterCommandOptions } from './commands/router.js';
import type { UpOptions } from './commands/up.js';
import { describeFailure } from './load-config.js';

// The service commands load their whole service (gRPC, AWS SDK, BullMQ): import them only when
// they run, so the API-client commands start quickly.
const up = async (options: UpOptions) => (await import('./commands/up.js')).up(options);
const federation = async (options: { config?: string; listen?: string }) =>
  (await import('./commands/federation.js')).federation(options);
const router = async (options: RouterCommandOptions) => (await import('./commands/router.js')).router(options);
const manifests = async (options: ManifestsOptions) => (await import('./commands/manifests.js')).manifests(options);
const controller = async (options: ControllerCommandOptions) =>
  (await import('./commands/controller.js')).controller(options);

function program(): Command {
  const cli = new Command('spillway')
    .description('Multi-cluster cloud bursting: federated catalog, burst controller, xDS locality router')
    .version(cliPackage.version, '-V, --version', 'print the version')
    .showHelpAfterError();
  cli
    .command('up', { isDefault: true })
    .description('run every service in one process (embedded mode)')
    .option('-c, --config <file>', 'config file (YAML); default: the embedded demo config')
    .option('--listen <host:port>', 'HTTP API address (overrides listen.http)')
    .option('--xds <host:port>', 'xDS address (overrides listen.xds)')
    .option('--prometheus <url>', "Prometheus base URL for the policies' SLO queries")
    .option(
      '--log-level <level>',
      'level of the log file: trace, debug, info, warn, error, fatal, silent (default: LOG_LEVEL, else info)',
    )
    .option(
      '--log-file <path>',
      'JSON log file, rolled at 10 MiB (default: SPILLWAY_LOG_FILE, else ~/.spillway/logs/up.log)',
    )
    .action(up);
  cli
    .command('federation')
    .description('run the federation service alone')
    .option('-c, --config <file>', 'config file (YAML)')
    .option('--listen <host:port>', 'HTTP API address (overrides listen.http)')
    .action(federation);
  cli
    .command('router')
    .description('run the locality router alone, following a federation service')
    .option('-c, --config <file>', 'config file (YAML)')
    .requiredOption('--federation <url>', 'base URL of the federation service, e.g. http://127.0.0.1:7070')
    .option('--xds <host:port>', 'xDS address (overrides listen.xds)')
    .option('--listen <host:port>', 'HTTP address for /v1/xds/clients and /metrics', '127.0.0.1:7071')
    .action(router);
  cli
    .command('controller')
    .description('run the burst controller alone (distributed mode: needs redis)')
    .option('-c, --config <file>', 'config file (YAML) with redis and policies')
    .requiredOption('--federation <url>', 'base URL of the federation service, e.g. http://127.0.0.1:7070')
    .option('--listen <host:port>', 'HTTP address for the burst API', '127.0.0.1:7072')
    .option('--prometheus <url>', "Prometheus base URL for the policies' SLO queries")
    .option(
      '--router <url>',
      "deprecated: read one router's GET /v1/load (its clients only); absent: every router's load, summed from Redis",
    )
    .action(controller);
  cli
    .command('manifests')
    .description('print the Kubernetes YAML of the distributed mode (see docs/kubernetes.md)')
    .option('-f, --values <file>', 'values file (YAML): namespace, replicas, Redis, Secrets, the Spillway config')
    .action(manifests);
  const config = cli.command('config').description('config file tools');
  config.command('validate <file>').description('check a config file').action(configValidate);
  registerClientCommands(cli);
  return cli;
}

program()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const { message, exitCode } = describeFailure(error);
    // The message may quote the server (a problem's detail): no raw control character reaches the terminal.
    process.stderr.write(`spillway: ${escapeUnprintable(message, { multiline: true })}\n`);
    process.exit(exitCode);
  });
