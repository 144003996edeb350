import type { Denial } from '@spillway/auth';
import { Counter, type Logger, type Registry } from '@spillway/observability';
import type { AuditLog } from '@spillway/state';

export interface DenialAuditOptions {
  /** Denials recorded one by one per remote address per minute (default 10). */
  readonly perRemotePerMinute?: number;
  /** Denials recorded one by one per minute in all (default 60). */
  readonly perMinute?: number;
  /** Remote addresses counted per minute (default 1,000); beyond, only the total is. */
  readonly maxRemotes?: number;
  readonly now?: () => number;
}

const MINUTE_MS = 60_000;

/**
 * Audits refused requests (401/403) in the `denial` class, which has its own cap, so refused
 * requests never evict an operator's or the controller's entries. Bounded besides: per minute
 * at most `perRemotePerMinute` entries per remote address and `perMinute` in all; what is over is
 * counted and written as one summary entry when the minute ends. Every denial counts in
 * `spillway_http_denied_total{reason,route}` (route is the pattern, so the labels stay few).
 */
export class DenialAudit {
  private readonly denied: Counter<'reason' | 'route'>;
  private readonly perRemote: number;
  private readonly perMinute: number;
  private readonly maxRemotes: number;
  private readonly now: () => number;
  private window = -1;
  private recorded = 0;
  private suppressed = 0;
  private readonly byRemote = new Map<string, number>();
  /** Writes the minute's summary when a flood stops, not only at the next denial. */
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditLog,
    registry: Registry,
    private readonly logger: Logger,
    options: DenialAuditOptions = {},
  ) {
    this.denied = new Counter({
      name: 'spillway_http_denied_total',
      help: 'Requests refused for a missing or unknown token (401) or a missing role (403)',
      labelNames: ['reason', 'route'],
      registers: [registry],
    });
    this.perRemote = options.perRemotePerMinute ?? 10;
    this.perMinute = options.perMinute ?? 60;
    this.maxRemotes = options.maxRemotes ?? 1000;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.roll(this.now()), MINUTE_MS / 4);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.roll(Number.POSITIVE_INFINITY);
  }

  /** The auth hook's `onDenied`: never throws, never waits. */
  readonly onDenied = (denial: Denial): void => {
    this.denied.inc({ reason: denial.reason, route: denial.route });
    const now = this.now();
    this.roll(now);
    const seen = this.byRemote.get(denial.remoteAddress);
    if (seen === undefined && this.byRemote.size >= this.maxRemotes) {
      this.suppressed++;
      return;
    }
    this.byRemote.set(denial.remoteAddress, (seen ?? 0) + 1);
    if ((seen ?? 0) >= this.perRemote || this.recorded >= this.perMinute) {
      this.suppressed++;
      return;
    }
    this.recorded++;
    this.append(
      now,
      denial.principal ?? 'anonymous',
      `${denial.status} ${denial.method} ${denial.route}: ${denial.detail}`,
      {
        status: denial.status,
        reason: denial.reason,
        remoteAddress: denial.remoteAddress,
        method: denial.method,
        route: denial.route,
      },
    );
  };

  /** A new minute: summarise what the last one did not record one by one, start counting afresh. */
  private roll(now: number): void {
    const window = Math.floor(now / MINUTE_MS);
    if (window === this.window) return;
    if (this.suppressed > 0) {
      // At stop (now = ∞) the summary is stamped with the real time.
      if (!Number.isFinite(now)) now = this.now();
      const top = [...this.byRemote].sort((a, b) => b[1] - a[1]).slice(0, 10);
      this.append(
        now,
        'spillway',
        `${this.suppressed} more denied requests in the last minute, not recorded one by one`,
        {
          suppressed: this.suppressed,
          remotes: this.byRemote.size,
          busiest: Object.fromEntries(top),
        },
      );
    }
    this.window = window;
    this.recorded = 0;
    this.suppressed = 0;
    this.byRemote.clear();
  }

  private append(now: number, actor: string, message: string, details: Record<string, unknown>): void {
    this.audit
      .append({ at: new Date(now).toISOString(), actor, kind: 'denial', message, details })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not audit a denied request'));
  }
}
