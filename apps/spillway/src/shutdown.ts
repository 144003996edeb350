import type { Logger } from '@spillway/observability';

/**
 * How long a stop may take before the process exits anyway. Each service bounds its own steps
 * (the controller's job workers get 5 s to finish, Redis calls time out); this is the backstop
 * for whatever still hangs, e.g. a close waiting on a Redis that is down or frozen.
 */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 12_000;

/**
 * Stops the services on SIGINT/SIGTERM, once, then exits; a second signal exits at once, and so
 * does a stop that outlasts `deadlineMs` (exit code 1, logged).
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  deadlineMs: number = DEFAULT_SHUTDOWN_DEADLINE_MS,
): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    const started = performance.now();
    logger.info({ signal }, 'shutting down');
    const backstop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, deadlineMs);
    backstop.unref();
    stop().then(
      () => {
        logger.info({ tookMs: Math.round(performance.now() - started) }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
