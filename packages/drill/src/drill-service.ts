import { randomUUID } from 'node:crypto';
import type { Logger } from '@spillway/observability';
import type { DrillFile, DrillMode } from './drill-file.js';
import { type DrillProgress, runDrill } from './drill-runner.js';
import type { DrillWorld } from './drill-world.js';
import type { DrillReport } from './evaluate.js';

/** A drill as the API shows it: progress while it runs, the report once it is done. */
export interface DrillRunView {
  readonly id: string;
  readonly name: string;
  readonly mode: DrillMode;
  readonly service: string;
  readonly state: 'running' | 'done';
  readonly startedAt: string;
  readonly actor: string;
  readonly progress: DrillProgress;
  readonly report?: DrillReport;
}

/** Another drill is running: drills would break each other's measurements. */
export class DrillConflictError extends Error {
  constructor(readonly running: string) {
    super(`drill ${running} is still running; abort it or wait for its report`);
    this.name = 'DrillConflictError';
  }
}

interface Entry {
  /** Start order; the cursor of GET /v1/drills pages. */
  readonly seq: number;
  view: DrillRunView;
  readonly abort: AbortController;
  readonly done: Promise<DrillReport>;
}

export interface DrillServiceOptions {
  /** The world for a drill's mode; throws (with a reason for the caller) when this process has none. */
  readonly world: (mode: DrillMode) => DrillWorld;
  readonly logger: Logger;
  /** How many finished drills to keep for GET (default 50). */
  readonly keep?: number;
}

export interface DrillPage {
  /** Newest first. */
  readonly drills: DrillRunView[];
  /** Pass as `cursor` for the next (older) page; null at the end. */
  readonly next: string | null;
}

/** Runs drills one at a time and keeps their reports for the API. */
export class DrillService {
  private readonly runs = new Map<string, Entry>();
  private started = 0;

  constructor(private readonly options: DrillServiceOptions) {}

  /** Starts a drill; throws DrillConflictError while one runs, or the world's reason it cannot run here. */
  start(drill: DrillFile, actor: string): DrillRunView {
    const running = [...this.runs.values()].find((entry) => entry.view.state === 'running');
    if (running) throw new DrillConflictError(running.view.id);
    const world = this.options.world(drill.mode);
    const id = `drill-${randomUUID().slice(0, 8)}`;
    const abort = new AbortController();
    const view: DrillRunView = {
      id,
      name: drill.name,
      mode: drill.mode,
      service: drill.target.service,
      state: 'running',
      startedAt: new Date().toISOString(),
      actor,
      progress: {
        phase: 'starting probes',
        elapsedSeconds: 0,
        durationSeconds: drill.durationSeconds,
        requests: 0,
        failed: 0,
        last: 'queued',
      },
    };
    let latest: DrillProgress = view.progress;
    // runDrill reports progress synchronously before it returns: keep it until the entry exists.
    let entry: Entry | undefined;
    const done = runDrill(drill, {
      id,
      world,
      logger: this.options.logger.child({ component: 'drill' }),
      signal: abort.signal,
      onProgress: (progress) => {
        latest = progress;
        if (entry) entry.view = { ...entry.view, progress };
      },
    });
    const started: Entry = { seq: ++this.started, view: { ...view, progress: latest }, abort, done };
    entry = started;
    this.runs.set(id, started);
    this.options.logger.info({ drill: id, name: drill.name, mode: drill.mode, actor }, 'drill started');
    done.then(
      (report) => {
        started.view = { ...started.view, state: 'done', report };
        this.options.logger.info({ drill: id, outcome: report.outcome }, 'drill finished');
        this.forgetOld();
      },
      (error: unknown) => {
        // runDrill turns failures into an `error` report; this is a bug path, kept visible.
        this.options.logger.error({ drill: id, err: error }, 'drill runner failed');
        started.view = { ...started.view, state: 'done' };
      },
    );
    return started.view;
  }

  get(id: string): DrillRunView | undefined {
    return this.runs.get(id)?.view;
  }

  list(): DrillRunView[] {
    return [...this.runs.values()].map((entry) => entry.view).reverse();
  }

  /** `limit` drills started before the one `cursor` names (a `next` from an earlier page), newest first. */
  page(query: { limit: number; cursor?: number }): DrillPage {
    const older = [...this.runs.values()]
      .filter((entry) => query.cursor === undefined || entry.seq < query.cursor)
      .reverse();
    const page = older.slice(0, query.limit);
    const last = page.at(-1);
    return {
      drills: page.map((entry) => entry.view),
      next: older.length > page.length && last ? String(last.seq) : null,
    };
  }

  /** Rolls the drill back at once; false when there is no such running drill. */
  abort(id: string): boolean {
    const entry = this.runs.get(id);
    if (entry?.view.state !== 'running') return false;
    entry.abort.abort();
    return true;
  }

  /** Resolves with the report once the drill is done. */
  async report(id: string): Promise<DrillReport | undefined> {
    return this.runs.get(id)?.done;
  }

  /** Aborts whatever runs and waits for its rollback (process shutdown). */
  async stop(): Promise<void> {
    const running = [...this.runs.values()].filter((entry) => entry.view.state === 'running');
    for (const entry of running) entry.abort.abort();
    await Promise.allSettled(running.map((entry) => entry.done));
  }

  private forgetOld(): void {
    const keep = this.options.keep ?? 50;
    const done = [...this.runs.entries()].filter(([, entry]) => entry.view.state === 'done');
    for (const [id] of done.slice(0, Math.max(0, done.length - keep))) this.runs.delete(id);
  }
}
