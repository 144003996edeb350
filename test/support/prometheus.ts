import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ManagedProcess, startOnFreePort } from './free-port.js';

export interface StartPrometheusOptions {
  /** Rule files to load (paths; the real Prometheus refuses to start on a bad one). */
  ruleFiles?: string[];
  /** What to scrape: `host:port` or a full URL (its path becomes `metrics_path`). */
  scrapeTargets?: string[];
  /** Global scrape interval, a Prometheus duration; tests use `1s`. */
  scrapeInterval?: string;
  /** Global rule evaluation interval; tests use `1s`. */
  evaluationInterval?: string;
  /** Alertmanagers to send alerts to: base URLs such as `http://127.0.0.1:9093`. */
  alertmanagerUrls?: string[];
  /** Deadline for `/-/ready`. */
  startTimeoutMs?: number;
}

export interface RunningPrometheus extends ManagedProcess {
  /** The config it runs with, as written (JSON is YAML). */
  readonly config: unknown;
  /** The temp dir holding config and data; gone after stop(). */
  readonly dir: string;
}

/** The Prometheus binary: `PROMETHEUS_BIN`, else Debian's /usr/bin/prometheus, else PATH. */
export function prometheusBinary(): string {
  const fromEnv = process.env['PROMETHEUS_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/bin/prometheus') ? '/usr/bin/prometheus' : 'prometheus';
}

function scrapeConfig(target: string, index: number): Record<string, unknown> {
  const url = new URL(/^[a-z]+:\/\//i.test(target) ? target : `http://${target}`);
  return {
    job_name: `target-${index}`,
    scheme: url.protocol.replace(':', ''),
    metrics_path: url.pathname === '' || url.pathname === '/' ? '/metrics' : url.pathname,
    static_configs: [{ targets: [url.host] }],
  };
}

function secondsOf(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!match) return 10;
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}

/**
 * Runs the real Prometheus with a temp config and TSDB on a free loopback port; resolves once
 * `/-/ready` answers. `stop()` kills it and removes the temp dir.
 */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<RunningPrometheus> {
  const scrapeInterval = options.scrapeInterval ?? '1s';
  const evaluationInterval = options.evaluationInterval ?? '1s';
  const dir = await mkdtemp(join(tmpdir(), 'spillway-prometheus-'));
  const config = {
    global: {
      scrape_interval: scrapeInterval,
      // The timeout may not exceed the interval; a loopback scrape needs far less anyway.
      scrape_timeout: `${Math.max(0.1, Math.min(secondsOf(scrapeInterval), 10))}s`,
      evaluation_interval: evaluationInterval,
    },
    rule_files: (options.ruleFiles ?? []).map((file) => resolve(file)),
    scrape_configs: (options.scrapeTargets ?? []).map(scrapeConfig),
    ...(options.alertmanagerUrls && options.alertmanagerUrls.length > 0
      ? {
          alerting: {
            alertmanagers: [
              {
                api_version: 'v2',
                static_configs: [{ targets: options.alertmanagerUrls.map((url) => new URL(url).host) }],
              },
            ],
          },
        }
      : {}),
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));

  const started = await startOnFreePort({
    name: 'prometheus',
    command: prometheusBinary(),
    args: (port) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=info',
    ],
    readyPath: '/-/ready',
    ...(options.startTimeoutMs === undefined ? {} : { timeoutMs: options.startTimeoutMs }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
  return Object.assign(started, { config, dir });
}
