import { type ConfigReload, formatProblem, planReload, type SpillwayConfig } from '@spillway/config';
import type { PolicySetChange } from '@spillway/model';
import { Counter, Gauge, type Logger, type Registry } from '@spillway/observability';
import type { AuditLog } from '@spillway/state';
import type { LivePolicySet } from './policies/live-policy-set.js';

export interface ConfigReloadsDeps {
  /** The config the process started with. */
  readonly config: SpillwayConfig;
  readonly policies: LivePolicySet;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly registry: Registry;
  /**
   * Whether this replica leads now. Every replica reloads its own file and logs it; only the
   * leader audits, so one change is one audit entry however many replicas run (the leader's
   * policies are the ones that decide bursts).
   */
  readonly isLeader: () => boolean;
}

/**
 * Applies a reloaded config file to a running controller. A valid file: its policies replace
 * the file's policies in the live set (the next pass follows them), each changed service gets an
 * audit entry naming the fields, and fields that need a restart are named in a log line and the
 * audit. An invalid file changes nothing; the problems (file:line:col: field: why) are logged and
 * audited. Counted in spillway_config_reloads_total{result}. Audited by the leader only (see
 * `isLeader`); every replica logs.
 */
export class ConfigReloads {
  /** The config in force: the start-up one with the live fields of the last valid reload. */
  config: SpillwayConfig;
  /** The last refused reload's problems, one per line; null after a valid one. */
  lastError: string | null = null;
  private readonly logger: Logger;
  private readonly reloads: Counter<'result'>;
  private readonly lastSuccess: Gauge;
  private readonly successful: Gauge;

  constructor(private readonly deps: ConfigReloadsDeps) {
    this.config = deps.config;
    this.logger = deps.logger.child({ component: 'config-reload' });
    const registers = [deps.registry];
    this.reloads = new Counter({
      name: 'spillway_config_reloads_total',
      help: 'Config file reloads, by result: applied (something changed), unchanged, invalid (kept the running config)',
      labelNames: ['result'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'spillway_config_last_reload_success_timestamp_seconds',
      help: 'When the config file was last loaded successfully (start or reload)',
      registers,
    });
    this.successful = new Gauge({
      name: 'spillway_config_last_reload_successful',
      help: '1 if the last reload of the config file was valid, 0 if it was refused',
      registers,
    });
    this.lastSuccess.setToCurrentTime();
    this.successful.set(1);
  }

  async apply(reload: ConfigReload): Promise<void> {
    if (!reload.ok) return this.refuse(reload);
    const plan = planReload(this.config, reload.config);
    this.config = plan.next;
    const change = this.deps.policies.replaceFile(plan.next.policies);
    this.lastError = null;
    this.successful.set(1);
    this.lastSuccess.setToCurrentTime();
    const changed = plan.live.length > 0 || plan.restart.length > 0;
    this.reloads.inc({ result: changed ? 'applied' : 'unchanged' });
    const audited = this.deps.isLeader();
    this.logger.info(
      { file: reload.file, trigger: reload.trigger, applied: plan.live, needRestart: plan.restart, audited },
      changed ? 'config reloaded' : 'config reloaded: nothing changed',
    );
    if (plan.restart.length > 0) {
      this.logger.warn(
        { file: reload.file, fields: plan.restart },
        `config fields changed that only apply at start (${plan.restart.join(', ')}): restart to apply them; running with the old values`,
      );
    }
    if (audited) await this.auditApplied(reload, change, plan.restart);
  }

  private async refuse(reload: Extract<ConfigReload, { ok: false }>): Promise<void> {
    const lines = reload.error.problems.map((problem) => formatProblem(reload.file, problem));
    this.lastError = lines.join('\n');
    this.reloads.inc({ result: 'invalid' });
    this.successful.set(0);
    const audited = this.deps.isLeader();
    this.logger.error(
      { file: reload.file, trigger: reload.trigger, problems: lines, audited },
      `config reload refused, running config kept: ${lines[0] ?? 'invalid'}`,
    );
    if (!audited) return;
    await this.record(`config reload refused, running config kept: ${lines.join('; ')}`, undefined, {
      file: reload.file,
      problems: lines,
    });
  }

  private async auditApplied(
    reload: Extract<ConfigReload, { ok: true }>,
    change: PolicySetChange,
    restart: readonly string[],
  ): Promise<void> {
    const from = `config reload (${reload.trigger}) of ${reload.file}`;
    const details = { file: reload.file, trigger: reload.trigger };
    for (const service of change.added) await this.record(`${from}: policy added`, service, details);
    for (const { service, fields } of change.changed)
      await this.record(`${from}: policy changed (${fields.join(', ')})`, service, { ...details, fields });
    for (const service of change.removed) await this.record(`${from}: policy removed`, service, details);
    if (restart.length > 0)
      await this.record(`${from}: ${restart.join(', ')} changed; they apply at the next restart`, undefined, {
        ...details,
        needRestart: restart,
      });
  }

  /** Audit failures are logged, not thrown: the reload itself has been applied. */
  private async record(message: string, service?: string, details?: Record<string, unknown>): Promise<void> {
    try {
      await this.deps.audit.append({
        at: new Date().toISOString(),
        actor: 'config-reload',
        kind: 'api',
        ...(service ? { service } : {}),
        message,
        ...(details ? { details } : {}),
      });
    } catch (error) {
      this.logger.warn({ err: error, message }, 'config reload applied but its audit entry was not written');
    }
  }
}
