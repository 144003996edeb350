import type { Logger } from '@spillway/observability';

/**
 * Logs each distinct warning once: a bad service name is seen on every directory answer and
 * would otherwise flood the log. Bounded so a registry full of churning bad names cannot
 * grow it without limit (past the bound, warnings simply repeat).
 */
export class WarnOnce {
  private readonly seen = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly limit = 1_000,
  ) {}

  warn(message: string): void {
    if (this.seen.has(message)) return;
    if (this.seen.size >= this.limit) this.seen.clear();
    this.seen.add(message);
    this.logger.warn(message);
  }
}
