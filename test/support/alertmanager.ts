import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManagedProcess, startOnFreePort } from './free-port.js';

interface CommonOptions {
  /** Deadline for `/-/ready`. */
  startTimeoutMs?: number;
}

/** A generated config: one webhook receiver, short waits for tests. */
export interface GeneratedAlertmanagerOptions extends CommonOptions {
  webhookUrl: string;
  groupBy?: string[];
  /** Defaults `1s`, `1s`, `1h`: a test hears firing and resolved within seconds. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** `max_alerts` of the webhook (0 = no limit). */
  maxAlerts?: number;
  /** Sent as `Authorization: Bearer …` (written to a credentials file in the temp dir). */
  bearerToken?: string;
}

/**
 * A complete config, e.g. infra/alertmanager/alertmanager.yml patched by the test. `files` are
 * written into the temp dir first; `config` may name them with the `{{dir}}` placeholder.
 */
export interface ExplicitAlertmanagerOptions extends CommonOptions {
  config: unknown;
  files?: Record<string, string>;
}

export type StartAlertmanagerOptions = GeneratedAlertmanagerOptions | ExplicitAlertmanagerOptions;

export interface RunningAlertmanager extends ManagedProcess {
  readonly config: unknown;
  /** The temp dir holding config and data; gone after stop(). */
  readonly dir: string;
}

/** The binary: `ALERTMANAGER_BIN`, else Debian's prometheus-alertmanager, else `alertmanager`. */
export function alertmanagerBinary(): string {
  const fromEnv = process.env['ALERTMANAGER_BIN'];
  if (fromEnv) return fromEnv;
  if (existsSync('/usr/bin/prometheus-alertmanager')) return '/usr/bin/prometheus-alertmanager';
  return existsSync('/usr/bin/alertmanager') ? '/usr/bin/alertmanager' : 'alertmanager';
}

function generatedConfig(options: GeneratedAlertmanagerOptions, dir: string): unknown {
  return {
    route: {
      receiver: 'test-webhook',
      group_by: options.groupBy ?? ['alertname', 'service'],
      group_wait: options.groupWait ?? '1s',
      group_interval: options.groupInterval ?? '1s',
      repeat_interval: options.repeatInterval ?? '1h',
    },
    receivers: [
      {
        name: 'test-webhook',
        webhook_configs: [
          {
            url: options.webhookUrl,
            send_resolved: true,
            max_alerts: options.maxAlerts ?? 0,
            ...(options.bearerToken === undefined
              ? {}
              : { http_config: { authorization: { type: 'Bearer', credentials_file: join(dir, 'webhook-token') } } }),
          },
        ],
      },
    ],
  };
}

/**
 * Runs the real Alertmanager with a temp config and storage on a free loopback port, clustering
 * off (`--cluster.listen-address=`), and resolves once `/-/ready` answers. `stop()` kills it and
 * removes the temp dir.
 */
export async function startAlertmanager(options: StartAlertmanagerOptions): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-alertmanager-'));
  let config: unknown;
  if ('config' in options) {
    for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content);
    config = JSON.parse(JSON.stringify(options.config).replaceAll('{{dir}}', dir));
  } else {
    if (options.bearerToken !== undefined) await writeFile(join(dir, 'webhook-token'), options.bearerToken);
    config = generatedConfig(options, dir);
  }
  const configFile = join(dir, 'alertmanager.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));

  const started = await startOnFreePort({
    name: 'alertmanager',
    command: alertmanagerBinary(),
    args: (port) => [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      // Empty: no gossip, so no second port to find and no peers to wait for.
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    readyPath: '/-/ready',
    ...(options.startTimeoutMs === undefined ? {} : { timeoutMs: options.startTimeoutMs }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  return Object.assign(started, { config, dir });
}
