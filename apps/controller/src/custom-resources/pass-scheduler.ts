/**
 * Runs a reconcile pass over watched objects one at a time: a pass asked for while one runs
 * runs once more right after it (any number of asks in between make that one pass, since a
 * pass reads the latest objects); a timer asks every `intervalMs`. A failed pass is reported
 * and the next one tries again.
 */
export class PassScheduler {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly options: { readonly intervalMs: number; readonly onError: (error: unknown) => void },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.request(), this.options.intervalMs);
  }

  /** Runs a pass now, or right after the running one. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch(this.options.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /** No more timed passes; resolves once the running pass (and the one asked for after it) is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.running) await this.running;
  }
}
