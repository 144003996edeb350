/**
 * A clock and timer the test moves by hand, so grace periods and deadlines need no waiting and
 * never run out early on a busy machine. Pass `now` and `setTimer` where a part takes them.
 */
export class ManualClock {
  private time = 1_700_000_000_000;
  private timers: { at: number; callback: () => void; cancelled: boolean }[] = [];

  readonly now = (): number => this.time;

  readonly setTimer = (callback: () => void, ms: number): (() => void) => {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };

  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((timer) => timer.at <= this.time && !timer.cancelled);
    this.timers = this.timers.filter((timer) => timer.at > this.time && !timer.cancelled);
    for (const timer of due) timer.callback();
  }
}
