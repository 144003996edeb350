import { createLogger, type Logger } from '@spillway/observability';
import { RecordingSink } from '@spillway/test/support/recording-sink';
import type { ServiceEndpoints } from '../src/source.js';

/** A RecordingSink that also logs which keys each `replaceServices` carried. */
export class LoggingSink extends RecordingSink {
  readonly replaced: string[][] = [];

  override replaceServices(services: ServiceEndpoints): void {
    this.replaced.push([...services.keys()].sort());
    super.replaceServices(services);
  }
}

/** A logger whose warnings land in `warnings` instead of stdout. */
export function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = createLogger('test', {
    level: 'warn',
    hooks: {
      logMethod(args) {
        warnings.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
      },
    },
  });
  return { logger, warnings };
}

/** Fast recovery for tests; `waitMs` long enough that a timely answer proves a wake-up. */
export const TEST_TUNING = {
  waitMs: 30_000,
  rateLimit: { burst: 2, intervalMs: 20 },
  backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.5 },
  timeoutGraceMs: 2_000,
} as const;
