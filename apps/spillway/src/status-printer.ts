/** At most this much wall time passes without a status line while `spillway up` runs. */
export const HEARTBEAT_MS = 30_000;

/** The simulated clock that starts each demo status line, e.g. `[sim 00:04:20] `. */
const CLOCK_PREFIX = /^\[sim [^\]]*\] /;

/**
 * Decides which status lines reach the terminal: a line whose content (everything but its clock)
 * differs from the last one printed for its subject, and every line again once `heartbeatMs` of
 * wall time passed without output, so a quiet terminal still shows the process is alive.
 * Pure: the caller gives the time and writes what comes back.
 */
export class StatusPrinter {
  private readonly lastPrinted = new Map<string, string>();
  private lastOutputMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly heartbeatMs: number = HEARTBEAT_MS) {}

  /** The lines to print now (maybe none) out of the current status, one line per subject. */
  next(lines: readonly string[], nowMs: number): string[] {
    const heartbeat = nowMs - this.lastOutputMs >= this.heartbeatMs;
    const changed = lines.filter((line) => this.lastPrinted.get(subjectOf(line)) !== contentOf(line));
    const out = heartbeat ? [...lines] : changed;
    for (const line of out) this.lastPrinted.set(subjectOf(line), contentOf(line));
    if (out.length > 0) this.lastOutputMs = nowMs;
    return out;
  }
}

/** A status line without its clock: what must change for the line to be printed again. */
export function contentOf(line: string): string {
  return line.replace(CLOCK_PREFIX, '');
}

/** What a line is about: its first word after the clock (the service). */
function subjectOf(line: string): string {
  return contentOf(line).split(' ', 1)[0] ?? '';
}

/**
 * With real clusters `spillway up` prints the catalog summary as it changes. A new catalog
 * version whose summary reads the same (an endpoint's weight or labels moved, not the counts a
 * person sees) is not printed again.
 */
export class CatalogSummaryPrinter {
  private last: string | undefined;

  /** The summary to print, or undefined when it reads as the last one did (its version aside). */
  next(summary: string): string | undefined {
    const content = summary.replace(/^catalog v\d+/, 'catalog');
    if (content === this.last) return undefined;
    this.last = content;
    return summary;
  }
}
